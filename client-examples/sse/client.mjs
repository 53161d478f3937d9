// GraphQL over Server-Sent Events with the `graphql-sse` client: what a browser or Node app
// uses where WebSockets are blocked. Shared by `ticker.mjs` and the tests.
//
// ZEBRAT_URL   http base, e.g. http://127.0.0.1:8000 (the default)
import { createClient } from 'graphql-sse';

export function baseUrl() {
  return (process.env.ZEBRAT_URL ?? 'http://localhost:8000').replace(/\/+$/, '');
}

/**
 * A `graphql-sse` client for `/graphql/stream`. `token` is a function returning the current
 * access token (or undefined): it is called for every new stream, so a refreshed token is
 * picked up on reconnect. `singleConnection: true` carries every operation on one stream
 * (for HTTP/1 browsers, which allow six connections per host).
 */
export function sseClient({ token = () => undefined, singleConnection = false, ...rest } = {}) {
  return createClient({
    url: `${baseUrl()}/graphql/stream`,
    singleConnection,
    headers: async () => {
      const t = await token();
      return t ? { authorization: `Bearer ${t}` } : {};
    },
    ...rest,
  });
}

/** The first `count` results of `request`, then the subscription is closed. */
export async function take(client, request, count = 1) {
  const results = [];
  for await (const result of client.iterate(request)) {
    results.push(result);
    if (results.length >= count) break; // `break` closes the stream
  }
  return results;
}

/** One query or mutation over plain HTTP (login, set-up); throws on errors. */
export async function gql(query, variables = {}, token = undefined) {
  const res = await fetch(`${baseUrl()}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token && { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

export async function login(email, password) {
  const data = await gql(
    'mutation Login($input: LoginInput!) { login(input: $input) { accessToken userErrors { code message } } }',
    { input: { email, password } },
  );
  if (!data.login.accessToken) throw new Error(`login: ${JSON.stringify(data.login.userErrors)}`);
  return data.login.accessToken;
}
