// The admin screens (shown to ADMIN users only; the server checks the role on every call).
import { Link } from '../../components/ui';
import { match } from '../../lib/router';
import { AuditLog } from './Audit';
import { CandleCoverage } from './Candles';
import { MarketAdmin } from './MarketAdmin';
import { Stats } from './Stats';
import { StocksAdmin } from './Stocks';
import { UserDetail, Users } from './Users';

const sections: [string, string][] = [
  ['/admin', 'Statistics'],
  ['/admin/stocks', 'Stocks'],
  ['/admin/users', 'Users'],
  ['/admin/market', 'Hours & calendar'],
  ['/admin/audit', 'Audit log'],
  ['/admin/candles', 'Candles'],
];

export function Admin(props: { at: string }) {
  const at = props.at;
  let m: Record<string, string> | null;
  let screen;
  if ((m = match('/admin/users/:id', at))) screen = <UserDetail key={m.id} id={m.id} />;
  else if (at === '/admin/users') screen = <Users />;
  else if (at === '/admin/stocks') screen = <StocksAdmin />;
  else if (at === '/admin/market') screen = <MarketAdmin />;
  else if (at === '/admin/audit') screen = <AuditLog />;
  else if (at === '/admin/candles') screen = <CandleCoverage />;
  else screen = <Stats />;
  const current = (to: string) => (to === '/admin' ? at === '/admin' : at.startsWith(to));
  return (
    <section>
      <nav class="subnav" aria-label="Admin">
        {sections.map(([to, label]) => (
          <Link key={to} to={to} class={current(to) ? 'active' : ''} aria-current={current(to) ? 'page' : undefined}>
            {label}
          </Link>
        ))}
      </nav>
      {screen}
    </section>
  );
}
