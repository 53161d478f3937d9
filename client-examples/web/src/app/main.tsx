// Zebrat's web app: the reference frontend for the API (Preact + urql/Graphcache +
// graphql-ws + lightweight-charts, typed from schema/schema.graphql).
import { render } from 'preact';
import { useEffect, useMemo } from 'preact/hooks';
import { Provider } from '@urql/preact';
import { Shell } from './components/Shell';
import { session } from './lib/auth';
import { makeClients } from './lib/client';
import { match, navigate, path } from './lib/router';
import { useStore } from './lib/store';
import { Account } from './pages/Account';
import { Admin } from './pages/admin/Admin';
import { Cash } from './pages/Cash';
import { Leaderboard } from './pages/Leaderboard';
import { Login } from './pages/Login';
import { Market } from './pages/Market';
import { Orders } from './pages/Orders';
import { Portfolio } from './pages/Portfolio';
import { StockPage } from './pages/Stock';
import './styles.css';

function Screen(props: { at: string; admin: boolean }) {
  const at = props.at.split('?')[0];
  let m: Record<string, string> | null;
  if (at === '/' || at === '') return <Market />;
  if ((m = match('/stocks/:symbol', at))) return <StockPage key={m.symbol} symbol={m.symbol} />;
  if (at === '/orders') return <Orders />;
  if (at === '/portfolio') return <Portfolio />;
  if (at === '/cash') return <Cash />;
  if (at === '/leaderboard') return <Leaderboard />;
  if (at === '/account') return <Account />;
  if (at === '/admin' || at.startsWith('/admin/')) {
    return props.admin ? <Admin at={at} /> : <p role="alert">The admin screens need an administrator account.</p>;
  }
  return <p role="alert">Nothing here. <a href="/app/">Back to the market</a></p>;
}

function App() {
  const s = useStore(session);
  const at = useStore(path);
  const userId = s?.user.id ?? null;
  // A fresh client, cache and socket per user: nothing of one user's data survives a logout.
  const clients = useMemo(() => (userId ? makeClients() : null), [userId]);
  useEffect(() => () => clients?.dispose(), [clients]);

  useEffect(() => {
    if (!s && at !== '/login' && at !== '/signup') navigate('/login', true);
    if (s && (at === '/login' || at === '/signup')) navigate('/', true);
  }, [s, at]);

  if (!s || !clients) return <Login signup={at === '/signup'} />;
  return (
    <Provider value={clients.urql}>
      <Shell>
        <Screen at={at} admin={s.user.role === 'ADMIN'} />
      </Shell>
    </Provider>
  );
}

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
