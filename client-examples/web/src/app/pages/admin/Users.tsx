// Users: search and page through them; one user's cash, portfolio and orders (a queued or
// working one can be canceled, with a reason the owner sees); change role and active; reset
// the password (the generated one is shown once, here, and never again).
import { useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import { graphql } from '../../../gql';
import type { OrderFieldsFragment, OrderStatus, Role } from '../../../gql/graphql';
import { Change, Dialog, Field, Link, Loading, Pager, Problems, Success, type Cursor } from '../../components/ui';
import { forField, general, problems, type Problem } from '../../lib/errors';
import { money, signedMoney, timestamp } from '../../lib/format';
import { terms, tifLabel, typeLabel } from '../../lib/orders';

const UsersQuery = graphql(`
  query AdminUsers($search: String, $role: Role, $active: Boolean, $first: Int, $after: String, $last: Int, $before: String) {
    users(search: $search, role: $role, active: $active, first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      nodes { id email name role active createdAt lastSeenAt cash { id balance } }
    }
  }
`);

const UserQuery = graphql(`
  query AdminUser($id: ID!, $orderStatus: OrderStatus) {
    user(id: $id) {
      id databaseId email name role active createdAt lastSeenAt
      cash { id balance reserved available }
      portfolio { id totalValue unrealizedPnl realizedPnl positions { ...PositionFields } }
      orders(first: 20, status: $orderStatus) { totalCount nodes { ...OrderFields } }
    }
  }
`);

const UpdateUser = graphql(`
  mutation UpdateUser($input: UpdateUserInput!) {
    updateUser(input: $input) {
      user { id email name role active }
      userErrors { field message code }
    }
  }
`);

const ResetPassword = graphql(`
  mutation ResetUserPassword($input: ResetUserPasswordInput!) {
    resetUserPassword(input: $input) {
      user { id }
      temporaryPassword
      userErrors { field message code }
    }
  }
`);

const CancelUserOrder = graphql(`
  mutation CancelUserOrder($input: CancelUserOrderInput!) {
    cancelUserOrder(input: $input) {
      order { ...OrderFields }
      userErrors { field message code }
    }
  }
`);

const PAGE = 20;

/** Cancel a user's queued or working order: the reason is kept on the order for its owner. */
function CancelUserOrderDialog(props: { order: OrderFieldsFragment; owner: string; onClose: () => void; onDone: (message: string) => void }) {
  const o = props.order;
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<Problem[]>([]);
  const [state, cancel] = useMutation(CancelUserOrder);
  const label = `${o.side.toLowerCase()} ${o.quantity} ${o.stock.symbol}`;
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!reason.trim()) {
      setErrors([{ code: 'BAD_USER_INPUT', field: 'reason', message: `Say why: ${props.owner} sees it on the order.` }]);
      return;
    }
    const r = await cancel({ input: { id: o.id, reason: reason.trim() } });
    const list = problems(r.error, r.data?.cancelUserOrder.userErrors);
    setErrors(list);
    if (list.length === 0) props.onDone(`Canceled ${props.owner}'s order (${label}): ${reason.trim()}`);
  };
  return (
    <Dialog title={`Cancel ${label}`} onClose={props.onClose}>
      <p class="muted small">
        {typeLabel(o.type)} order{terms(o) ? `, ${terms(o)}` : ''}, {o.status.toLowerCase()}. What it reserves is released; the
        owner's feeds hear of it, and the audit log keeps the reason.
      </p>
      <form onSubmit={submit} aria-label="Cancel the order" noValidate>
        <Field id="cancel-reason" label="Reason (shown to the owner)" problem={forField(errors, 'reason')}>
          {(a) => <textarea {...a} rows={3} maxLength={200} value={reason} onInput={(e) => { setReason(e.currentTarget.value); setErrors([]); }} />}
        </Field>
        <Problems list={general(errors, ['reason'])} />
        <div class="buttons">
          <button type="button" onClick={props.onClose}>Keep the order</button>
          <button type="submit" class="danger" disabled={state.fetching}>Cancel the order</button>
        </div>
      </form>
    </Dialog>
  );
}

export function Users() {
  const [search, setSearch] = useState('');
  const [typed, setTyped] = useState('');
  const [role, setRole] = useState<Role | ''>('');
  const [active, setActive] = useState<'' | 'true' | 'false'>('');
  const [cursor, setCursor] = useState<Cursor>({ first: PAGE });
  const [{ data, error, fetching }] = useQuery({
    query: UsersQuery,
    variables: { search: search || null, role: role || null, active: active === '' ? null : active === 'true', ...cursor },
    requestPolicy: 'cache-and-network',
  });
  const users = data?.users;
  const reset = () => setCursor({ first: PAGE });
  return (
    <>
      <h1>Users</h1>
      <form
        class="toolbar"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setSearch(typed.trim());
          reset();
        }}
      >
        <label for="user-search">Search</label>
        <input id="user-search" type="search" placeholder="email or name" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
        <button type="submit">Search</button>
        <label for="user-role">Role</label>
        <select id="user-role" value={role} onChange={(e) => { setRole(e.currentTarget.value as Role | ''); reset(); }}>
          <option value="">Any</option>
          <option value="CUSTOMER">Customer</option>
          <option value="ADMIN">Admin</option>
        </select>
        <label for="user-active">State</label>
        <select id="user-active" value={active} onChange={(e) => { setActive(e.currentTarget.value as '' | 'true' | 'false'); reset(); }}>
          <option value="">Any</option>
          <option value="true">Active</option>
          <option value="false">Deactivated</option>
        </select>
      </form>
      <Problems list={problems(error)} />
      {fetching && !data ? <Loading what="users" /> : null}
      {users && users.nodes.length === 0 ? <p class="muted">No user matches.</p> : null}
      {users && users.nodes.length > 0 ? (
        <div class="table-wrap">
          <table class="users">
            <thead><tr><th>Email</th><th>Name</th><th>Role</th><th>State</th><th class="num">Cash</th><th>Last seen</th></tr></thead>
            <tbody>
              {users.nodes.map((u) => (
                <tr key={u.id} data-email={u.email}>
                  <td><Link to={`/admin/users/${encodeURIComponent(u.id)}`}>{u.email}</Link></td>
                  <td>{u.name}</td>
                  <td>{u.role}</td>
                  <td>{u.active ? 'active' : <span class="badge">deactivated</span>}</td>
                  <td class="num">{money(u.cash?.balance)}</td>
                  <td class="small">{timestamp(u.lastSeenAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <Pager label="User pages" pageInfo={users?.pageInfo} total={users?.totalCount} size={PAGE} onPage={setCursor} />
    </>
  );
}

export function UserDetail(props: { id: string }) {
  const [orderStatus, setOrderStatus] = useState<OrderStatus | ''>('');
  const [{ data, error, fetching }, reload] = useQuery({
    query: UserQuery,
    variables: { id: props.id, orderStatus: orderStatus || null },
    requestPolicy: 'cache-and-network',
  });
  const [canceling, setCanceling] = useState<string | null>(null);
  const [, update] = useMutation(UpdateUser);
  const [, resetPassword] = useMutation(ResetPassword);
  const [outcome, setOutcome] = useState<{ ok: string | null; problems: Problem[] }>({ ok: null, problems: [] });
  const [secret, setSecret] = useState<string | null>(null);

  const u = data?.user;
  if (fetching && !data) return <Loading what="the user" />;
  if (data && !u) return <p role="alert">No such user. <Link to="/admin/users">All users</Link></p>;
  if (!u) return <Problems list={problems(error)} />;

  const cancelingOrder = u.orders.nodes.find((o) => o.id === canceling);

  const change = async (input: { role?: Role; active?: boolean }, what: string) => {
    setSecret(null);
    const r = await update({ input: { id: u.id, ...input } });
    const list = problems(r.error, r.data?.updateUser.userErrors);
    setOutcome({ ok: list.length ? null : what, problems: list });
  };
  const reset = async () => {
    if (!confirm(`Reset ${u.email}'s password? Their sessions end at once.`)) return;
    const r = await resetPassword({ input: { id: u.id } });
    const list = problems(r.error, r.data?.resetUserPassword.userErrors);
    setOutcome({ ok: null, problems: list });
    setSecret(r.data?.resetUserPassword.temporaryPassword ?? null);
  };

  return (
    <>
      <p><Link to="/admin/users">← All users</Link></p>
      <h1>{u.name} <span class="muted">{u.email}</span></h1>
      <dl class="facts">
        <div><dt>Role</dt><dd data-testid="user-role">{u.role}</dd></div>
        <div><dt>State</dt><dd data-testid="user-active">{u.active ? 'active' : 'deactivated'}</dd></div>
        <div><dt>Joined</dt><dd>{timestamp(u.createdAt)}</dd></div>
        <div><dt>Last seen</dt><dd>{timestamp(u.lastSeenAt)}</dd></div>
        <div><dt>Row id</dt><dd>{u.databaseId}</dd></div>
      </dl>
      <div class="toolbar" role="group" aria-label="Account actions">
        {u.role === 'CUSTOMER' ? (
          <button type="button" onClick={() => void change({ role: 'ADMIN' }, 'Now an admin. Their sessions ended.')}>Make admin</button>
        ) : (
          <button type="button" onClick={() => void change({ role: 'CUSTOMER' }, 'Now a customer. Their sessions ended.')}>Make customer</button>
        )}
        {u.active ? (
          <button type="button" class="danger" onClick={() => void change({ active: false }, 'Deactivated: logins blocked, sessions and sockets closed.')}>Deactivate</button>
        ) : (
          <button type="button" onClick={() => void change({ active: true }, 'Reactivated.')}>Reactivate</button>
        )}
        <button type="button" onClick={() => void reset()}>Reset password</button>
      </div>
      <Problems list={outcome.problems} />
      {outcome.ok ? <Success>{outcome.ok}</Success> : null}
      {secret ? (
        <div class="alert info" role="status" data-testid="temporary-password">
          Temporary password, shown this once: <code class="secret">{secret}</code>. Give it to {u.name}; it is not stored anywhere you can read it again.
        </div>
      ) : null}

      <h2>Cash</h2>
      {u.cash ? (
        <dl class="stats">
          <div><dt>Balance</dt><dd>{money(u.cash.balance)}</dd></div>
          <div><dt>Reserved</dt><dd>{money(u.cash.reserved)}</dd></div>
          <div><dt>Available</dt><dd>{money(u.cash.available)}</dd></div>
        </dl>
      ) : <p class="muted">Unavailable.</p>}

      <h2>Portfolio</h2>
      {u.portfolio ? (
        <>
          <p>
            Total {money(u.portfolio.totalValue)} · unrealized <Change value={u.portfolio.unrealizedPnl}>{signedMoney(u.portfolio.unrealizedPnl)}</Change> · realized{' '}
            <Change value={u.portfolio.realizedPnl}>{signedMoney(u.portfolio.realizedPnl)}</Change>
          </p>
          {u.portfolio.positions.length ? (
            <div class="table-wrap">
              <table>
                <thead><tr><th>Stock</th><th class="num">Shares</th><th class="num">Avg cost</th><th class="num">Value</th></tr></thead>
                <tbody>
                  {u.portfolio.positions.map((p) => (
                    <tr key={p.id}><td>{p.stock.symbol}</td><td class="num">{p.quantity}</td><td class="num">{money(p.averageCost)}</td><td class="num">{money(p.marketValue)}</td></tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : <p class="muted">No positions.</p>}
        </>
      ) : <p class="muted">Unavailable.</p>}

      <h2>Latest orders ({u.orders.totalCount}{orderStatus ? ` ${orderStatus.toLowerCase()}` : ' in all'})</h2>
      <div class="toolbar">
        <label for="user-order-status">Status</label>
        <select id="user-order-status" value={orderStatus} onChange={(e) => setOrderStatus(e.currentTarget.value as OrderStatus | '')}>
          <option value="">All</option>
          <option value="OPEN">Open</option>
          <option value="QUEUED">Queued</option>
          <option value="EXECUTED">Executed</option>
          <option value="CANCELED">Canceled</option>
          <option value="EXPIRED">Expired</option>
          <option value="REJECTED">Rejected</option>
        </select>
      </div>
      {u.orders.nodes.length ? (
        <div class="table-wrap">
          <table class="user-orders">
            <thead>
              <tr><th>Placed</th><th>Stock</th><th>Side</th><th>Type</th><th class="num">Qty</th><th>Terms</th><th>Time in force</th><th>Status</th><th class="num">Total</th><th><span class="sr-only">Actions</span></th></tr>
            </thead>
            <tbody>
              {u.orders.nodes.map((o) => (
                <tr key={o.id} data-id={o.id} data-status={o.status} data-symbol={o.stock.symbol}>
                  <td>{timestamp(o.createdAt)}</td>
                  <td>{o.stock.symbol}</td>
                  <td>{o.side}</td>
                  <td>{typeLabel(o.type)}</td>
                  <td class="num">{o.quantity}</td>
                  <td class="terms">{terms(o) || '—'}</td>
                  <td>{tifLabel(o.timeInForce)}</td>
                  <td>
                    <span class={'status ' + o.status.toLowerCase()}>{o.status}</span>
                    {o.rejectReason ? <span class="muted small"> {o.rejectReason}</span> : null}
                  </td>
                  <td class="num">{money(o.total)}</td>
                  <td class="actions">
                    {o.status === 'QUEUED' || o.status === 'OPEN' ? (
                      <button type="button" class="danger" onClick={() => { setOutcome({ ok: null, problems: [] }); setCanceling(o.id); }} aria-label={`Cancel ${o.side.toLowerCase()} ${o.quantity} ${o.stock.symbol} for ${u.email}`}>
                        Cancel…
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : <p class="muted">No orders{orderStatus ? ` ${orderStatus.toLowerCase()}` : ''}.</p>}
      {canceling && cancelingOrder ? (
        <CancelUserOrderDialog
          order={cancelingOrder}
          owner={u.name}
          onClose={() => setCanceling(null)}
          onDone={(message) => {
            setCanceling(null);
            setOutcome({ ok: message, problems: [] });
            reload({ requestPolicy: 'network-only' });
          }}
        />
      ) : null}
    </>
  );
}
