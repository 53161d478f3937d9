// The trading flow with urql: queries and mutations over HTTP with the access token in
// `fetchOptions` (called per request), subscriptions over graphql-ws through
// `subscriptionExchange`. Run it against a server:
//
//   ZEBRAT_URL=http://localhost:8000 npm run urql
import { Client, type CombinedError, fetchExchange, subscriptionExchange } from '@urql/core';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';

import { ApiError, fromGraphQLErrors, type GraphQLApi, httpUrl, Session, type Variables, wsClient } from './api.js';
import { printReport, runFlow } from './flow.js';
import { isMain } from './main.js';

/** urql puts failures in `result.error` (it never throws): GraphQL errors or a network error. */
function apiError(error: CombinedError): ApiError {
  return error.graphQLErrors.length > 0
    ? fromGraphQLErrors(error.graphQLErrors)
    : new ApiError('NETWORK', error.networkError?.message ?? error.message);
}

export function urqlApi(session: Session): GraphQLApi {
  const ws = wsClient(session);
  const client = new Client({
    url: httpUrl,
    // No cacheExchange: every operation goes to the server. A screen would add
    // `@urql/exchange-graphcache` (normalized by `__typename` + `id`) here.
    exchanges: [
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return {
            subscribe(sink) {
              return { unsubscribe: ws.subscribe(input, sink) };
            },
          };
        },
      }),
    ],
    requestPolicy: 'network-only',
    // Queries go out as GET when they fit in a URL (urql's default); the server answers both.
    fetchOptions: () => ({ headers: session.authorization() }),
  });

  return {
    name: 'urql',
    async query<R, V extends Variables>(query: TypedDocumentNode<R, V>, variables: V) {
      const result = await client.query(query, variables).toPromise();
      if (result.error) throw apiError(result.error);
      return result.data as R;
    },
    async mutate<R, V extends Variables>(mutation: TypedDocumentNode<R, V>, variables: V) {
      const result = await client.mutation(mutation, variables).toPromise();
      if (result.error) throw apiError(result.error);
      return result.data as R;
    },
    subscribe<R, V extends Variables>(
      query: TypedDocumentNode<R, V>,
      variables: V,
      onData: (data: R) => void,
      onError: (error: Error) => void,
    ) {
      const { unsubscribe } = client.subscription(query, variables).subscribe((result) => {
        if (result.error) onError(apiError(result.error));
        else if (result.data) onData(result.data);
      });
      return unsubscribe;
    },
    async close() {
      await ws.dispose();
    },
  };
}

if (isMain(import.meta.url)) {
  const session = new Session();
  const api = urqlApi(session);
  try {
    printReport(await runFlow(api, session));
  } finally {
    await api.close();
  }
}
