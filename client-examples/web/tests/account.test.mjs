// The account screen: a password change refused per field (the form's own check, then the
// server's on the current and on the new password), then done. The tab that changed it goes
// on with the fresh session (requests and the live feed), another tab of the same account is
// logged out, and only the new password logs in.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { go, launchBrowser, logIn, openPage, startServer, text } from './harness.mjs';

let server;
let browser;
const email = `pat-${Date.now()}@example.com`;
const oldPassword = 'first password 123';
const newPassword = 'second password 456';

async function gql(query, variables, token) {
  const r = await fetch(server.url + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return r.json();
}

const LOGIN = 'mutation($i: LoginInput!) { login(input: $i) { accessToken } }';

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const reg = await gql('mutation($i: RegisterInput!) { register(input: $i) { accessToken } }', {
    i: { email, password: oldPassword, name: 'Pat Password' },
  });
  assert.ok(reg.data?.register?.accessToken, JSON.stringify(reg));
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('a password change: refusals per field, then the session goes on here and ends elsewhere', async () => {
  const tab = await openPage(browser, server, { name: 'account' });
  const other = await openPage(browser, server, { name: 'other-tab' });
  const { page } = tab;
  await logIn(page, server, email, oldPassword);
  await logIn(other.page, server, email, oldPassword);
  await other.page.locator('[data-testid=socket-status][data-state=live]').waitFor();

  // The account screen is behind the user's name in the header.
  await page.getByRole('link', { name: 'Pat Password' }).click();
  await page.getByRole('heading', { name: 'Account' }).waitFor();
  assert.equal(await text(page, '[data-testid=account-email]'), email);
  const form = page.getByRole('form', { name: 'Change password' });
  const submit = () => form.getByRole('button', { name: 'Change password' }).click();

  // The form's own check: the repeated password differs (nothing sent).
  await form.getByLabel('Current password').fill(oldPassword);
  await form.getByLabel('New password', { exact: true }).fill(newPassword);
  await form.getByLabel('New password again').fill('something else');
  await submit();
  assert.match(await text(page, '#repeat-password-error'), /differ/);

  // The server's: a wrong current password, then a new one too short.
  await form.getByLabel('Current password').fill('not my password');
  await form.getByLabel('New password again').fill(newPassword);
  await submit();
  await page.locator('#current-password-error[data-code=BAD_USER_INPUT]').waitFor();
  assert.equal(await page.locator('#new-password-error').count(), 0);
  await form.getByLabel('Current password').fill(oldPassword);
  await form.getByLabel('New password', { exact: true }).fill('short');
  await form.getByLabel('New password again').fill('short');
  await submit();
  await page.locator('#new-password-error[data-code=BAD_USER_INPUT]').waitFor();
  assert.match(await text(page, '#new-password-error'), /at least 8/);
  assert.equal(await page.locator('#current-password-error').count(), 0);
  await tab.shot('account-refused.png');

  // Done: this tab goes on.
  await form.getByLabel('New password', { exact: true }).fill(newPassword);
  await form.getByLabel('New password again').fill(newPassword);
  await submit();
  await form.getByRole('status').filter({ hasText: 'Password changed' }).waitFor();
  await tab.shot('account-changed.png');

  // The other tab's session ended: it is back on the login page, saying why.
  await other.page.getByRole('button', { name: 'Log in' }).waitFor({ timeout: 15_000 });
  await other.page.getByText('Your session has ended').waitFor();

  // This one: its socket reconnected with the fresh token, requests work, still logged in.
  await page.locator('[data-testid=socket-status][data-state=live]').waitFor({ timeout: 15_000 });
  await page.waitForTimeout(2_000);
  assert.equal(await page.getByRole('button', { name: 'Log in' }).count(), 0, 'still logged in');
  await go(page, 'Cash');
  await page.locator('[data-testid=balance]').waitFor();
  await go(page, 'Market');
  const seq = await text(page, '[data-testid=tick-seq]');
  await page.waitForFunction((old) => document.querySelector('[data-testid=tick-seq]')?.textContent !== old, seq, { timeout: 15_000 });
  assert.equal(await page.locator('[data-testid=socket-status]').getAttribute('data-state'), 'live');

  // Only the new password logs in.
  const refused = await gql(LOGIN, { i: { email, password: oldPassword } });
  assert.equal(refused.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  const accepted = await gql(LOGIN, { i: { email, password: newPassword } });
  assert.ok(accepted.data?.login?.accessToken, JSON.stringify(accepted));
  tab.check();
  other.check();
});
