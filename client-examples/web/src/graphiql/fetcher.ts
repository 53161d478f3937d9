// GraphiQL's fetcher: queries and mutations over POST /graphql, subscriptions over
// graphql-ws on /graphql/ws. Whatever the Headers tab holds goes with every HTTP request; its
// `Authorization` also goes in the socket's `connection_init` payload, which is where the
// server reads a subscription's token (one socket per distinct token).
import type { DocumentNode, OperationDefinitionNode } from 'graphql';
import type { Fetcher, FetcherReturnType } from '@graphiql/toolkit';
import { createClient, type Client } from 'graphql-ws';

type Params = {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
};
type Opts = { headers?: Record<string, unknown>; documentAST?: DocumentNode | null };

export function zebratFetcher(endpoint: string, socketPath: string): Fetcher {
  const sockets = new Map<string, Client>();
  const socketUrl = new URL(socketPath, location.href);
  socketUrl.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';

  const socketFor = (authorization: string): Client => {
    let client = sockets.get(authorization);
    if (!client) {
      client = createClient({
        url: socketUrl.toString(),
        connectionParams: authorization ? { authorization } : {},
        // 4403: the token was refused; retrying with the same one cannot help.
        shouldRetry: (e) => !(typeof e === 'object' && e !== null && (e as CloseEvent).code === 4403),
      });
      sockets.set(authorization, client);
    }
    return client;
  };

  return (params: Params, opts?: Opts): FetcherReturnType => {
    const headers = Object.fromEntries(
      Object.entries(opts?.headers ?? {}).map(([k, v]) => [k, String(v)]),
    );
    if (isSubscription(params, opts?.documentAST)) {
      const authorization = headers.Authorization ?? headers.authorization ?? '';
      return socketFor(authorization).iterate({
        query: params.query,
        operationName: params.operationName ?? undefined,
        variables: params.variables ?? undefined,
      }) as FetcherReturnType;
    }
    return fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...headers,
      },
      body: JSON.stringify(params),
    }).then((response) => response.json());
  };
}

function isSubscription(params: Params, doc?: DocumentNode | null): boolean {
  const ops = (doc?.definitions ?? []).filter(
    (d): d is OperationDefinitionNode => d.kind === 'OperationDefinition',
  );
  if (ops.length === 0) return /^\s*(#[^\n]*\n\s*)*subscription\b/.test(params.query);
  const op = params.operationName
    ? ops.find((o) => o.name?.value === params.operationName)
    : ops[0];
  return op?.operation === 'subscription';
}
