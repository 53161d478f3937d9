// The order ticket: side, quantity, a live quote preview (asked again as the price moves),
// and every refusal shown next to what it concerns.
import { useEffect, useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import { graphql } from '../../gql';
import type { OrderSide } from '../../gql/graphql';
import { Field, Problems, Success } from '../components/ui';
import { forField, general, problems, type Problem } from '../lib/errors';
import { money, randomKey } from '../lib/format';

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

export function OrderTicket(props: { stock: TicketStock }) {
  const [side, setSide] = useState<OrderSide>('BUY');
  const [quantityText, setQuantity] = useState('1');
  const [key, setKey] = useState(() => randomKey('web'));
  const [done, setDone] = useState<string | null>(null);
  const [errors, setErrors] = useState<Problem[]>([]);
  const quantity = Number(quantityText);
  const valid = Number.isInteger(quantity) && quantity > 0;

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

  const [placing, place] = useMutation(PlaceOrder);

  const submit = async (e: Event) => {
    e.preventDefault();
    setDone(null);
    if (!valid) {
      setErrors([{ code: 'BAD_USER_INPUT', field: 'quantity', message: 'Enter a whole number of shares, 1 or more.' }]);
      return;
    }
    // The same clientOrderId on a retry never executes twice.
    const r = await place({ input: { stock: { id: props.stock.id }, side, quantity, clientOrderId: key } });
    const payload = r.data?.placeOrder;
    const list = problems(r.error, payload?.userErrors);
    setErrors(list);
    const order = payload?.order;
    if (order && list.length === 0) {
      const verb = order.side === 'BUY' ? 'Bought' : 'Sold';
      setDone(
        order.status === 'EXECUTED'
          ? `${verb} ${order.quantity} ${order.stock.symbol} at ${money(order.price)} (total ${money(order.total)}).`
          : order.status === 'QUEUED'
            ? `Order queued: ${order.side.toLowerCase()} ${order.quantity} ${order.stock.symbol} when the market opens. Cancel it from Orders.`
            : `Order ${order.status.toLowerCase()}${order.rejectReason ? ': ' + order.rejectReason : ''}.`,
      );
      setKey(randomKey('web'));
    }
  };

  const quote = q?.quote;
  const quoteProblems = valid ? problems(quoteError) : [];
  const qtyProblem = forField(errors, 'quantity') ?? forField(quoteProblems, 'quantity');

  return (
    <form class="card ticket" onSubmit={submit} aria-label="Order ticket">
      <h2>Trade {props.stock.symbol}</h2>
      <div class="tabs" role="radiogroup" aria-label="Side">
        {(['BUY', 'SELL'] as const).map((value) => (
          <label key={value} class={'seg ' + (side === value ? 'on ' + value.toLowerCase() : '')}>
            <input type="radio" name="side" value={value} checked={side === value} onChange={() => {
                setSide(value);
                setErrors([]);
                setDone(null);
              }} />
            {value === 'BUY' ? 'Buy' : 'Sell'}
          </label>
        ))}
      </div>
      <Field id="quantity" label="Quantity (shares)" problem={qtyProblem}>
        {(a) => (
          <input {...a} name="quantity" type="number" min="1" step="1" inputMode="numeric" required value={quantityText} onInput={(e) => {
              setQuantity(e.currentTarget.value);
              setErrors([]);
              setDone(null);
            }} />
        )}
      </Field>
      {quote && valid ? (
        <dl class="preview" data-testid="quote" aria-live="polite">
          <div><dt>Price</dt><dd>{money(quote.price)}</dd></div>
          <div><dt>Estimated {side === 'BUY' ? 'cost' : 'proceeds'}</dt><dd data-testid="estimate">{money(quote.estimatedTotal)}</dd></div>
          <div><dt>Cash after</dt><dd>{money(quote.cashAfter)}</dd></div>
          <div><dt>Shares after</dt><dd>{quote.sharesAfter}</dd></div>
          <div class="wide">
            <dd class="muted">
              {!quote.marketOpen
                ? 'The market is closed: this order will queue and execute at the open.'
                : quote.executesNow
                  ? 'Executes now at the market price.'
                  : 'Cannot execute as it stands: see below.'}
            </dd>
          </div>
          {quote.problem ? <div class="wide"><dd class="warn" data-code={quote.problemCode ?? ''}>{quote.problem}</dd></div> : null}
        </dl>
      ) : null}
      <Problems list={general([...errors, ...quoteProblems.filter((p) => p.field !== 'quantity')], ['quantity'])} />
      {done ? <Success>{done}</Success> : null}
      <button type="submit" class={'primary ' + side.toLowerCase()} disabled={placing.fetching}>
        {side === 'BUY' ? 'Buy' : 'Sell'} {valid ? quantity : ''} {props.stock.symbol}
      </button>
    </form>
  );
}
