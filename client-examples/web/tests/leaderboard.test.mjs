// Equity history and the leaderboard: the leaderboard name on the account screen (the form's
// own check, the server's BAD_USER_INPUT and CONFLICT under the field, set, left); the
// leaderboard's empty state before the first recording, then (once the engine records an
// instant, at a five-minute boundary: LEADERBOARD_WAIT=1 waits for one) the ranking brought by
// the feed, the viewer's row highlighted, a player who opted in after the recording, and
// "Load more"; the portfolio's equity chart with the live point and the period switch,
// matching the API. Not covered: history points appended by the feed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { go, launchBrowser, logIn, openPage, startServer, text } from './harness.mjs';

let server;
let browser;
const stamp = Date.now();
const password = 'leader password 123';
const kim = { email: `kim-${stamp}@example.com`, name: 'Kim Leader' };
const lee = { email: `lee-${stamp}@example.com`, name: 'Lee Leader' };
const max = { email: `max-${stamp}@example.com`, name: 'Max Late' };
const tokens = {};
// 21 more players, so the ranking has more than one page of 20.
const BOTS = 'ABCDEFGHJKMNPQRTUVWXY'.split('').map((l) => `Racer ${l}${l}`);

async function gql(query, variables, token) {
  const r = await fetch(server.url + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return r.json();
}

const REGISTER = 'mutation($i: RegisterInput!) { register(input: $i) { accessToken } }';
const UPDATE_ME = 'mutation($n: String) { updateMe(input: { leaderboardName: $n }) { user { leaderboardName } userErrors { code field message } } }';
const BOARD = 'query($p: HistoryPeriod!) { leaderboard(period: $p, first: 30) { asOf totalCount nodes { name } } }';

async function register(email, name) {
  const r = await gql(REGISTER, { i: { email, password, name } });
  assert.ok(r.data?.register?.accessToken, JSON.stringify(r));
  return r.data.register.accessToken;
}

async function optIn(token, name) {
  const r = await gql(UPDATE_ME, { n: name }, token);
  assert.deepEqual(r.data?.updateMe?.userErrors, [], JSON.stringify(r));
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  for (const p of [kim, lee, max]) tokens[p.email] = await register(p.email, p.name);
  await Promise.all(
    BOTS.map(async (name, i) => optIn(await register(`bot-${i}-${stamp}@example.com`, name), name)),
  );
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('the leaderboard name: refused under the field, set, left', async () => {
  const tab = await openPage(browser, server, { name: 'account' });
  const { page } = tab;
  await logIn(page, server, kim.email, password);
  await page.getByRole('link', { name: kim.name }).click();
  const form = page.getByRole('form', { name: 'Leaderboard name' });
  await form.waitFor();
  assert.match(await text(page, '[data-testid=leaderboard-status]'), /not on the leaderboard/);
  const field = form.getByLabel('Name on the leaderboard');
  const save = () => form.getByRole('button', { name: 'Save name' }).click();

  // The form's own check: nothing to save.
  await save();
  assert.match(await text(page, '#leaderboard-name-error'), /Enter a name/);

  // The server's: too short.
  await field.fill('K');
  await save();
  await page.locator('#leaderboard-name-error[data-code=BAD_USER_INPUT]').waitFor();
  assert.equal(await field.getAttribute('aria-invalid'), 'true');

  // Taken, in another case and with a look-alike letter: CONFLICT, next to the field.
  await optIn(tokens[lee.email], 'Zed Trader');
  await field.fill('zed trader');
  await save();
  await page.locator('#leaderboard-name-error[data-code=CONFLICT]').waitFor();
  await field.fill('ZED TR\u0430DER'); // a Cyrillic а
  await save();
  await page.locator('#leaderboard-name-error[data-code=CONFLICT]').waitFor();

  // Typing clears the error; a free name is saved.
  await field.fill('Kim K');
  assert.equal(await page.locator('#leaderboard-name-error').count(), 0);
  await save();
  await form.getByRole('status').filter({ hasText: 'on the leaderboard as “Kim K”' }).waitFor();
  assert.match(await text(page, '[data-testid=leaderboard-status]'), /as “Kim K”/);

  // Leaving, then back on.
  await form.getByRole('button', { name: 'Leave the leaderboard' }).click();
  await form.getByRole('status').filter({ hasText: 'left the leaderboard' }).waitFor();
  assert.match(await text(page, '[data-testid=leaderboard-status]'), /not on the leaderboard/);
  assert.equal(await field.inputValue(), '');
  await field.fill('Kim K');
  await save();
  await form.getByRole('status').filter({ hasText: '“Kim K”' }).waitFor();
  await tab.shot('account-leaderboard-name.png');
  tab.check();
  await tab.context.close();
});

test('the leaderboard: empty before the first recording, then live, with the viewer, a late opt-in and more pages', async (t) => {
  const tab = await openPage(browser, server, { name: 'leaderboard' });
  const { page } = tab;
  await logIn(page, server, kim.email, password);
  const asOf = async () => {
    const r = await gql(BOARD, { p: 'DAY' }, tokens[kim.email]);
    assert.ok(r.data, JSON.stringify(r));
    return r.data.leaderboard.asOf;
  };

  const recordedBefore = await asOf();
  await go(page, 'Leaderboard');
  await page.getByRole('heading', { name: 'Leaderboard' }).waitFor();
  if (recordedBefore === null) {
    // Nothing is recorded before the first five-minute boundary the server sees open.
    await page.locator('[data-testid=leaderboard-empty]').or(page.locator('[data-testid=leaderboard-as-of]')).waitFor();
    if ((await asOf()) === null) assert.equal(await page.locator('[data-testid=leaderboard-empty]').count(), 1);
  }

  // The ranking needs a recorded instant: the engine records one at each five-minute boundary
  // while the market is open. LEADERBOARD_WAIT=1 waits for it (up to five minutes); otherwise
  // the rest runs only when one passed during the tests.
  if ((await asOf()) === null && !process.env.LEADERBOARD_WAIT) {
    t.skip('no recorded instant yet (set LEADERBOARD_WAIT=1 to wait for one)');
    tab.check();
    await tab.context.close();
    return;
  }
  // The feed brings the first ranking to the open page.
  await page.locator('[data-testid=leaderboard-as-of]').waitFor({ timeout: 330_000 });

  // Max opts in only after the recording, and is ranked too.
  await optIn(tokens[max.email], 'Max Late');
  await go(page, 'Portfolio');
  await go(page, 'Leaderboard');
  await page.locator('[data-testid=leaderboard-as-of]').waitFor();
  const total = BOTS.length + 3; // the bots, Lee (Zed Trader), Kim, Max
  assert.match(await text(page, '[data-testid=leaderboard-as-of]'), new RegExp(`^As of .+ · ${total} players$`));

  // The first page: 20 rows, ranked 1…20.
  const rows = page.locator('table.leaderboard tbody tr');
  await rows.nth(19).waitFor();
  assert.equal(await rows.count(), 20);
  const ranks = await page.locator('table.leaderboard [data-testid=rank]').allTextContents();
  assert.deepEqual(ranks.map(Number), Array.from({ length: 20 }, (_, i) => i + 1));

  // More: the rest, then no more button.
  await page.getByRole('button', { name: 'Load more' }).click();
  await rows.nth(total - 1).waitFor();
  assert.equal(await rows.count(), total);
  assert.equal(await page.getByRole('button', { name: 'Load more' }).count(), 0);
  const names = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-name')));
  for (const n of ['Kim K', 'Zed Trader', 'Max Late', ...BOTS]) assert.ok(names.includes(n), `${n} is listed`);

  // The viewer's own row, and only it, is highlighted.
  const viewer = page.locator('table.leaderboard tr.viewer');
  assert.equal(await viewer.count(), 1);
  assert.equal(await viewer.getAttribute('data-name'), 'Kim K');
  assert.match(await viewer.textContent(), /\(you\)/);

  // Another period is its own ranking.
  const periods = page.getByRole('group', { name: 'Leaderboard period' });
  await periods.getByRole('button', { name: 'All time' }).click();
  await periods.getByRole('button', { name: 'All time', pressed: true }).waitFor();
  await page.locator('table.leaderboard tr.viewer[data-name="Kim K"]').waitFor();
  await tab.shot('leaderboard.png');
  tab.check();
  await tab.context.close();
});

test('the portfolio: the equity chart with the live point, the period switch as the API says', async () => {
  const tab = await openPage(browser, server, { name: 'portfolio' });
  const { page } = tab;
  await logIn(page, server, kim.email, password);
  await go(page, 'Portfolio');
  const region = page.getByRole('region', { name: 'Equity history' });
  await region.locator('[data-testid=history-equity]').waitFor();
  await region.locator('.equity canvas').first().waitFor();

  const HISTORY = 'query($p: HistoryPeriod!) { portfolioHistory(period: $p) { interval points { equity live } } }';
  for (const [period, label] of [['DAY', 'Day'], ['WEEK', 'Week'], ['ALL', 'All']]) {
    await region.getByRole('button', { name: label, exact: true }).click();
    const count = region.locator(`[data-testid=history-count][data-period=${period}]`);
    await count.waitFor();
    const api = (await gql(HISTORY, { p: period }, tokens[kim.email])).data.portfolioHistory;
    const recorded = api.points.filter((p) => !p.live).length;
    assert.equal(Number(await count.getAttribute('data-recorded')), recorded, `${period}: recorded points`);
    assert.match(await count.textContent(), new RegExp(`${recorded} recorded ${api.interval} points?, then the live value`));
    // The chart has every point: the recorded ones and the live one.
    await region.locator(`.equity[data-points="${recorded + 1}"]`).waitFor();
    const live = api.points[api.points.length - 1];
    assert.ok(live.live);
    assert.equal(await text(page, '[data-testid=history-equity]'), `$${Number(live.equity).toLocaleString('en-US', { minimumFractionDigits: 2 })}`);
    assert.match(await text(page, '[data-testid=history-return]'), /%$/);
  }
  await tab.shot('portfolio-history.png');
  tab.check();
  await tab.context.close();
});
