// What the ticket, the orders list and the modify dialog share about working orders: the
// names people read, which prices each type takes, and the checks worth making before the
// server is asked (the server checks everything again and has the last word).
import type { OrderType, TimeInForce } from '../../gql/graphql';
import { money } from './format';

export const ORDER_TYPES: { value: OrderType; label: string; hint: string }[] = [
  { value: 'MARKET', label: 'Market', hint: 'At the current price: now while the market is open, at the open while it is closed.' },
  { value: 'LIMIT', label: 'Limit', hint: 'At your limit price or better: a buy fills at or below it, a sell at or above it.' },
  { value: 'STOP', label: 'Stop', hint: 'Becomes a market order when the price reaches the stop: a buy stop above the price, a sell stop below it.' },
  { value: 'STOP_LIMIT', label: 'Stop limit', hint: 'Becomes a limit order at your limit price when the price reaches the stop.' },
  { value: 'TRAILING_STOP', label: 'Trailing stop', hint: 'A stop that follows the best price since placement by a percentage or an amount.' },
];

export const TIMES_IN_FORCE: { value: TimeInForce; label: string }[] = [
  { value: 'DAY', label: 'Day' },
  { value: 'GTC', label: 'Good till canceled' },
  { value: 'IOC', label: 'Immediate or cancel' },
  { value: 'FOK', label: 'Fill or kill' },
];

/** The price inputs each type takes (the input names of `placeOrder` and `replaceOrder`). */
export type PriceField = 'limitPrice' | 'stopPrice' | 'trail';

export function priceFields(type: OrderType): PriceField[] {
  switch (type) {
    case 'LIMIT':
      return ['limitPrice'];
    case 'STOP':
      return ['stopPrice'];
    case 'STOP_LIMIT':
      return ['stopPrice', 'limitPrice'];
    case 'TRAILING_STOP':
      return ['trail'];
    default:
      return [];
  }
}

/** IOC and FOK fill at once or not at all: market and limit orders, while the market is open. */
export function immediateAllowed(type: OrderType, marketOpen: boolean | undefined): boolean {
  return marketOpen === true && (type === 'MARKET' || type === 'LIMIT');
}

export function typeLabel(type: string): string {
  return ORDER_TYPES.find((t) => t.value === type)?.label ?? type;
}

export function tifLabel(tif: string): string {
  return TIMES_IN_FORCE.find((t) => t.value === tif)?.label ?? tif;
}

/** Why a typed price cannot be sent as it is, or null when it looks like a price. */
export function priceProblem(text: string, what: string): string | null {
  const t = text.trim();
  if (t === '') return `Enter the ${what}.`;
  if (!/^\d+(\.\d{1,2})?$/.test(t)) return `Enter the ${what} in dollars, with at most 2 decimals (e.g. 101.50).`;
  if (Number(t) <= 0) return `The ${what} must be above zero.`;
  return null;
}

export function percentProblem(text: string): string | null {
  const t = text.trim();
  if (t === '') return 'Enter the trail in percent.';
  if (!/^\d+(\.\d{1,2})?$/.test(t) || Number(t) <= 0 || Number(t) >= 100) {
    return 'Enter a percentage above 0 and below 100, with at most 2 decimals (e.g. 2.5).';
  }
  return null;
}

type Terms = {
  type: string;
  limitPrice?: string | null;
  stopPrice?: string | null;
  trailPercent?: string | null;
  trailAmount?: string | null;
};

/** "limit $180.00", "stop $95.00 · limit $94.50", "trail 2.50% (stop $97.12)"; "" for market. */
export function terms(o: Terms): string {
  const parts: string[] = [];
  if (o.type === 'TRAILING_STOP') {
    const trail = o.trailPercent != null ? `${o.trailPercent}%` : money(o.trailAmount);
    parts.push(`trail ${trail}` + (o.stopPrice != null ? ` (stop ${money(o.stopPrice)})` : ''));
  } else {
    if (o.stopPrice != null) parts.push(`stop ${money(o.stopPrice)}`);
    if (o.limitPrice != null) parts.push(`limit ${money(o.limitPrice)}`);
  }
  return parts.join(' · ');
}

/** `price × quantity` in dollars for display ("$189.44"), from exact cents. */
export function times(price: string, quantity: number): string {
  const cents = Math.round(Number(price) * 100) * quantity;
  return money((cents / 100).toFixed(2));
}
