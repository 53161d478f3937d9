// The trading flow with Apollo Client 4: queries and mutations over HTTP with the access token
// added to every request by a link, subscriptions over graphql-ws. Run it against a server:
//
//   ZEBRAT_URL=http://localhost:8000 npm run apollo
import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import type { OperationVariables } from '@apollo/client';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';

import { ApiError, type GraphQLApi, httpUrl, Session, type Variables, wsClient } from './api.js';
import { printReport, runFlow } from './flow.js';
import { isMain } from './main.js';

/** Apollo's errors as ApiError: a GraphQL error keeps its server code, anything else is NETWORK. */
function apiError(error: unknown): Error {
  if (CombinedGraphQLErrors.is(error)) {
    const first = error.errors[0];
    const code = typeof first?.extensions?.code === 'string' ? first.extensions.code : 'ERROR';
    return new ApiError(code, error.errors.map((e) => e.message).join('; '));
  }
  return error instanceof ApiError ? error : new ApiError('NETWORK', String(error));
}

export function apolloApi(session: Session): GraphQLApi {
  // The token is read per request, so a refreshed one is used from the next request on.
  const auth = new SetContextLink((prev) => ({ headers: { ...prev.headers, ...session.authorization() } }));
  const http = auth.concat(new HttpLink({ uri: httpUrl }));
  const ws = wsClient(session);
  const link = ApolloLink.split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
    },
    new GraphQLWsLink(ws),
    http,
  );
  // The cache normalizes every object by `__typename` + `id`; network-only asks the server
  // each time, which is what a script wants (a screen would read the cache first).
  const client = new ApolloClient({
    link,
    cache: new InMemoryCache(),
    defaultOptions: { query: { fetchPolicy: 'network-only' } },
  });

  return {
    name: 'Apollo Client',
    async query<R, V extends Variables>(query: TypedDocumentNode<R, V>, variables: V) {
      try {
        const { data } = await client.query<R, V & OperationVariables>({ query, variables });
        return data as R;
      } catch (error) {
        throw apiError(error);
      }
    },
    async mutate<R, V extends Variables>(mutation: TypedDocumentNode<R, V>, variables: V) {
      try {
        const { data } = await client.mutate<R, V & OperationVariables>({ mutation, variables });
        return data as R;
      } catch (error) {
        throw apiError(error);
      }
    },
    subscribe<R, V extends Variables>(
      query: TypedDocumentNode<R, V>,
      variables: V,
      onData: (data: R) => void,
      onError: (error: Error) => void,
    ) {
      const subscription = client.subscribe<R, V & OperationVariables>({ query, variables }).subscribe({
        next: (result) => (result.error ? onError(apiError(result.error)) : result.data && onData(result.data as R)),
        error: (error) => onError(apiError(error)),
      });
      return () => subscription.unsubscribe();
    },
    async close() {
      client.stop();
      await ws.dispose();
    },
  };
}

if (isMain(import.meta.url)) {
  const session = new Session();
  const api = apolloApi(session);
  try {
    printReport(await runFlow(api, session));
  } finally {
    await api.close();
  }
}
