// A new customer: signs up, deposits, sees a price move, buys from the ticket, sees the order
// and the position, sells part, withdraws; then the live feed survives a server restart.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dollars, go, launchBrowser, openPage, startServer, text } from './harness.mjs';

let server;
let browser;
let tab;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  tab = await openPage(browser, server, { name: 'customer' });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('a customer signs up, deposits, trades and withdraws', async () => {
  const { page } = tab;
  const email = `ann-${Date.now()}@example.com`;

  await page.goto(server.url + '/app');
  await page.getByRole('link', { name: 'Create an account' }).click();
  await tab.shot('login-signup.png');
  await page.getByLabel('Name').fill('Ann Example');
  await page.getByLabel('Email').fill(email);
  // Too short first: the server's refusal shows next to the field.
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.locator('#password-error').waitFor();
  assert.match(await text(page, '#password-error'), /at least 8/);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('heading', { name: 'Market' }).waitFor();
  assert.match(await text(page, '.top .who'), /Ann Example/);

  // The market: every stock, the market open (demo mode), live ticks.
  await page.locator('.stock-card').nth(11).waitFor();
  assert.equal(await page.locator('[data-testid=market-status]').getAttribute('data-open'), 'true');
  assert.match(await text(page, '[data-testid=market-status]'), /America\/New_York/);
  const before_ = await page.locator('.stock-card [data-testid=price]').allTextContents();
  await page.waitForFunction(
    (old) => {
      const now = [...document.querySelectorAll('.stock-card [data-testid=price]')].map((e) => e.textContent);
      return now.length === old.length && now.some((p, i) => p !== old[i]);
    },
    before_,
    { timeout: 15_000 },
  );
  assert.equal(await page.locator('[data-testid=socket-status]').getAttribute('data-state'), 'live');
  await tab.shot('market.png');

  // Cash: deposit, with a refused amount first.
  await go(page, 'Cash');
  const deposit = page.getByRole('form', { name: 'Deposit' });
  await deposit.getByLabel('Amount (USD)').fill('12.345');
  await deposit.getByRole('button', { name: 'Deposit' }).click();
  assert.match(await deposit.locator('.field-error').textContent(), /amount in dollars/);
  await deposit.getByLabel('Amount (USD)').fill('5000');
  await deposit.getByRole('button', { name: 'Deposit' }).click();
  await deposit.getByRole('status').filter({ hasText: 'Deposited $5,000.00' }).waitFor();
  await page.locator('[data-testid=balance]', { hasText: '$5,000.00' }).waitFor();
  await page.locator('table.ledger tr[data-type=DEPOSIT]').waitFor();

  // A stock page: chart, day figures, the ticket with a live quote.
  await go(page, 'Market');
  await page.locator('.stock-card[data-symbol=AAPL] a').click();
  await page.getByRole('heading', { level: 1, name: /AAPL/ }).waitFor();
  await page.locator('.candles canvas').first().waitFor();
  for (const label of ['4H', '1D', '1H']) {
    await page.getByRole('button', { name: label, exact: true }).click();
    assert.equal(await page.getByRole('button', { name: label, exact: true }).getAttribute('aria-pressed'), 'true');
  }
  assert.ok(dollars(await text(page, '[data-testid=day-high]')) >= dollars(await text(page, '[data-testid=day-low]')));
  const ticket = page.getByRole('form', { name: 'Order ticket' });
  await ticket.getByLabel('Quantity (shares)').fill('10');
  await ticket.locator('[data-testid=estimate]').waitFor();
  // More than the cash covers: the quote says so before anything is sent.
  await ticket.getByLabel('Quantity (shares)').fill('100000');
  await ticket.locator('.preview .warn[data-code=INSUFFICIENT_FUNDS]').waitFor();
  await ticket.getByRole('button', { name: /Buy 100000 AAPL/ }).click();
  await ticket.locator('[data-code=INSUFFICIENT_FUNDS]').last().waitFor();
  await ticket.getByLabel('Quantity (shares)').fill('10');
  await ticket.locator('.preview .warn').waitFor({ state: 'detached' });
  await tab.shot('stock.png');
  await ticket.getByRole('button', { name: 'Buy 10 AAPL' }).click();
  await ticket.getByRole('status').filter({ hasText: /Bought 10 AAPL at \$/ }).waitFor();

  // Orders and portfolio show it, without a reload.
  await go(page, 'Orders');
  await page.locator('table.orders tr[data-symbol=AAPL][data-status=EXECUTED]').waitFor();
  await tab.shot('orders.png');
  await go(page, 'Portfolio');
  const row = page.locator('table.positions tr[data-symbol=AAPL]');
  await row.waitFor();
  assert.match(await row.locator('[data-testid=shares]').textContent(), /^10/);
  await tab.shot('portfolio.png');

  // Sell part, from the position's link.
  await row.getByRole('link', { name: 'AAPL' }).click();
  await page.getByText('Sell', { exact: true }).click();
  await ticket.getByLabel('Quantity (shares)').fill('4');
  await ticket.getByRole('button', { name: 'Sell 4 AAPL' }).click();
  await ticket.getByRole('status').filter({ hasText: /Sold 4 AAPL at \$/ }).waitFor();
  // Selling more than is held is refused next to the quantity.
  await ticket.getByLabel('Quantity (shares)').fill('50');
  await ticket.getByRole('button', { name: 'Sell 50 AAPL' }).click();
  await ticket.locator('[data-code=INSUFFICIENT_SHARES]').first().waitFor();
  await go(page, 'Portfolio');
  await page.locator('table.positions tr[data-symbol=AAPL] [data-testid=shares]', { hasText: /^6/ }).waitFor();

  // Withdraw: too much first, then a little.
  await go(page, 'Cash');
  const withdraw = page.getByRole('form', { name: 'Withdraw' });
  await withdraw.getByLabel('Amount (USD)').fill('999999');
  await withdraw.getByRole('button', { name: 'Withdraw' }).click();
  await withdraw.locator('[data-code=INSUFFICIENT_FUNDS]').waitFor();
  await withdraw.getByLabel('Amount (USD)').fill('100');
  await withdraw.getByRole('button', { name: 'Withdraw' }).click();
  await withdraw.getByRole('status').filter({ hasText: 'Withdrew $100.00' }).waitFor();
  await page.locator('table.ledger tr[data-type=WITHDRAWAL]').waitFor();
  await tab.shot('cash.png');
  tab.check();
});

test('the live feed shows "reconnecting" while the server is away, then resumes', async () => {
  const { page } = tab;
  await go(page, 'Market');
  await page.locator('[data-testid=socket-status][data-state=live]').waitFor();
  const restarting = server.restart(3_000);
  await page.locator('[data-testid=socket-status][data-state=reconnecting]').waitFor({ timeout: 10_000 });
  await tab.shot('reconnecting.png');
  await restarting;
  await page.locator('[data-testid=socket-status][data-state=live]').waitFor({ timeout: 30_000 });
  // And prices move again.
  const seq = await text(page, '[data-testid=tick-seq]');
  await page.waitForFunction((old) => document.querySelector('[data-testid=tick-seq]')?.textContent !== old, seq, { timeout: 15_000 });
  tab.check();
});

test('a phone-width screen shows the market and the ticket', async () => {
  const phone = await openPage(browser, server, { viewport: { width: 390, height: 844 }, name: 'phone' });
  const { page } = phone;
  await page.goto(server.url + '/app/login');
  await page.getByLabel('Email').fill('demo@example.com');
  await page.getByLabel('Password').fill('demo123');
  await page.getByLabel('Password').press('Enter');
  await page.getByRole('heading', { name: 'Market' }).waitFor();
  await page.locator('.stock-card').first().waitFor();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no horizontal scrolling on a phone (page is ${width}px wide)`);
  await phone.shot('phone-market.png');
  await page.locator('.stock-card[data-symbol=MSFT] a').click();
  await page.getByRole('form', { name: 'Order ticket' }).waitFor();
  await phone.shot('phone-stock.png');
  phone.check();
  await phone.context.close();
});
