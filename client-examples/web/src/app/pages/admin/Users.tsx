// Users: search and page through them; one user's cash, portfolio and orders; change role and
// active; reset the password (the generated one is shown once, here, and never again).
import { useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import { graphql } from '../../../gql';
import type { Role } from '../../../gql/graphql';
import { Change, Link, Loading, Pager, Problems, Success, type Cursor } from '../../components/ui';
import { problems, type Problem } from '../../lib/errors';
import { money, signedMoney, timestamp } from '../../lib/format';

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
  query AdminUser($id: ID!) {
    user(id: $id) {
      id databaseId email name role active createdAt lastSeenAt
      cash { id balance reserved available }
      portfolio { id totalValue unrealizedPnl realizedPnl positions { ...PositionFields } }
      orders(first: 10) { totalCount nodes { ...OrderFields } }
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

const PAGE = 20;

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
  const [{ data, error, fetching }] = useQuery({ query: UserQuery, variables: { id: props.id }, requestPolicy: 'cache-and-network' });
  const [, update] = useMutation(UpdateUser);
  const [, resetPassword] = useMutation(ResetPassword);
  const [outcome, setOutcome] = useState<{ ok: string | null; problems: Problem[] }>({ ok: null, problems: [] });
  const [secret, setSecret] = useState<string | null>(null);

  const u = data?.user;
  if (fetching && !data) return <Loading what="the user" />;
  if (data && !u) return <p role="alert">No such user. <Link to="/admin/users">All users</Link></p>;
  if (!u) return <Problems list={problems(error)} />;

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

      <h2>Latest orders ({u.orders.totalCount} in all)</h2>
      {u.orders.nodes.length ? (
        <div class="table-wrap">
          <table>
            <thead><tr><th>Placed</th><th>Stock</th><th>Side</th><th class="num">Qty</th><th>Status</th><th class="num">Total</th></tr></thead>
            <tbody>
              {u.orders.nodes.map((o) => (
                <tr key={o.id}><td>{timestamp(o.createdAt)}</td><td>{o.stock.symbol}</td><td>{o.side}</td><td class="num">{o.quantity}</td><td><span class={'status ' + o.status.toLowerCase()}>{o.status}</span></td><td class="num">{money(o.total)}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : <p class="muted">No orders.</p>}
    </>
  );
}
