// An admin and a customer side by side: the admin closes the market and the customer's page
// says so within 2 s; a queued order is placed and cancelled; the admin reopens; a stock the
// admin creates appears on the customer's market page live. Then the other admin screens, the
// calendar's days of each kind, and an admin cancelling a customer's working order.
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

  await adminSection('Hours & calendar');
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
  await adminSection('Hours & calendar');
  const friday = a.getByRole('form', { name: 'Friday hours' });
  await friday.getByLabel('Closes').fill('13:00');
  await friday.getByRole('button', { name: 'Save' }).click();
  await friday.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
  const day = a.getByRole('form', { name: 'Add a calendar day' });
  await day.getByLabel('Date').fill('2031-11-28');
  await day.getByLabel('Name').fill('Day after Thanksgiving');
  await day.getByRole('button', { name: 'Add day' }).click();
  await a.locator('.holidays li[data-date="2031-11-28"][data-kind=HOLIDAY]').waitFor();
  // The same date twice is refused, next to the form.
  await day.getByLabel('Date').fill('2031-11-28');
  await day.getByLabel('Name').fill('Again');
  await day.getByRole('button', { name: 'Add day' }).click();
  await a.locator('[data-code=CONFLICT], [data-code=BAD_USER_INPUT]').first().waitFor();
  await a.getByRole('button', { name: 'Delete calendar day Day after Thanksgiving on 2031-11-28' }).click();
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

test('the calendar: holidays, early closes and open days listed, the applied calendar for a range', async () => {
  const a = admin.page;
  await adminSection('Hours & calendar');
  const day = a.getByRole('form', { name: 'Add a calendar day' });

  // An early close needs its closing time: the server's refusal shows next to it.
  await day.getByLabel('Date').fill('2031-12-31');
  await day.getByLabel('Name').fill('Year end');
  await day.getByLabel('Kind').selectOption('EARLY_CLOSE');
  await day.getByLabel('Closes at').fill('');
  await day.getByRole('button', { name: 'Add day' }).click();
  await a.locator('#day-close-error').waitFor();
  await day.getByLabel('Closes at').fill('14:00');
  await day.getByRole('button', { name: 'Add day' }).click();
  await a.getByRole('status').filter({ hasText: 'Listed 2031-12-31: Year end, closes at 14:00' }).waitFor();
  await a.locator('.holidays li[data-date="2031-12-31"][data-kind=EARLY_CLOSE]', { hasText: 'closes at 14:00' }).waitFor();

  // Open as usual on a day the exchange's rules close (Independence Day, a Friday in 2031).
  await day.getByLabel('Date').fill('2031-07-04');
  await day.getByLabel('Name').fill('Trading on the Fourth');
  await day.getByLabel('Kind').selectOption('OPEN');
  assert.equal(await day.getByLabel('Closes at').count(), 0, 'no closing time for an open day');
  await day.getByRole('button', { name: 'Add day' }).click();
  await a.locator('.holidays li[data-date="2031-07-04"][data-kind=OPEN]').waitFor();

  // A closed day.
  await day.getByLabel('Date').fill('2031-03-14');
  await day.getByLabel('Name').fill('Storm');
  await day.getByLabel('Kind').selectOption('HOLIDAY');
  await day.getByRole('button', { name: 'Add day' }).click();
  await a.locator('.holidays li[data-date="2031-03-14"][data-kind=HOLIDAY]').waitFor();

  // The calendar as the schedule applies it: a backwards range is refused next to "To".
  const range = a.getByRole('form', { name: 'Calendar range' });
  await range.getByLabel('From').fill('2031-12-31');
  await range.getByLabel('To').fill('2031-01-01');
  await range.getByRole('button', { name: 'Show' }).click();
  await a.locator('#calendar-to-error[data-code=BAD_USER_INPUT]').waitFor();
  await range.getByLabel('From').fill('2031-01-01');
  await range.getByLabel('To').fill('2031-12-31');
  await range.getByRole('button', { name: 'Show' }).click();
  const row = (date) => a.locator(`table.calendar tr[data-date="${date}"]`);
  await row('2031-12-31').waitFor();
  assert.equal(await row('2031-12-31').getAttribute('data-kind'), 'EARLY_CLOSE');
  assert.match(await row('2031-12-31').textContent(), /closes at 14:00.*Year end.*listed by an admin/);
  assert.equal(await row('2031-07-04').getAttribute('data-kind'), 'OPEN');
  assert.equal(await row('2031-07-04').getAttribute('data-source'), 'ADMIN');
  assert.equal(await row('2031-03-14').getAttribute('data-kind'), 'HOLIDAY');
  // The exchange's own days are there too: Thanksgiving closed, the day after closing early.
  assert.equal(await row('2031-11-27').getAttribute('data-kind'), 'HOLIDAY');
  assert.equal(await row('2031-11-27').getAttribute('data-source'), 'EXCHANGE_RULE');
  assert.equal(await row('2031-11-28').getAttribute('data-kind'), 'EARLY_CLOSE');
  await admin.shot('admin-calendar.png');

  // Deleting a listed day from the calendar gives the date back to the rules.
  await a.getByRole('button', { name: 'Delete Trading on the Fourth on 2031-07-04 from the calendar' }).click();
  await a.locator('table.calendar tr[data-date="2031-07-04"][data-source=EXCHANGE_RULE][data-kind=HOLIDAY]').waitFor();
  await a.locator('.holidays li[data-date="2031-07-04"]').waitFor({ state: 'detached' });
  admin.check();
});

test("an admin cancels a customer's working order with a reason; the customer sees it live", async () => {
  const a = admin.page;
  const c = customer.page;
  // The customer places a limit order far below the price: it works (OPEN).
  await go(c, 'Market');
  await c.locator('.stock-card[data-symbol=NVDA] a').click();
  const ticket = c.getByRole('form', { name: 'Order ticket' });
  await ticket.getByLabel('Order type').selectOption('LIMIT');
  await ticket.getByLabel('Limit price (USD)').fill('1.00');
  await ticket.getByLabel('Quantity (shares)').fill('5');
  await ticket.getByRole('button', { name: 'Buy 5 NVDA' }).click();
  await ticket.getByRole('status').filter({ hasText: 'Order open: buy 5 NVDA' }).waitFor();
  await go(c, 'Orders');
  await c.locator('table.orders tr[data-symbol=NVDA][data-status=OPEN]').waitFor();

  await adminSection('Users');
  await a.getByLabel('Search').fill('demo');
  await a.getByRole('button', { name: 'Search' }).click();
  await a.getByRole('link', { name: 'demo@example.com' }).click();
  await a.getByLabel('Status').selectOption('OPEN');
  const row = a.locator('table.user-orders tr[data-symbol=NVDA][data-status=OPEN]');
  await row.waitFor();
  await row.getByRole('button', { name: 'Cancel buy 5 NVDA for demo@example.com' }).click();
  const dialog = a.getByRole('dialog', { name: 'Cancel buy 5 NVDA' });
  // A reason is required.
  await dialog.getByRole('button', { name: 'Cancel the order' }).click();
  assert.match(await text(a, '#cancel-reason-error'), /Say why/);
  await dialog.getByLabel('Reason (shown to the owner)').fill('Risk check: price far from the market');
  await admin.shot('admin-cancel-order.png');
  await dialog.getByRole('button', { name: 'Cancel the order' }).click();
  await a.getByRole('status').filter({ hasText: "Canceled Dana Demo's order (buy 5 NVDA)" }).waitFor();
  await dialog.waitFor({ state: 'detached' });

  // The customer's list turns it CANCELED, with the reason, without a reload.
  const mine = c.locator('table.orders tr[data-symbol=NVDA][data-status=CANCELED]');
  await mine.waitFor({ timeout: 10_000 });
  assert.match(await mine.textContent(), /Risk check: price far from the market/);
  await customer.shot('orders-canceled-by-admin.png');
  admin.check();
  customer.check();
});
