// One GraphQL client per logged-in user: urql with Graphcache, a normalized cache keyed by the
// API's global ids. Mutation payloads (the order, its trade, the cash, the position) and
// subscription events (TickBatch.stocks, OrderEvent, Portfolio, MarketState) are written into
// it, and every view of those objects updates itself: the app has no update code of its own.
import { Client, fetchExchange, mapExchange, subscriptionExchange } from '@urql/core';
import { cacheExchange, type KeyingConfig } from '@urql/exchange-graphcache';
import { createClient as createSocket, type Client as Socket } from 'graphql-ws';
import schema from '../../gql/schema.json';
import { refresh, session } from './auth';
import { hasCode } from './errors';
import { store } from './store';

/** `live`: connected; `reconnecting`: lost and retrying with backoff; `idle`: no feed open. */
export type SocketState = 'idle' | 'connecting' | 'live' | 'reconnecting';
export const socketState = store<SocketState>('idle');

// Objects without an id (payloads, connections, edges, TickBatch, OrderQuote, UserError…) are
// stored inside their parent. Derived from the schema: everything that does not implement Node.
function embeddedTypes(): KeyingConfig {
  const keys: KeyingConfig = {};
  const roots = ['Query', 'Mutation', 'Subscription'];
  for (const type of schema.__schema.types) {
    if (type.kind !== 'OBJECT' || roots.includes(type.name)) continue;
    const interfaces = 'interfaces' in type ? (type.interfaces as { name: string }[]) : [];
    if (!interfaces.some((i) => i.name === 'Node')) keys[type.name] = () => null;
  }
  return keys;
}

function socketUrl(): string {
  const url = new URL('/graphql/ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function isCloseEvent(e: unknown): e is { code: number; reason: string } {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'number';
}

export type Clients = { urql: Client; socket: Socket; dispose(): void };

export function makeClients(): Clients {
  let open: WebSocket | null = null;
  const socket = createSocket({
    url: socketUrl(),
    lazy: true,
    lazyCloseTimeout: 3_000,
    keepAlive: 10_000,
    // Read at every (re)connect, so a refreshed token is used.
    connectionParams: () => {
      const s = session.get();
      return s ? { authorization: `Bearer ${s.access}` } : {};
    },
    retryAttempts: Infinity,
    shouldRetry: () => true,
    // Exponential backoff with jitter: 0.5 s, 1 s, 2 s … capped at 15 s.
    retryWait: (retries) => sleep(Math.min(15_000, 500 * 2 ** retries) * (0.5 + Math.random() / 2)),
    on: {
      connecting: (isRetry) => socketState.set(isRetry ? 'reconnecting' : 'connecting'),
      opened: (ws) => {
        open = ws as WebSocket;
      },
      connected: () => socketState.set('live'),
      closed: (event) => {
        open = null;
        // 4401 (token expired, sessions revoked) and 4403 (token refused: role changed,
        // account deactivated): a retry with the same token cannot help. Refresh first; the
        // retry then connects with the new token, or the refresh fails and the session ends.
        if (isCloseEvent(event) && (event.code === 4401 || event.code === 4403) && session.get()) void refresh();
        socketState.set(isCloseEvent(event) && event.code === 1000 ? 'idle' : 'reconnecting');
      },
    },
  });

  // A refreshed token: reconnect with it now (4205 is retried; subscriptions resume).
  let token = session.get()?.access;
  const unwatch = session.subscribe((s) => {
    if (s && s.access !== token && open) open.close(4205, 'new token');
    token = s?.access;
  });

  const urql = new Client({
    url: '/graphql',
    preferGetMethod: false,
    requestPolicy: 'cache-first',
    fetchOptions: () => {
      const s = session.get();
      return s ? { headers: { authorization: `Bearer ${s.access}` } } : {};
    },
    exchanges: [
      mapExchange({
        onError(error) {
          // The access token was refused (expired while the tab slept): refresh, or log out.
          if (hasCode(error, 'UNAUTHENTICATED') && session.get()) void refresh();
        },
      }),
      cacheExchange({ schema, keys: embeddedTypes() }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe(sink) {
            let stopped = false;
            let stop = () => {};
            const run = () => {
              stop = socket.subscribe(
                { query: request.query ?? '', variables: request.variables, operationName: request.operationName },
                {
                  next: (value) => sink.next(value as never),
                  complete: () => {
                    if (!stopped) sink.complete();
                  },
                  error: (e) => {
                    if (stopped) return;
                    // 4401 (token expired / sessions revoked) and 4403 (token refused) end the
                    // socket for good: refresh once and resubscribe, or the session is over.
                    if (isCloseEvent(e) && (e.code === 4401 || e.code === 4403) && session.get()) {
                      void refresh().then((ok) => (ok && !stopped ? run() : sink.error(new Error(e.reason))));
                    } else if (Array.isArray(e)) {
                      sink.next({ errors: e } as never);
                      sink.complete();
                    } else {
                      sink.error(e instanceof Error ? e : new Error(isCloseEvent(e) ? `socket closed ${e.code}` : 'socket error'));
                    }
                  },
                },
              );
            };
            run();
            return {
              unsubscribe() {
                stopped = true;
                stop();
              },
            };
          },
        }),
      }),
    ],
  });

  return {
    urql,
    socket,
    dispose() {
      unwatch();
      void socket.dispose();
      socketState.set('idle');
    },
  };
}
