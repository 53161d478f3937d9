// The app lives under /app; the server answers every path below it with the app's page, so
// links are real URLs (bookmarkable, open in a new tab) and the back button works.
import { store } from './store';

export const BASE = '/app';

function current(): string {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : '/';
  return (path || '/') + location.search;
}

export const path = store(current());

addEventListener('popstate', () => path.set(current()));

export function navigate(to: string, replace = false): void {
  const url = BASE + to;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  path.set(current());
  window.scrollTo(0, 0);
}

/** `/stocks/:symbol` against `/stocks/AAPL` → `{ symbol: 'AAPL' }`, or null. */
export function match(pattern: string, at: string): Record<string, string> | null {
  const [pathname] = at.split('?');
  const want = pattern.split('/');
  const got = pathname.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(':')) params[want[i].slice(1)] = decodeURIComponent(got[i]);
    else if (want[i] !== got[i]) return null;
  }
  return params;
}
