// What the trading flow needs from a GraphQL client, whichever library is behind it: typed
// documents in, typed data out, failures as one error type with the server's code. apollo.ts
// and urql.ts each implement it in a few lines with their library's own calls.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';

/** The server to talk to: `ZEBRAT_URL` (default `http://localhost:8000`). */
export const baseUrl = (process.env.ZEBRAT_URL ?? 'http://localhost:8000').replace(/\/+$/, '');
export const httpUrl = `${baseUrl}/graphql`;
/** graphql-ws (the graphql-transport-ws protocol) lives beside it. */
export const wsUrl = `${httpUrl.replace(/^http/, 'ws')}/ws`;

export type Variables = Record<string, unknown>;

export interface GraphQLApi {
  readonly name: string;
  query<R, V extends Variables>(document: TypedDocumentNode<R, V>, variables: V): Promise<R>;
  mutate<R, V extends Variables>(document: TypedDocumentNode<R, V>, variables: V): Promise<R>;
  /** Calls `onData` with each event; the returned function unsubscribes. */
  subscribe<R, V extends Variables>(
    document: TypedDocumentNode<R, V>,
    variables: V,
    onData: (data: R) => void,
    onError: (error: Error) => void,
  ): () => void;
  close(): Promise<void>;
}

/**
 * A failed operation. `code` is the server's stable code: `extensions.code` of a top-level
 * GraphQL error (`UNAUTHENTICATED`, `RATE_LIMITED`, …) or the `code` of a payload's
 * `userErrors` (`INSUFFICIENT_FUNDS`, `CONFLICT`, …); `NETWORK` when no answer came.
 */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'ApiError';
  }
}

/** The first GraphQL error of an answer as an ApiError. */
export function fromGraphQLErrors(errors: readonly { message: string; extensions?: Record<string, unknown> }[]): ApiError {
  const first = errors[0];
  const code = typeof first?.extensions?.code === 'string' ? first.extensions.code : 'ERROR';
  return new ApiError(code, errors.map((e) => e.message).join('; '));
}

/** The tokens of one login. Both clients read `accessToken` for every request and socket. */
export class Session {
  accessToken: string | null = null;
  refreshToken: string | null = null;

  authorization(): Record<string, string> {
    return this.accessToken ? { authorization: `Bearer ${this.accessToken}` } : {};
  }
}

/**
 * One graphql-ws client per GraphQL client. The token travels in `connection_init`;
 * `connectionParams` is a function, so every new socket (a reconnect after the access token
 * was refreshed, say) sends the current one. A refused token closes the socket with 4403:
 * retrying it cannot help, so give up at once.
 */
export function wsClient(session: Session): WsClient {
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: () => session.authorization(),
    shouldRetry: (event) => !(event && typeof event === 'object' && 'code' in event && event.code === 4403),
    retryAttempts: 3,
  });
}
