// Orders, newest first, filtered by status; statuses change live (the account feed in the
// shell writes each OrderEvent, the whole order, into the cache; this page shares that stream). Queued and open orders can be cancelled, open
// (working) orders modified.
import { useEffect, useState } from 'preact/hooks';
import { useMutation, useQuery, useSubscription } from '@urql/preact';
import { graphql } from '../../gql';
import type { OrderStatus } from '../../gql/graphql';
import { Link, Loading, Pager, Problems, Success, type Cursor } from '../components/ui';
import { problems, type Problem } from '../lib/errors';
import { money, timestamp } from '../lib/format';
import { terms, tifLabel, typeLabel } from '../lib/orders';
import { ModifyOrder } from './ModifyOrder';
import { OrderUpdates } from '../components/Shell';

const OrdersQuery = graphql(`
  query Orders($status: OrderStatus, $first: Int, $after: String, $last: Int, $before: String) {
    orders(status: $status, first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      nodes { ...OrderFields }
    }
  }
`);

const CancelOrder = graphql(`
  mutation CancelOrder($input: CancelOrderInput!) {
    cancelOrder(input: $input) {
      order { ...OrderFields }
      cash { id balance reserved available }
      position { ...PositionFields }
      userErrors { field message code }
    }
  }
`);

const PAGE = 20;
const statuses: (OrderStatus | '')[] = ['', 'OPEN', 'QUEUED', 'EXECUTED', 'CANCELED', 'EXPIRED', 'REJECTED'];

/** What an order holds while it is queued or working. */
function reservedText(r: { cash: string; shares: number }): string {
  if (Number(r.cash) > 0) return money(r.cash);
  if (r.shares > 0) return `${r.shares} sh`;
  return '—';
}

export function Orders() {
  const [status, setStatus] = useState<OrderStatus | ''>('');
  const [cursor, setCursor] = useState<Cursor>({ first: PAGE });
  const [{ data, error, fetching }, reload] = useQuery({
    query: OrdersQuery,
    variables: { status: status || null, ...cursor },
    requestPolicy: 'cache-and-network',
  });
  const [{ data: event }] = useSubscription({ query: OrderUpdates });
  // A new order, or one that left the filtered status: read the page again.
  useEffect(() => {
    if (event) reload({ requestPolicy: 'network-only' });
  }, [event]);

  const [, cancel] = useMutation(CancelOrder);
  const [outcome, setOutcome] = useState<{ ok: string | null; problems: Problem[] }>({ ok: null, problems: [] });
  const [modifying, setModifying] = useState<string | null>(null);

  const onCancel = async (id: string, label: string) => {
    const r = await cancel({ input: { orderId: id } });
    const list = problems(r.error, r.data?.cancelOrder.userErrors);
    setOutcome({ ok: list.length ? null : `Cancelled: ${label}. Reserved funds or shares are released.`, problems: list });
  };

  const orders = data?.orders;
  // The dialog keeps the order it opened with even when a refresh of the page drops it (the
  // order filled and left the "Open" filter): it then says so.
  const [modified, setModified] = useState<NonNullable<typeof orders>['nodes'][number] | null>(null);
  const current = orders?.nodes.find((o) => o.id === modifying) ?? modified;
  useEffect(() => {
    if (current && current.id === modifying) setModified(current);
  }, [current]);
  return (
    <section>
      <h1>Orders</h1>
      <div class="toolbar">
        <label for="status-filter">Status</label>
        <select
          id="status-filter"
          value={status}
          onChange={(e) => {
            setStatus(e.currentTarget.value as OrderStatus | '');
            setCursor({ first: PAGE });
          }}
        >
          {statuses.map((s) => (
            <option key={s} value={s}>{s ? s.charAt(0) + s.slice(1).toLowerCase() : 'All'}</option>
          ))}
        </select>
      </div>
      <Problems list={[...problems(error), ...outcome.problems]} />
      {outcome.ok ? <Success>{outcome.ok}</Success> : null}
      {fetching && !data ? <Loading what="orders" /> : null}
      {orders && orders.nodes.length === 0 ? <p class="muted">No orders{status ? ` with status ${status.toLowerCase()}` : ''} yet. Place one from a stock's page.</p> : null}
      {orders && orders.nodes.length > 0 ? (
        <div class="table-wrap">
          <table class="orders">
            <thead>
              <tr>
                <th>Placed</th><th>Stock</th><th>Side</th><th>Type</th><th class="num">Qty</th><th>Terms</th><th>Time in force</th>
                <th>Status</th><th class="num">Reserved</th><th class="num">Price</th><th class="num">Total</th><th><span class="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {orders.nodes.map((o) => {
                const label = `${o.side.toLowerCase()} ${o.quantity} ${o.stock.symbol}`;
                return (
                  <tr key={o.id} data-id={o.id} data-status={o.status} data-type={o.type} data-symbol={o.stock.symbol}>
                    <td>{timestamp(o.createdAt)}</td>
                    <td><Link to={`/stocks/${o.stock.symbol}`}>{o.stock.symbol}</Link></td>
                    <td class={o.side.toLowerCase()}>{o.side}</td>
                    <td>{typeLabel(o.type)}</td>
                    <td class="num">{o.quantity}</td>
                    <td class="terms" data-testid="terms">
                      {terms(o) || '—'}
                      {o.triggeredAt ? <span class="muted small"> · triggered {timestamp(o.triggeredAt)}</span> : null}
                    </td>
                    <td title={o.expiresAt ? `Expires ${timestamp(o.expiresAt)}` : undefined}>
                      {tifLabel(o.timeInForce)}
                      {o.status === 'OPEN' && o.expiresAt ? <span class="muted small"> · until {timestamp(o.expiresAt)}</span> : null}
                    </td>
                    <td>
                      <span class={'status ' + o.status.toLowerCase()} data-testid="status">{o.status}</span>
                      {o.replacedBy ? <span class="muted small"> replaced</span> : null}
                      {o.rejectReason ? <span class="muted small"> {o.rejectReason}</span> : null}
                    </td>
                    <td class="num" data-testid="reserved">{reservedText(o.reserved)}</td>
                    <td class="num">{money(o.price)}</td>
                    <td class="num">{money(o.total)}</td>
                    <td class="actions">
                      {o.status === 'OPEN' ? (
                        <button type="button" onClick={() => { setOutcome({ ok: null, problems: [] }); setModified(null); setModifying(o.id); }} aria-label={`Modify ${label}`}>Modify</button>
                      ) : null}
                      {o.status === 'QUEUED' || o.status === 'OPEN' ? (
                        <button type="button" onClick={() => void onCancel(o.id, label)} aria-label={`Cancel ${label}`}>Cancel</button>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      <Pager label="Orders pages" pageInfo={orders?.pageInfo} total={orders?.totalCount} size={PAGE} onPage={setCursor} />
      {modifying && current ? (
        <ModifyOrder
          key={modifying}
          order={current}
          onClose={() => setModifying(null)}
          onDone={(message) => {
            setModifying(null);
            setOutcome({ ok: message, problems: [] });
          }}
        />
      ) : null}
    </section>
  );
}
