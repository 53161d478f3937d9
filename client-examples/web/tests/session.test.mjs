// Tokens in memory: the access token is refreshed before it expires without the user noticing
// (requests and the live feed go on), and when the sessions are revoked the tab returns to the
// login page and says why.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { go, launchBrowser, logIn, openPage, startServer } from './harness.mjs';

let server;
let browser;

before(async () => {
  // Access tokens live 66 s: the app refreshes a minute early, so after about 6 s.
  server = await startServer({ ACCESS_TOKEN_TTL_SECS: '66' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function gql(query, variables, token) {
  const r = await fetch(server.url + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return r.json();
}

test('the token is refreshed silently; revoked sessions return the tab to the login page', async () => {
  const tab = await openPage(browser, server, { name: 'session' });
  const { page } = tab;
  const refreshes = [];
  page.on('request', (req) => {
    if (req.method() === 'POST' && (req.postData() ?? '').includes('mutation RefreshToken')) refreshes.push(Date.now());
  });
  const unauthenticated = [];
  page.on('response', async (res) => {
    if (!res.url().endsWith('/graphql')) return;
    const body = await res.text().catch(() => '');
    if (body.includes('UNAUTHENTICATED')) unauthenticated.push(body);
  });

  await logIn(page, server, 'demo@example.com', 'demo123');
  await page.locator('[data-testid=socket-status][data-state=live]').waitFor();
  const deadline = Date.now() + 20_000;
  while (refreshes.length === 0 && Date.now() < deadline) await page.waitForTimeout(250);
  assert.ok(refreshes.length >= 1, 'a silent refresh before the token expired');
  // The socket reconnects with the new token and the screens keep working.
  await page.locator('[data-testid=socket-status][data-state=live]').waitFor({ timeout: 10_000 });
  await go(page, 'Cash');
  await page.locator('[data-testid=balance]').waitFor();
  assert.deepEqual(unauthenticated, [], 'no request met an expired token');

  // Revoke every session of the user from elsewhere (logout with only the header).
  const login = await gql('mutation($i: LoginInput!) { login(input: $i) { accessToken } }', {
    i: { email: 'demo@example.com', password: 'demo123' },
  });
  const token = login.data.login.accessToken;
  const out = await gql('mutation { logout { revoked } }', {}, token);
  assert.equal(out.data?.logout?.revoked, true, JSON.stringify(out));
  await page.getByRole('button', { name: 'Log in' }).waitFor({ timeout: 15_000 });
  await page.getByText('Your session has ended').waitFor();
  assert.match(page.url(), /\/app\/login$/);
  tab.check();
  await tab.context.close();
});
