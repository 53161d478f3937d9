// The order ticket: side, quantity, order type with the prices that type takes, time in
// force, a live quote preview (asked again as the price moves), and every refusal shown next
// to what it concerns: the server's userErrors next to the field their `field` names.
import { useEffect, useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import { graphql } from '../../gql';
import type { OrderSide, OrderType, PlaceOrderInput, TimeInForce } from '../../gql/graphql';
import { Field, Problems, Success } from '../components/ui';
import { forField, general, problems, type Problem } from '../lib/errors';
import { money, randomKey } from '../lib/format';
import {
  ORDER_TYPES,
  TIMES_IN_FORCE,
  immediateAllowed,
  percentProblem,
  priceFields,
  priceProblem,
  terms,
  tifLabel,
  times,
} from '../lib/orders';

const QuoteQuery = graphql(`
  query Quote($input: QuoteInput!) {
    quote(input: $input) {
      price estimatedTotal cashAfter sharesAfter marketOpen executesNow problem problemCode
    }
  }
`);

const PlaceOrder = graphql(`
  mutation PlaceOrder($input: PlaceOrderInput!) {
    placeOrder(input: $input) {
      order { ...OrderFields }
      trade { id price quantity total executedAt }
      cash { id balance reserved available }
      position { ...PositionFields }
      userErrors { field message code }
    }
  }
`);

const MarketOpenQuery = graphql(`
  query TicketMarketOpen {
    marketState { id isOpen }
  }
`);

type TicketStock = { id: string; symbol: string; price: string; active: boolean };
type TrailMode = 'percent' | 'amount';

/** The fields of this form, as the last element of a userError's `field`. */
const FIELDS = ['quantity', 'type', 'limitPrice', 'stopPrice', 'trailPercent', 'trailAmount', 'timeInForce'];

/** What a placed order did, in a sentence. */
function outcome(order: {
  status: string;
  side: string;
  quantity: number;
  price?: string | null;
  total?: string | null;
  rejectReason?: string | null;
  type: string;
  timeInForce: string;
  limitPrice?: string | null;
  stopPrice?: string | null;
  trailPercent?: string | null;
  trailAmount?: string | null;
  stock: { symbol: string };
}): string {
  const what = `${order.side.toLowerCase()} ${order.quantity} ${order.stock.symbol}`;
  switch (order.status) {
    case 'EXECUTED':
      return `${order.side === 'BUY' ? 'Bought' : 'Sold'} ${order.quantity} ${order.stock.symbol} at ${money(order.price)} (total ${money(order.total)}).`;
    case 'QUEUED':
      return `Order queued: ${what} when the market opens. Cancel it from Orders.`;
    case 'OPEN':
      return `Order open: ${what}, ${terms(order)}, ${tifLabel(order.timeInForce).toLowerCase()}. Change or cancel it from Orders.`;
    case 'CANCELED':
      return `Not filled at once, so canceled (${tifLabel(order.timeInForce).toLowerCase()}): ${what}.`;
    default:
      return `Order ${order.status.toLowerCase()}${order.rejectReason ? ': ' + order.rejectReason : ''}.`;
  }
}

export function OrderTicket(props: { stock: TicketStock }) {
  const [side, setSide] = useState<OrderSide>('BUY');
  const [quantityText, setQuantity] = useState('1');
  const [type, setType] = useState<OrderType>('MARKET');
  const [limitText, setLimit] = useState('');
  const [stopText, setStop] = useState('');
  const [trailMode, setTrailMode] = useState<TrailMode>('percent');
  const [trailText, setTrail] = useState('');
  const [tif, setTif] = useState<TimeInForce>('DAY');
  const [key, setKey] = useState(() => randomKey('web'));
  const [done, setDone] = useState<string | null>(null);
  const [errors, setErrors] = useState<Problem[]>([]);
  const quantity = Number(quantityText);
  const valid = Number.isInteger(quantity) && quantity > 0;
  const fields = priceFields(type);

  const input = { stock: { id: props.stock.id }, side, quantity: valid ? quantity : 1 };
  const [{ data: q, error: quoteError }, requote] = useQuery({
    query: QuoteQuery,
    variables: { input },
    pause: !valid,
    requestPolicy: 'network-only',
  });
  // The preview follows the live price and the market's state (both pushed into the cache).
  const [{ data: market }] = useQuery({ query: MarketOpenQuery });
  const isOpen = market?.marketState.isOpen;
  useEffect(() => {
    if (valid) requote({ requestPolicy: 'network-only' });
  }, [props.stock.price, isOpen]);
  // IOC and FOK need an open market and a market or limit order: fall back to DAY otherwise.
  useEffect(() => {
    if ((tif === 'IOC' || tif === 'FOK') && !immediateAllowed(type, isOpen)) setTif('DAY');
  }, [type, isOpen]);

  const [placing, place] = useMutation(PlaceOrder);

  const edited = () => {
    setErrors([]);
    setDone(null);
  };

  /** The form's own checks: only what is certainly wrong (the server checks the rest). */
  const check = (): Problem[] => {
    const list: Problem[] = [];
    const bad = (field: string, message: string | null) => {
      if (message) list.push({ code: 'BAD_USER_INPUT', field, message });
    };
    if (!valid) bad('quantity', 'Enter a whole number of shares, 1 or more.');
    if (fields.includes('limitPrice')) bad('limitPrice', priceProblem(limitText, 'limit price'));
    if (fields.includes('stopPrice')) bad('stopPrice', priceProblem(stopText, 'stop price'));
    if (fields.includes('trail')) {
      if (trailMode === 'percent') bad('trailPercent', percentProblem(trailText));
      else bad('trailAmount', priceProblem(trailText, 'trail amount'));
    }
    return list;
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setDone(null);
    const mine = check();
    if (mine.length) {
      setErrors(mine);
      return;
    }
    const order: PlaceOrderInput = { stock: { id: props.stock.id }, side, quantity, type, timeInForce: tif, clientOrderId: key };
    if (fields.includes('limitPrice')) order.limitPrice = limitText.trim();
    if (fields.includes('stopPrice')) order.stopPrice = stopText.trim();
    if (fields.includes('trail')) {
      if (trailMode === 'percent') order.trailPercent = trailText.trim();
      else order.trailAmount = trailText.trim();
    }
    // The same clientOrderId on a retry never places twice.
    const r = await place({ input: order });
    const payload = r.data?.placeOrder;
    const list = problems(r.error, payload?.userErrors);
    setErrors(list);
    if (payload?.order && list.length === 0) {
      setDone(outcome(payload.order));
      setKey(randomKey('web'));
    }
  };

  const quote = q?.quote;
  const quoteProblems = valid ? problems(quoteError) : [];
  const qtyProblem = forField(errors, 'quantity') ?? forField(quoteProblems, 'quantity');
  const trailProblem = forField(errors, 'trailPercent') ?? forField(errors, 'trailAmount');
  const price = Number(props.stock.price);

  // Hints: what the typed price means against the current one (never a refusal by itself).
  const limitHint = (() => {
    if (priceProblem(limitText, '') || !fields.includes('limitPrice')) return 'Fills at this price or better.';
    const l = Number(limitText);
    if (type === 'LIMIT' && side === 'BUY' && l >= price) return `At or above the current ${money(props.stock.price)}: likely to fill at the next tick round.`;
    if (type === 'LIMIT' && side === 'SELL' && l <= price) return `At or below the current ${money(props.stock.price)}: likely to fill at the next tick round.`;
    return side === 'BUY' ? `Reserves ${times(limitText, valid ? quantity : 1)} until it fills or ends.` : 'Fills at this price or better.';
  })();
  const stopHint =
    side === 'BUY'
      ? `A buy stop goes above the current ${money(props.stock.price)}.`
      : `A sell stop goes below the current ${money(props.stock.price)}.`;
  const trailHint =
    trailMode === 'percent'
      ? 'Percent of the best price since placement, above 0 and below 100 (e.g. 2.5).'
      : 'Dollars per share between the best price and the stop (e.g. 1.50).';
  const tifHint = immediateAllowed(type, isOpen)
    ? 'Immediate or cancel / fill or kill: fills at once at the current price, or is canceled.'
    : isOpen === false
      ? 'Immediate or cancel and fill or kill need an open market: the market is closed now.'
      : 'Immediate or cancel and fill or kill apply to market and limit orders only.';

  const explain = !quote
    ? ''
    : type !== 'MARKET'
      ? quote.marketOpen
        ? tif === 'IOC' || tif === 'FOK'
          ? 'Fills at once if the current price meets your limit, or is canceled.'
          : 'Works as an open order from the next tick round until it fills, expires or you cancel it.'
        : 'The market is closed: this order works from the open.'
      : !quote.marketOpen
        ? 'The market is closed: this order will queue and execute at the open.'
        : quote.executesNow
          ? 'Executes now at the market price.'
          : 'Cannot execute as it stands: see below.';
  // A buy's cash problem at the current price says nothing of a limit or stop's own price.
  const showQuoteProblem = quote?.problem && (type === 'MARKET' || side === 'SELL');

  return (
    <form class="card ticket" onSubmit={submit} aria-label="Order ticket" noValidate>
      <h2>Trade {props.stock.symbol}</h2>
      <div class="tabs" role="radiogroup" aria-label="Side">
        {(['BUY', 'SELL'] as const).map((value) => (
          <label key={value} class={'seg ' + (side === value ? 'on ' + value.toLowerCase() : '')}>
            <input type="radio" name="side" value={value} checked={side === value} onChange={() => {
                setSide(value);
                edited();
              }} />
            {value === 'BUY' ? 'Buy' : 'Sell'}
          </label>
        ))}
      </div>
      <Field id="quantity" label="Quantity (shares)" problem={qtyProblem}>
        {(a) => (
          <input {...a} name="quantity" type="number" min="1" step="1" inputMode="numeric" required value={quantityText} onInput={(e) => {
              setQuantity(e.currentTarget.value);
              edited();
            }} />
        )}
      </Field>
      <Field id="order-type" label="Order type" problem={forField(errors, 'type')} hint={ORDER_TYPES.find((t) => t.value === type)?.hint}>
        {(a) => (
          <select {...a} name="type" value={type} onChange={(e) => {
              setType(e.currentTarget.value as OrderType);
              edited();
            }}>
            {ORDER_TYPES.map((t) => <option key={t.value} value={t.value}>{t.label}</option>)}
          </select>
        )}
      </Field>
      {fields.includes('stopPrice') ? (
        <Field id="stop-price" label="Stop price (USD)" problem={forField(errors, 'stopPrice')} hint={stopHint}>
          {(a) => (
            <input {...a} name="stopPrice" inputMode="decimal" autoComplete="off" value={stopText} onInput={(e) => {
                setStop(e.currentTarget.value);
                edited();
              }} />
          )}
        </Field>
      ) : null}
      {fields.includes('limitPrice') ? (
        <Field id="limit-price" label="Limit price (USD)" problem={forField(errors, 'limitPrice')} hint={limitHint}>
          {(a) => (
            <input {...a} name="limitPrice" inputMode="decimal" autoComplete="off" value={limitText} onInput={(e) => {
                setLimit(e.currentTarget.value);
                edited();
              }} />
          )}
        </Field>
      ) : null}
      {fields.includes('trail') ? (
        <>
          <div class="tabs" role="radiogroup" aria-label="Trail by">
            {(['percent', 'amount'] as const).map((value) => (
              <label key={value} class={'seg small ' + (trailMode === value ? 'on' : '')}>
                <input type="radio" name="trail-mode" value={value} checked={trailMode === value} onChange={() => {
                    setTrailMode(value);
                    edited();
                  }} />
                {value === 'percent' ? 'Trail %' : 'Trail $'}
              </label>
            ))}
          </div>
          <Field id="trail" label={trailMode === 'percent' ? 'Trail (percent)' : 'Trail (USD per share)'} problem={trailProblem} hint={trailHint}>
            {(a) => (
              <input {...a} name="trail" inputMode="decimal" autoComplete="off" value={trailText} onInput={(e) => {
                  setTrail(e.currentTarget.value);
                  edited();
                }} />
            )}
          </Field>
        </>
      ) : null}
      <Field id="time-in-force" label="Time in force" problem={forField(errors, 'timeInForce')} hint={tifHint}>
        {(a) => (
          <select {...a} name="timeInForce" value={tif} onChange={(e) => {
              setTif(e.currentTarget.value as TimeInForce);
              edited();
            }}>
            {TIMES_IN_FORCE.map((t) => {
              const immediate = t.value === 'IOC' || t.value === 'FOK';
              return (
                <option key={t.value} value={t.value} disabled={immediate && !immediateAllowed(type, isOpen)}>
                  {t.label}
                </option>
              );
            })}
          </select>
        )}
      </Field>
      {quote && valid ? (
        <dl class="preview" data-testid="quote" aria-live="polite">
          <div><dt>Price</dt><dd>{money(quote.price)}</dd></div>
          <div><dt>Estimated {side === 'BUY' ? 'cost' : 'proceeds'}{type === 'MARKET' ? '' : ' now'}</dt><dd data-testid="estimate">{money(quote.estimatedTotal)}</dd></div>
          <div><dt>Cash after</dt><dd>{money(quote.cashAfter)}</dd></div>
          <div><dt>Shares after</dt><dd>{quote.sharesAfter}</dd></div>
          <div class="wide"><dd class="muted" data-testid="quote-explain">{explain}</dd></div>
          {showQuoteProblem ? <div class="wide"><dd class="warn" data-code={quote.problemCode ?? ''}>{quote.problem}</dd></div> : null}
        </dl>
      ) : null}
      <Problems list={general([...errors, ...quoteProblems.filter((p) => p.field !== 'quantity')], FIELDS)} />
      {done ? <Success>{done}</Success> : null}
      <button type="submit" class={'primary ' + side.toLowerCase()} disabled={placing.fetching}>
        {side === 'BUY' ? 'Buy' : 'Sell'} {valid ? quantity : ''} {props.stock.symbol}
      </button>
    </form>
  );
}
