// An admin and a customer side by side: the admin closes the market and the customer's page
// says so within 2 s; a queued order is placed and cancelled; the admin reopens; a stock the
// admin creates appears on the customer's market page live. Then the other admin screens.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { go, launchBrowser, logIn, openPage, startServer, text } from './harness.mjs';

let server;
let browser;
let admin;
let customer;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  admin = await openPage(browser, server, { name: 'admin' });
  customer = await openPage(browser, server, { name: 'customer' });
  admin.page.on('dialog', (d) => void d.accept());
  await logIn(admin.page, server, 'admin@example.com', 'admin123');
  await logIn(customer.page, server, 'demo@example.com', 'demo123');
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function adminSection(label) {
  await go(admin.page, 'Admin');
  await admin.page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: label }).click();
}

test('closing the market reaches the customer within 2 s; a queued order is cancelled; reopening', async () => {
  const c = customer.page;
  const a = admin.page;
  await c.locator('.stock-card[data-symbol=MSFT] a').click();
  await c.getByRole('form', { name: 'Order ticket' }).waitFor();
  await c.locator('[data-testid=market-status][data-open=true]').waitFor();

  await adminSection('Hours & holidays');
  await a.getByLabel('Reason (shown to everyone)').fill('trying queued orders');
  await a.getByRole('button', { name: 'Close market now' }).click();
  await a.getByRole('status').filter({ hasText: 'The market is now closed' }).waitFor();
  const closedAt = Date.now();
  await c.locator('[data-testid=market-status][data-open=false]').waitFor({ timeout: 2_000 });
  assert.ok(Date.now() - closedAt <= 2_000);
  const strip = await text(c, '[data-testid=market-status]');
  assert.match(strip, /Market closed/);
  assert.match(strip, /trying queued orders/, 'it says why');
  assert.match(strip, /opens|until an administrator reopens it/, 'and when it opens');
  await customer.shot('market-closed.png');
  await admin.shot('admin-market.png');

  // The ticket says the order will queue; placing it queues it and reserves the cash.
  const ticket = c.getByRole('form', { name: 'Order ticket' });
  await ticket.getByLabel('Quantity (shares)').fill('3');
  await ticket.getByText('The market is closed: this order will queue').waitFor();
  await ticket.getByRole('button', { name: 'Buy 3 MSFT' }).click();
  await ticket.getByRole('status').filter({ hasText: 'Order queued' }).waitFor();
  await go(c, 'Orders');
  const queued = c.locator('table.orders tr[data-symbol=MSFT][data-status=QUEUED]');
  await queued.waitFor();
  await customer.shot('orders-queued.png');
  await queued.getByRole('button', { name: 'Cancel buy 3 MSFT' }).click();
  await c.getByRole('status').filter({ hasText: 'Cancelled: buy 3 MSFT' }).waitFor();
  await c.locator('table.orders tr[data-symbol=MSFT][data-status=CANCELED]').waitFor();
  await go(c, 'Cash');
  await c.locator('[data-testid=reserved]', { hasText: '$0.00' }).waitFor();

  // Reopen: the customer sees it, live.
  await a.getByRole('button', { name: 'Open market now' }).click();
  await c.locator('[data-testid=market-status][data-open=true]').waitFor({ timeout: 2_000 });
  admin.check();
  customer.check();
});

test('a stock the admin creates appears on the customer market page live', async () => {
  const c = customer.page;
  const a = admin.page;
  await go(c, 'Market');
  await c.locator('.stock-card').nth(11).waitFor();
  assert.equal(await c.locator('.stock-card[data-symbol=ZBR]').count(), 0);

  await adminSection('Stocks');
  const form = a.getByRole('form', { name: 'Create a stock' });
  // Refused first: the price is not a number.
  await form.getByLabel('Symbol').fill('ZBR');
  await form.getByLabel('Name', { exact: true }).fill('Zebrat Holdings');
  await form.getByLabel('Initial price (USD)').fill('abc');
  await form.getByRole('button', { name: 'Create' }).click();
  await form.locator('.alert.error, .field-error').first().waitFor();
  await form.getByLabel('Initial price (USD)').fill('42.50');
  await form.getByLabel('Volatility / day').fill('0.03');
  await form.getByRole('button', { name: 'Create' }).click();
  await form.getByRole('status').filter({ hasText: 'Created ZBR at $42.50' }).waitFor({ timeout: 30_000 });
  await a.locator('table.admin-stocks tr[data-symbol=ZBR]').waitFor();

  // No reload on the customer's side: the next tick brings it.
  await c.locator('.stock-card[data-symbol=ZBR]').waitFor({ timeout: 10_000 });
  await customer.shot('market-new-stock.png');

  // Halt and resume.
  await a.getByRole('button', { name: 'Halt ZBR' }).click();
  await a.locator('table.admin-stocks tr[data-symbol=ZBR] .badge', { hasText: 'halted' }).waitFor();
  await admin.shot('admin-stocks.png');
  await a.getByRole('button', { name: 'Resume ZBR' }).click();
  await a.getByRole('button', { name: 'Halt ZBR' }).waitFor();
  admin.check();
  customer.check();
});

test('the admin screens: statistics, users, hours, holidays, audit log, candles', async () => {
  const a = admin.page;

  await go(a, 'Admin');
  await a.locator('[data-testid=admin-stats]').waitFor();
  const first = await text(a, '[data-testid=stats-at]');
  await a.waitForFunction((old) => document.querySelector('[data-testid=stats-at]')?.textContent !== old, first, { timeout: 12_000 });
  await admin.shot('admin-stats.png');

  // Users: search, open one, change the role, reset the password (shown once).
  await adminSection('Users');
  await a.getByLabel('Search').fill('demo');
  await a.getByRole('button', { name: 'Search' }).click();
  // Until the search answers, the unfiltered page is still on screen.
  await a.waitForFunction(() => {
    const rows = [...document.querySelectorAll('table.users tbody tr')];
    return rows.length === 1 && rows[0].getAttribute('data-email') === 'demo@example.com';
  });
  await admin.shot('admin-users.png');
  await a.getByRole('link', { name: 'demo@example.com' }).click();
  await a.getByRole('heading', { name: /Dana Demo/ }).waitFor();
  // A role change closes the user's sockets (4403); their tab refreshes its token, which
  // carries the new role, and shows the Admin tab without logging in again.
  const c = customer.page;
  const adminTab = c.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin', exact: true });
  await a.getByRole('button', { name: 'Make admin' }).click();
  await a.locator('[data-testid=user-role]', { hasText: 'ADMIN' }).waitFor();
  await adminTab.waitFor({ timeout: 10_000 });

  // A password reset ends the sessions: the customer's tab is back on the login page, saying
  // why (socket closed 4401, refresh refused).
  await a.getByRole('button', { name: 'Reset password' }).click();
  await a.locator('[data-testid=temporary-password] code').waitFor();
  const temporary = await text(a, '[data-testid=temporary-password] code');
  assert.ok(temporary.length >= 8, temporary);
  await admin.shot('admin-user.png');
  await c.getByRole('button', { name: 'Log in' }).waitFor({ timeout: 10_000 });
  await c.getByText('Your session has ended').waitFor();
  await customer.shot('session-ended.png');
  await a.getByRole('button', { name: 'Make customer' }).click();
  await a.locator('[data-testid=user-role]', { hasText: 'CUSTOMER' }).waitFor();
  // The temporary password works, and the role is back to customer.
  await logIn(c, server, 'demo@example.com', temporary);
  assert.equal(await adminTab.count(), 0);

  // Hours and holidays.
  await adminSection('Hours & holidays');
  const friday = a.getByRole('form', { name: 'Friday hours' });
  await friday.getByLabel('Closes').fill('13:00');
  await friday.getByRole('button', { name: 'Save' }).click();
  await friday.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
  const holiday = a.getByRole('form', { name: 'Add a holiday' });
  await holiday.getByLabel('Date').fill('2031-11-28');
  await holiday.getByLabel('Name').fill('Day after Thanksgiving');
  await holiday.getByRole('button', { name: 'Add holiday' }).click();
  await a.locator('.holidays li[data-date="2031-11-28"]').waitFor();
  // The same date twice is refused, next to the form.
  await holiday.getByLabel('Date').fill('2031-11-28');
  await holiday.getByLabel('Name').fill('Again');
  await holiday.getByRole('button', { name: 'Add holiday' }).click();
  await a.locator('[data-code=CONFLICT], [data-code=BAD_USER_INPUT]').first().waitFor();
  await a.getByRole('button', { name: 'Delete holiday Day after Thanksgiving on 2031-11-28' }).click();
  await a.locator('.holidays li[data-date="2031-11-28"]').waitFor({ state: 'detached' });

  // The audit log has all of it, filterable.
  await adminSection('Audit log');
  await a.locator('table.audit tbody tr').first().waitFor();
  await a.getByLabel('Action').selectOption('MARKET_HOLIDAY_ADD');
  await a.locator('table.audit tbody tr[data-action=MARKET_HOLIDAY_ADD]').first().waitFor();
  await a.waitForFunction(() =>
    [...document.querySelectorAll('table.audit tbody tr')].every((r) => r.getAttribute('data-action') === 'MARKET_HOLIDAY_ADD'),
  );
  await a.getByLabel('Action').selectOption('');
  await a.getByLabel('Actor').selectOption({ label: 'admin@example.com' });
  await a.locator('table.audit tbody tr[data-action=USER_RESET_PASSWORD]').waitFor();
  await admin.shot('admin-audit.png');

  // Candle coverage.
  await adminSection('Candles');
  await a.locator('table.candle-stats tr[data-symbol=AAPL][data-interval=H1]').waitFor();
  await admin.shot('admin-candles.png');
  admin.check();
});
