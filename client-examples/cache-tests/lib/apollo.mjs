// An Apollo Client as a trading screen would build it: InMemoryCache with `possibleTypes`
// generated from the schema and no type policies beyond pagination; queries and mutations
// over HTTP, subscriptions over graphql-ws. Every operation that leaves the process is logged
// in `network`, so a test can prove that a cached read caused no refetch.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition, relayStylePagination } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

import { schemaFacts } from './schema.mjs';
import { httpUrl, operationNameOf, wsUrl } from './server.mjs';

export function makeApollo(token) {
  const { possibleTypes } = schemaFacts();
  const network = [];

  const countingFetch = async (url, init = {}) => {
    network.push({ transport: 'http', operation: operationNameOf(url, init) });
    return fetch(url, init);
  };
  const http = new HttpLink({
    uri: httpUrl(),
    fetch: countingFetch,
    headers: { authorization: `Bearer ${token}` },
  });

  const ws = createClient({
    url: wsUrl(),
    webSocketImpl: WebSocket,
    connectionParams: () => ({ authorization: `Bearer ${token}` }),
    retryAttempts: 0,
  });
  const wsLink = new GraphQLWsLink(ws);
  const countingWs = new ApolloLink((operation, forward) => {
    network.push({ transport: 'ws', operation: operation.operationName ?? '?' });
    return forward(operation);
  }).concat(wsLink);

  const link = ApolloLink.split(
    ({ query }) => {
      const def = getMainDefinition(query);
      return def.kind === 'OperationDefinition' && def.operation === 'subscription';
    },
    countingWs,
    http,
  );

  const cache = new InMemoryCache({
    possibleTypes,
    typePolicies: {
      // Pagination only: the one policy a connection needs. Lists of another status are
      // kept apart.
      Query: { fields: { orders: relayStylePagination(['status']) } },
    },
  });

  const client = new ApolloClient({ link, cache });
  return {
    name: 'Apollo Client',
    client,
    cache,
    network,
    /** Over the network, and into the cache. */
    async query(query, variables = {}) {
      const { data } = await client.query({ query, variables, fetchPolicy: 'network-only' });
      return data;
    },
    /** From the cache alone (null when the cache can't answer it in full). */
    async read(query, variables = {}) {
      const { data } = await client.query({ query, variables, fetchPolicy: 'cache-only' });
      return data ?? null;
    },
    async mutate(mutation, variables = {}, update = undefined) {
      const { data } = await client.mutate({ mutation, variables, update });
      return data;
    },
    /** A screen's view of `query`, fed by the cache alone; `latest()` is its last result. */
    watch(query, variables = {}) {
      let latest = null;
      const sub = client
        .watchQuery({ query, variables, fetchPolicy: 'cache-only' })
        .subscribe({ next: (r) => (latest = r.data ?? latest) });
      return { latest: () => latest, stop: () => sub.unsubscribe() };
    },
    subscribe(query, variables, onData, onError) {
      const sub = client.subscribe({ query, variables }).subscribe({
        next: (r) => (r.error ? onError(r.error) : onData(r.data)),
        error: onError,
      });
      return () => sub.unsubscribe();
    },
    placeOrderUpdate: prependPlacedOrder,
    async close() {
      client.stop();
      await ws.dispose();
    },
  };
}

/**
 * The one piece of cache code a normalized cache needs that no schema can give: a new order's
 * membership in the cached `orders` lists (Relay says this with `@prependEdge`). Everything
 * else the order changes (cash, position, the order itself) lands by `__typename` + `id`.
 */
export function prependPlacedOrder(cache, { data }) {
  const order = data?.placeOrder?.order;
  if (!order) return;
  const ref = cache.identify(order);
  cache.modify({
    fields: {
      orders(existing, { storeFieldName, readField, toReference }) {
        if (!existing?.edges) return existing;
        const status = /"status":"([A-Z_]+)"/.exec(storeFieldName)?.[1];
        if (status && status !== order.status) return existing;
        if (existing.edges.some((e) => readField('id', e.node) === order.id)) return existing;
        const edge = { __typename: 'OrderEdge', cursor: '', node: toReference(ref) };
        const totalCount = typeof existing.totalCount === 'number' ? existing.totalCount + 1 : existing.totalCount;
        return { ...existing, totalCount, edges: [edge, ...existing.edges] };
      },
    },
  });
}
