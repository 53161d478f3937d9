// Numbers as money, times in the market's time zone with the zone named.

const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const pct = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2, minimumFractionDigits: 2 });
const int = new Intl.NumberFormat('en-US');

/** Decimal strings from the API ("189.5") shown as "$189.50"; display only, no arithmetic. */
export function money(value: string | null | undefined): string {
  if (value == null || value === '') return '—';
  const n = Number(value);
  return Number.isFinite(n) ? usd.format(n) : value;
}

export function signedMoney(value: string | null | undefined): string {
  if (value == null) return '—';
  const n = Number(value);
  return (n > 0 ? '+' : '') + money(value);
}

export function percent(value: string | null | undefined): string {
  if (value == null) return '—';
  const n = Number(value);
  return (n > 0 ? '+' : '') + pct.format(n) + '%';
}

export function count(n: number): string {
  return int.format(n);
}

/** 'up' | 'down' | 'flat', for colouring a change. */
export function direction(value: string | null | undefined): string {
  const n = Number(value ?? 0);
  return n > 0 ? 'up' : n < 0 ? 'down' : 'flat';
}

let zone = 'America/New_York';

/** The market's zone (from `marketState.timezone`): every time on screen is shown in it. */
export function setMarketZone(tz: string): void {
  zone = tz;
}

export function marketZone(): string {
  return zone;
}

const formats = new Map<string, Intl.DateTimeFormat>();
function fmt(options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = zone + JSON.stringify(options);
  let f = formats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, ...options });
    formats.set(key, f);
  }
  return f;
}

/** "Mon, Dec 1, 9:30 AM EST" */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return fmt({ weekday: 'short', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' }).format(new Date(iso));
}

/** "Dec 1, 9:30:05 AM EST" */
export function timestamp(iso: string | null | undefined): string {
  if (!iso) return '—';
  return fmt({ month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', second: '2-digit', timeZoneName: 'short' }).format(new Date(iso));
}

/** For chart axes: seconds since the epoch → "9:30" or "Dec 1" in the market zone. */
export function axisTime(seconds: number, withDate: boolean): string {
  const d = new Date(seconds * 1000);
  return withDate
    ? fmt({ month: 'short', day: 'numeric' }).format(d)
    : fmt({ hour: 'numeric', minute: '2-digit', hour12: false }).format(d);
}

export function chartTime(seconds: number): string {
  return fmt({ month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' }).format(new Date(seconds * 1000));
}

/** A random key for idempotent retries (works on plain http too, unlike randomUUID). */
export function randomKey(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return prefix + '-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A day as `YYYY-MM-DD` in the market zone: `days` from today. */
export function marketDate(days = 0): string {
  return fmt({ year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(new Date(Date.now() + days * 86_400_000))
    .filter((p) => p.type !== 'literal')
    .map((p) => p.value)
    .join('-')
    .replace(/^(\d{2})-(\d{2})-(\d{4})$/, '$3-$1-$2');
}

/** `2027-12-31` → "Fri, Dec 31, 2027" (a calendar day, no time zone shift). */
export function calendarDate(date: string): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', weekday: 'short', month: 'short', day: 'numeric', year: 'numeric' }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}
