// Modify a working order (replaceOrder): quantity, the prices its type takes and the time in
// force, only what changed sent. The server replaces it atomically or refuses it whole; the
// usual refusal is CONFLICT, when the order filled or ended before the change arrived.
import { useEffect, useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import { graphql } from '../../gql';
import type { OrderFieldsFragment, ReplaceOrderInput, TimeInForce } from '../../gql/graphql';
import { Dialog, Field, Problems } from '../components/ui';
import { forField, general, problems, type Problem } from '../lib/errors';
import { money } from '../lib/format';
import { TIMES_IN_FORCE, immediateAllowed, percentProblem, priceFields, priceProblem, terms, typeLabel } from '../lib/orders';

const ReplaceOrder = graphql(`
  mutation ReplaceOrder($input: ReplaceOrderInput!) {
    replaceOrder(input: $input) {
      order { ...OrderFields }
      replacedOrder { ...OrderFields }
      cash { id balance reserved available }
      position { ...PositionFields }
      userErrors { field message code }
    }
  }
`);

const MarketOpen = graphql(`
  query ModifyMarketOpen {
    marketState { id isOpen }
  }
`);

const FIELDS = ['quantity', 'limitPrice', 'stopPrice', 'trailPercent', 'trailAmount', 'timeInForce'];

/** "94.7" and "94.70" are the same price. */
const samePrice = (a: string, b: string | null | undefined) => b != null && Number(a) === Number(b);

export function ModifyOrder(props: { order: OrderFieldsFragment; onClose: () => void; onDone: (message: string) => void }) {
  const o = props.order;
  const fields = priceFields(o.type);
  const [quantityText, setQuantity] = useState(String(o.quantity));
  const [limitText, setLimit] = useState(o.limitPrice ?? '');
  const [stopText, setStop] = useState(o.type === 'TRAILING_STOP' ? '' : (o.stopPrice ?? ''));
  const [trailMode, setTrailMode] = useState<'percent' | 'amount'>(o.trailAmount != null ? 'amount' : 'percent');
  const [trailText, setTrail] = useState(o.trailAmount ?? o.trailPercent ?? '');
  const [tif, setTif] = useState<TimeInForce>(o.timeInForce);
  const [errors, setErrors] = useState<Problem[]>([]);
  const [state, replace] = useMutation(ReplaceOrder);
  const [{ data: market }] = useQuery({ query: MarketOpen });
  const isOpen = market?.marketState.isOpen;
  const label = `${o.side.toLowerCase()} ${o.quantity} ${o.stock.symbol}`;
  const edited = () => setErrors([]);
  // The order is a cache object: the account feed updates it while the dialog is open.
  const ended = o.status !== 'OPEN';
  // IOC and FOK need an open market: back to the order's own time in force when it closes.
  useEffect(() => {
    if ((tif === 'IOC' || tif === 'FOK') && !immediateAllowed(o.type, isOpen)) setTif(o.timeInForce);
  }, [isOpen]);

  const submit = async (e: Event) => {
    e.preventDefault();
    const list: Problem[] = [];
    const bad = (field: string, message: string | null) => {
      if (message) list.push({ code: 'BAD_USER_INPUT', field, message });
    };
    const quantity = Number(quantityText);
    if (!Number.isInteger(quantity) || quantity < 1) bad('quantity', 'Enter a whole number of shares, 1 or more.');
    if (fields.includes('limitPrice')) bad('limitPrice', priceProblem(limitText, 'limit price'));
    if (fields.includes('stopPrice')) bad('stopPrice', priceProblem(stopText, 'stop price'));
    const trailField = trailMode === 'percent' ? 'trailPercent' : 'trailAmount';
    if (fields.includes('trail')) bad(trailField, trailMode === 'percent' ? percentProblem(trailText) : priceProblem(trailText, 'trail amount'));
    if (list.length) {
      setErrors(list);
      return;
    }
    const input: ReplaceOrderInput = { id: o.id };
    if (quantity !== o.quantity) input.quantity = quantity;
    if (fields.includes('limitPrice') && !samePrice(limitText, o.limitPrice)) input.limitPrice = limitText.trim();
    if (fields.includes('stopPrice') && !samePrice(stopText, o.stopPrice)) input.stopPrice = stopText.trim();
    if (fields.includes('trail') && !samePrice(trailText, trailMode === 'percent' ? o.trailPercent : o.trailAmount)) {
      input[trailField] = trailText.trim();
    }
    if (tif !== o.timeInForce) input.timeInForce = tif;
    if (Object.keys(input).length === 1) {
      setErrors([{ code: 'BAD_USER_INPUT', field: null, message: 'Nothing changed: edit a value first.' }]);
      return;
    }
    const r = await replace({ input });
    const payload = r.data?.replaceOrder;
    const got = problems(r.error, payload?.userErrors);
    setErrors(got);
    const next = payload?.order;
    if (next && got.length === 0) {
      props.onDone(`Changed: ${next.side.toLowerCase()} ${next.quantity} ${next.stock.symbol}${terms(next) ? ', ' + terms(next) : ''} (${next.status.toLowerCase()}).`);
    }
  };

  const conflict = errors.some((p) => p.code === 'CONFLICT');
  return (
    <Dialog title={`Modify ${label}`} onClose={props.onClose}>
      <p class="muted small">
        {typeLabel(o.type)} order{terms(o) ? `, ${terms(o)}` : ''}. The order is replaced by a new one with your changes: it
        keeps its client order id and goes to the back of the queue.
      </p>
      {ended ? (
        <p class="alert info" role="status" data-testid="modify-ended">
          This order is now <strong>{o.status.toLowerCase()}</strong>{o.price ? ` at ${money(o.price)}` : ''}: it can no longer be changed.
        </p>
      ) : null}
      <form onSubmit={submit} aria-label="Modify order" noValidate>
        <Field id="modify-quantity" label="Quantity (shares)" problem={forField(errors, 'quantity')}>
          {(a) => <input {...a} type="number" min="1" step="1" inputMode="numeric" value={quantityText} onInput={(e) => { setQuantity(e.currentTarget.value); edited(); }} />}
        </Field>
        {fields.includes('stopPrice') ? (
          <Field id="modify-stop" label="Stop price (USD)" problem={forField(errors, 'stopPrice')}>
            {(a) => <input {...a} inputMode="decimal" value={stopText} onInput={(e) => { setStop(e.currentTarget.value); edited(); }} />}
          </Field>
        ) : null}
        {fields.includes('limitPrice') ? (
          <Field id="modify-limit" label="Limit price (USD)" problem={forField(errors, 'limitPrice')}>
            {(a) => <input {...a} inputMode="decimal" value={limitText} onInput={(e) => { setLimit(e.currentTarget.value); edited(); }} />}
          </Field>
        ) : null}
        {fields.includes('trail') ? (
          <>
            <div class="tabs" role="radiogroup" aria-label="Trail by">
              {(['percent', 'amount'] as const).map((value) => (
                <label key={value} class={'seg small ' + (trailMode === value ? 'on' : '')}>
                  <input type="radio" name="modify-trail-mode" value={value} checked={trailMode === value} onChange={() => { setTrailMode(value); edited(); }} />
                  {value === 'percent' ? 'Trail %' : 'Trail $'}
                </label>
              ))}
            </div>
            <Field
              id="modify-trail"
              label={trailMode === 'percent' ? 'Trail (percent)' : 'Trail (USD per share)'}
              problem={forField(errors, 'trailPercent') ?? forField(errors, 'trailAmount')}
              hint={o.stopPrice ? `The stop is at ${money(o.stopPrice)} now.` : undefined}
            >
              {(a) => <input {...a} inputMode="decimal" value={trailText} onInput={(e) => { setTrail(e.currentTarget.value); edited(); }} />}
            </Field>
          </>
        ) : null}
        <Field
          id="modify-tif"
          label="Time in force"
          problem={forField(errors, 'timeInForce')}
          hint={immediateAllowed(o.type, isOpen) ? undefined : 'Immediate or cancel and fill or kill: limit orders only, while the market is open.'}
        >
          {(a) => (
            <select {...a} value={tif} onChange={(e) => { setTif(e.currentTarget.value as TimeInForce); edited(); }}>
              {TIMES_IN_FORCE.map((t) => (
                <option key={t.value} value={t.value} disabled={(t.value === 'IOC' || t.value === 'FOK') && !immediateAllowed(o.type, isOpen)}>
                  {t.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Problems list={general(errors, FIELDS)} />
        {conflict ? <p class="muted small">Nothing was changed. See the order's status in the list.</p> : null}
        <div class="buttons">
          <button type="button" onClick={props.onClose}>{conflict || ended ? 'Close' : 'Keep as it is'}</button>
          <button type="submit" class="primary" disabled={state.fetching || ended}>Save changes</button>
        </div>
      </form>
    </Dialog>
  );
}
