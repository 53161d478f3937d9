// What the browser tests share: a Zebrat server of their own (the binary from ZEBRAT_BIN on a
// free port, a fresh SQLite database in a temp folder, demo data seeded: the market starts
// held open), Debian's chromium through playwright-core, and pages that fail the test when
// they ask anything of another host or break the Content-Security-Policy.
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const SCREENSHOTS = new URL('../screenshots/', import.meta.url).pathname;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitForHealth(url, child, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`zebrat exited with ${child.exitCode}`);
    try {
      const r = await fetch(url + '/health');
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`zebrat did not answer /health within ${ms} ms`);
}

/** A server of this test file's own. `restart()` stops it and starts it again on the same
 * port and database (sessions survive: the JWT secret is kept beside the database). */
export async function startServer(extraEnv = {}) {
  const bin = process.env.ZEBRAT_BIN;
  if (!bin) throw new Error('set ZEBRAT_BIN to the zebrat binary (ci.sh does)');
  const dir = await mkdtemp(join(tmpdir(), 'zebrat-web-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    DATABASE_URL: `sqlite://${join(dir, 'zebrat.db')}?mode=rwc`,
    BIND_ADDR: `127.0.0.1:${port}`,
    ZEBRAT_PROFILE: 'local',
    SEED_DEMO_DATA: 'true',
    RATE_LIMIT_LOGIN: 'off',
    RATE_LIMIT_REGISTER: 'off',
    RATE_LIMIT_ORDERS: 'off',
    RATE_LIMIT_LOGIN_GLOBAL: 'off',
    RATE_LIMIT_DEPOSITS: 'off',
    RUST_LOG: 'warn',
    ...extraEnv,
  };
  let child;
  const launch = async () => {
    child = spawn(bin, ['serve'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    await waitForHealth(url, child, 90_000);
  };
  const stop = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  await launch();
  return {
    url,
    host: `127.0.0.1:${port}`,
    stop,
    async restart(downMs = 0) {
      await stop();
      if (downMs) await new Promise((r) => setTimeout(r, downMs));
      await launch();
    },
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  await mkdir(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

/**
 * A page in a context of its own (its own tokens), with guards: every request to another
 * host, every CSP violation and every uncaught page error is recorded; `check()` fails the
 * test with them.
 */
export async function openPage(browser, server, { viewport = { width: 1280, height: 860 }, name = 'page' } = {}) {
  const context = await browser.newContext({ viewport, timezoneId: 'Europe/Berlin', locale: 'en-US' });
  const page = await context.newPage();
  const problems = [];
  const own = new URL(server.url).host;
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (['data:', 'blob:', 'about:'].includes(url.protocol)) return;
    if (url.host !== own) problems.push(`${name} requested another host: ${request.url()}`);
  });
  page.on('console', (msg) => {
    const text = msg.text();
    if (/Content.Security.Policy|Refused to/i.test(text)) problems.push(`${name} CSP: ${text}`);
  });
  page.on('pageerror', (error) => problems.push(`${name} page error: ${error.message}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`Refused to load ${e.blockedURI} (${e.violatedDirective}): Content-Security-Policy`);
    });
  });
  page.setDefaultTimeout(15_000);
  return {
    page,
    context,
    problems,
    check() {
      if (problems.length) throw new Error(problems.join('\n'));
    },
    async shot(file) {
      await page.screenshot({ path: join(SCREENSHOTS, file), fullPage: false });
    },
  };
}

/** Logs in through the form; resolves once the market page shows. */
export async function logIn(page, server, email, password) {
  await page.goto(server.url + '/app/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Market' }).waitFor();
}

/** Text of the first element matching `selector`, trimmed. */
export async function text(page, selector) {
  return (await page.locator(selector).first().textContent())?.trim() ?? '';
}

/** "$1,234.50" → 1234.5 */
export function dollars(s) {
  return Number(String(s).replace(/[^0-9.-]/g, ''));
}

/** Navigates inside the app (a full reload would forget the in-memory session). */
export async function go(page, label) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label, exact: true }).click();
}
