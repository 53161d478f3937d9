// Orders, newest first, filtered by status; statuses change live (the account feed in the
// shell writes each OrderEvent into the cache), and queued orders can be cancelled.
import { useEffect, useState } from 'preact/hooks';
import { useMutation, useQuery, useSubscription } from '@urql/preact';
import { graphql } from '../../gql';
import type { OrderStatus } from '../../gql/graphql';
import { Link, Loading, Pager, Problems, Success, type Cursor } from '../components/ui';
import { problems, type Problem } from '../lib/errors';
import { money, timestamp } from '../lib/format';

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

const OrderEvents = graphql(`
  subscription OrderEventsForList {
    orderUpdates { order { id status } }
  }
`);

const PAGE = 20;
const statuses: (OrderStatus | '')[] = ['', 'QUEUED', 'EXECUTED', 'CANCELED', 'REJECTED'];

export function Orders() {
  const [status, setStatus] = useState<OrderStatus | ''>('');
  const [cursor, setCursor] = useState<Cursor>({ first: PAGE });
  const [{ data, error, fetching }, reload] = useQuery({
    query: OrdersQuery,
    variables: { status: status || null, ...cursor },
    requestPolicy: 'cache-and-network',
  });
  const [{ data: event }] = useSubscription({ query: OrderEvents });
  // A new order, or one that left the filtered status: read the page again.
  useEffect(() => {
    if (event) reload({ requestPolicy: 'network-only' });
  }, [event]);

  const [, cancel] = useMutation(CancelOrder);
  const [outcome, setOutcome] = useState<{ ok: string | null; problems: Problem[] }>({ ok: null, problems: [] });

  const onCancel = async (id: string, label: string) => {
    const r = await cancel({ input: { orderId: id } });
    const list = problems(r.error, r.data?.cancelOrder.userErrors);
    setOutcome({ ok: list.length ? null : `Cancelled: ${label}. Reserved funds or shares are released.`, problems: list });
  };

  const orders = data?.orders;
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
              <tr><th>Placed</th><th>Stock</th><th>Side</th><th class="num">Qty</th><th>Status</th><th class="num">Price</th><th class="num">Total</th><th><span class="sr-only">Actions</span></th></tr>
            </thead>
            <tbody>
              {orders.nodes.map((o) => {
                const label = `${o.side.toLowerCase()} ${o.quantity} ${o.stock.symbol}`;
                return (
                  <tr key={o.id} data-status={o.status} data-symbol={o.stock.symbol}>
                    <td>{timestamp(o.createdAt)}</td>
                    <td><Link to={`/stocks/${o.stock.symbol}`}>{o.stock.symbol}</Link></td>
                    <td class={o.side.toLowerCase()}>{o.side}</td>
                    <td class="num">{o.quantity}</td>
                    <td><span class={'status ' + o.status.toLowerCase()}>{o.status}</span>{o.rejectReason ? <span class="muted small"> {o.rejectReason}</span> : null}</td>
                    <td class="num">{money(o.price)}</td>
                    <td class="num">{money(o.total)}</td>
                    <td>{o.status === 'QUEUED' ? <button type="button" onClick={() => void onCancel(o.id, label)} aria-label={`Cancel ${label}`}>Cancel</button> : null}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      <Pager label="Orders pages" pageInfo={orders?.pageInfo} total={orders?.totalCount} size={PAGE} onPage={setCursor} />
    </section>
  );
}
