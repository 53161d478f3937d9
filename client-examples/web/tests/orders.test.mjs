// Working orders from the web app: the ticket's order types, prices and time in force (the
// form's own checks, then the server's refusals next to the field they name), open orders on
// the orders page with their terms and reservations, modified (replaceOrder) and cancelled;
// a modification that arrives after the order ended shows the server's CONFLICT; live
// updates turn an order EXECUTED or EXPIRED without a reload.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dollars, go, launchBrowser, logIn, openPage, startServer, text } from './harness.mjs';

let server;
let browser;
let tab;
const email = `olga-${Date.now()}@example.com`;
const password = 'working orders 123';

async function gql(query, variables, token) {
  const r = await fetch(server.url + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await r.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function tokenOf(who, secret) {
  const d = await gql('mutation($i: LoginInput!) { login(input: $i) { accessToken } }', { i: { email: who, password: secret } });
  return d.login.accessToken;
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const reg = await gql('mutation($i: RegisterInput!) { register(input: $i) { accessToken userErrors { message } } }', {
    i: { email, password, name: 'Olga Orders' },
  });
  await gql('mutation { deposit(input: { amount: "20000" }) { cash { balance } } }', {}, reg.register.accessToken);
  tab = await openPage(browser, server, { name: 'orders' });
  await logIn(tab.page, server, email, password);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** The current price on the stock page, in cents. */
async function priceCents(page) {
  return Math.round(dollars(await text(page, '.stock-head .price')) * 100);
}

const usd = (cents) => (cents / 100).toFixed(2);

test('the ticket places limit, stop and trailing-stop orders; refusals show next to their field', async () => {
  const { page } = tab;
  await page.locator('.stock-card[data-symbol=AAPL] a').click();
  const ticket = page.getByRole('form', { name: 'Order ticket' });
  await ticket.waitFor();

  // Market by default, as before: no price fields; IOC and FOK offered while the market is open.
  assert.equal(await ticket.getByLabel('Limit price (USD)').count(), 0);
  const tif = ticket.getByLabel('Time in force');
  assert.equal(await tif.locator('option[value=IOC]').isDisabled(), false);

  // Limit: the form's own check first (nothing sent), then a good order that works.
  await ticket.getByLabel('Order type').selectOption('LIMIT');
  await ticket.getByLabel('Quantity (shares)').fill('2');
  await ticket.getByRole('button', { name: 'Buy 2 AAPL' }).click();
  assert.match(await text(page, '#limit-price-error'), /Enter the limit price/);
  await ticket.getByLabel('Limit price (USD)').fill('12.345');
  await ticket.getByRole('button', { name: 'Buy 2 AAPL' }).click();
  assert.match(await text(page, '#limit-price-error'), /at most 2 decimals/);
  const half = Math.floor((await priceCents(page)) / 2);
  await ticket.getByLabel('Limit price (USD)').fill(usd(half));
  assert.match(await text(page, '#limit-price-hint'), new RegExp(`Reserves \\$${usd(half * 2).replace('.', '\\.')}`));
  await tif.selectOption('GTC');
  await ticket.locator('[data-testid=quote-explain]', { hasText: 'Works as an open order' }).waitFor();
  await tab.shot('ticket-limit.png');
  await ticket.getByRole('button', { name: 'Buy 2 AAPL' }).click();
  await ticket.getByRole('status').filter({ hasText: `Order open: buy 2 AAPL, limit $${usd(half)}, good till canceled` }).waitFor();

  // Stop: IOC and FOK are not offered (and the form says why); a buy stop below the price is
  // the server's refusal, shown next to the stop price.
  await ticket.getByLabel('Order type').selectOption('STOP');
  assert.equal(await tif.locator('option[value=IOC]').isDisabled(), true);
  assert.equal(await tif.locator('option[value=FOK]').isDisabled(), true);
  assert.match(await text(page, '#time-in-force-hint'), /market and limit orders only/);
  await ticket.getByLabel('Stop price (USD)').fill(usd(half));
  await ticket.getByRole('button', { name: 'Buy 2 AAPL' }).click();
  await page.locator('#stop-price-error[data-code=BAD_USER_INPUT]').waitFor();
  assert.match(await text(page, '#stop-price-error'), /buy stop must be above the current price/);
  assert.equal(await ticket.locator('.alert.error').count(), 0, 'the refusal is next to its field, not above the button');
  await tab.shot('ticket-stop-refused.png');

  // Trailing stop: by percent or by amount, one at a time.
  await ticket.getByLabel('Order type').selectOption('TRAILING_STOP');
  await ticket.getByText('Trail %').click();
  await ticket.getByLabel('Trail (percent)').fill('150');
  await ticket.getByRole('button', { name: 'Buy 2 AAPL' }).click();
  assert.match(await text(page, '#trail-error'), /above 0 and below 100/);
  await ticket.getByLabel('Trail (percent)').fill('5');
  await ticket.getByRole('button', { name: 'Buy 2 AAPL' }).click();
  await ticket.getByRole('status').filter({ hasText: /Order open: buy 2 AAPL, trail 5\.00% \(stop \$/ }).waitFor();
  tab.check();
});

test('open orders: terms, reservation, modify, a CONFLICT when the order ended first, cancel', async () => {
  const { page } = tab;
  await go(page, 'Orders');
  const limitRow = page.locator('table.orders tr[data-type=LIMIT][data-status=OPEN]');
  await limitRow.waitFor();
  const limit = dollars(await limitRow.locator('[data-testid=terms]').textContent());
  assert.match(await limitRow.locator('[data-testid=terms]').textContent(), /^limit \$/);
  assert.match(await limitRow.textContent(), /Good till canceled/);
  assert.equal(dollars(await limitRow.locator('[data-testid=reserved]').textContent()), Math.round(limit * 200) / 100);
  const trailRow = page.locator('table.orders tr[data-type=TRAILING_STOP][data-status=OPEN]');
  assert.match(await trailRow.locator('[data-testid=terms]').textContent(), /trail 5\.00% \(stop \$/);
  await page.getByLabel('Status').selectOption('OPEN');
  await page.waitForFunction(() =>
    [...document.querySelectorAll('table.orders tbody tr')].every((r) => r.getAttribute('data-status') === 'OPEN'),
  );
  await tab.shot('orders-open.png');
  await page.getByLabel('Status').selectOption('');

  // Modify: one more share at a lower limit. The old order is replaced, the new one open.
  const original = await limitRow.getAttribute('data-id');
  await limitRow.getByRole('button', { name: 'Modify buy 2 AAPL' }).click();
  const dialog = page.getByRole('dialog', { name: 'Modify buy 2 AAPL' });
  await dialog.getByLabel('Quantity (shares)').fill('3');
  const lower = Math.floor(limit * 80) / 100;
  await dialog.getByLabel('Limit price (USD)').fill(lower.toFixed(2));
  await tab.shot('orders-modify.png');
  await dialog.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('status').filter({ hasText: `Changed: buy 3 AAPL, limit $${lower.toFixed(2)} (open)` }).waitFor();
  // The new order joins the list when the page is read again (the account feed's event).
  const replacement = page.locator('table.orders tr[data-type=LIMIT][data-status=OPEN]');
  await page.locator(`table.orders tr[data-type=LIMIT][data-status=OPEN]:not([data-id="${original}"])`).waitFor();
  assert.equal(await replacement.count(), 1);
  assert.equal(dollars(await replacement.locator('[data-testid=reserved]').textContent()), Math.round(lower * 300) / 100);
  await page.locator('table.orders tr[data-type=LIMIT][data-status=CANCELED]', { hasText: 'replaced' }).waitFor();

  // The order ends while the change is on its way (here: cancelled from another session just
  // before the server reads the change): the server answers CONFLICT and the dialog says so.
  const token = await tokenOf(email, password);
  const id = await replacement.getAttribute('data-id');
  await page.route('**/graphql', async (route) => {
    if ((route.request().postData() ?? '').includes('mutation ReplaceOrder')) {
      await gql('mutation($id: ID!) { cancelOrder(input: { orderId: $id }) { order { status } } }', { id }, token);
    }
    await route.continue();
  });
  await replacement.getByRole('button', { name: 'Modify buy 3 AAPL' }).click();
  const again = page.getByRole('dialog', { name: 'Modify buy 3 AAPL' });
  await again.getByLabel('Limit price (USD)').fill((lower - 1).toFixed(2));
  await again.getByRole('button', { name: 'Save changes' }).click();
  await again.locator('.alert.error [data-code=CONFLICT]').waitFor();
  assert.match(await again.locator('.alert.error').textContent(), /open|working|ended|no longer/i);
  await again.locator('[data-testid=modify-ended]').waitFor();
  await tab.shot('orders-modify-conflict.png');
  await page.unroute('**/graphql');
  await again.getByRole('button', { name: 'Close' }).click();
  await page.locator(`table.orders tr[data-id="${id}"][data-status=CANCELED]`).waitFor();

  // Cancel an open order from the list: its reservation is released.
  await trailRow.getByRole('button', { name: 'Cancel buy 2 AAPL' }).click();
  await page.getByRole('status').filter({ hasText: 'Cancelled: buy 2 AAPL' }).waitFor();
  await page.locator('table.orders tr[data-type=TRAILING_STOP][data-status=CANCELED] [data-testid=reserved]', { hasText: '—' }).waitFor();
  assert.equal(await page.locator('table.orders tr[data-status=OPEN]').count(), 0);
  await go(page, 'Cash');
  await page.locator('[data-testid=reserved]', { hasText: '$0.00' }).waitFor();
  tab.check();
});

test('live: a limit order fills at the next round, and a DAY order expires at the close', async () => {
  const { page } = tab;
  await go(page, 'Market');
  await page.locator('.stock-card[data-symbol=MSFT] a').click();
  const ticket = page.getByRole('form', { name: 'Order ticket' });
  await ticket.getByLabel('Order type').selectOption('LIMIT');
  // Above the price: fills at the next tick round, at that round's price.
  const high = Math.round((await priceCents(page)) * 1.1);
  await ticket.getByLabel('Limit price (USD)').fill(usd(high));
  await ticket.getByRole('button', { name: 'Buy 1 MSFT' }).click();
  await ticket.getByRole('status').filter({ hasText: 'Order open: buy 1 MSFT' }).waitFor();
  // A DAY order far below: still working when the market closes.
  const low = Math.floor((await priceCents(page)) / 2);
  await ticket.getByLabel('Limit price (USD)').fill(usd(low));
  await ticket.getByRole('button', { name: 'Buy 1 MSFT' }).click();
  await ticket.getByRole('status').filter({ hasText: `limit $${usd(low)}, day` }).waitFor();

  await go(page, 'Orders');
  await page.locator('table.orders tr[data-symbol=MSFT][data-status=EXECUTED][data-type=LIMIT]').waitFor({ timeout: 20_000 });
  const day = page.locator('table.orders tr[data-symbol=MSFT][data-status=OPEN]');
  await day.waitFor();

  // The admin closes the market (an emergency closure is a close): DAY orders expire.
  const admin = await tokenOf('admin@example.com', 'admin123');
  await gql('mutation { setMarketOverride(input: { open: false, reason: "closing early" }) { marketState { isOpen } } }', {}, admin);
  await page.locator('table.orders tr[data-symbol=MSFT][data-status=EXPIRED] [data-testid=reserved]', { hasText: '—' }).waitFor({ timeout: 10_000 });
  await tab.shot('orders-expired.png');
  await gql('mutation { setMarketOverride(input: { open: true, reason: "demo mode" }) { marketState { isOpen } } }', {}, admin);
  tab.check();
});
