// The frame of every screen once logged in: navigation, the market's state, the live-feed
// state, and the account feed (order updates) that keeps the cache current on every screen.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useQuery, useSubscription } from '@urql/preact';
import { graphql } from '../../gql';
import { logout, session } from '../lib/auth';
import { socketState } from '../lib/client';
import { dateTime, setMarketZone } from '../lib/format';
import { path } from '../lib/router';
import { useStore } from '../lib/store';
import { Link } from './ui';

export const MarketStateFields = graphql(`
  fragment MarketStateFields on MarketState {
    id
    isOpen
    emergency
    reason
    nextOpen
    nextClose
    timezone
  }
`);

const MarketStateQuery = graphql(`
  query MarketStateNow {
    marketState { ...MarketStateFields }
  }
`);

const MarketStateFeed = graphql(`
  subscription MarketStateFeed {
    marketState { ...MarketStateFields }
  }
`);

export const OrderFields = graphql(`
  fragment OrderFields on Order {
    id
    clientOrderId
    status
    side
    quantity
    type
    timeInForce
    limitPrice
    stopPrice
    trailPercent
    trailAmount
    price
    total
    rejectReason
    reserved { cash shares }
    replacedBy { id }
    createdAt
    updatedAt
    executedAt
    triggeredAt
    expiresAt
    canceledAt
    stock { id symbol name }
  }
`);

export const PositionFields = graphql(`
  fragment PositionFields on Position {
    id
    quantity
    reservedQuantity
    averageCost
    currentPrice
    marketValue
    unrealizedPnl
    unrealizedPnlPercent
    realizedPnl
    stock { id symbol name }
  }
`);

/** The account feed: every order event with the whole order, so any screen subscribing shares
 * one stream and never renders a status without the fields that came with it. */
export const OrderUpdates = graphql(`
  subscription OrderUpdates {
    orderUpdates {
      order { ...OrderFields }
      trade { id price quantity total executedAt }
      cash { id balance reserved available }
      position { ...PositionFields }
    }
  }
`);

/** When a closed market opens: its next scheduled open, or why there is none. */
export function opening(m: { nextOpen?: string | null; emergency: boolean }): string {
  if (m.nextOpen) return `opens ${dateTime(m.nextOpen)}`;
  return m.emergency ? 'closed until an administrator reopens it' : 'no opening scheduled';
}

function MarketStatus() {
  const [{ data }] = useQuery({ query: MarketStateQuery });
  useSubscription({ query: MarketStateFeed });
  const m = data?.marketState;
  useEffect(() => {
    if (m) setMarketZone(m.timezone);
  }, [m?.timezone]);
  if (!m) return <div class="market-status" aria-busy="true">Market: …</div>;
  return (
    <div class={'market-status ' + (m.isOpen ? 'open' : 'closed')} data-testid="market-status" data-open={String(m.isOpen)} role="status">
      <strong>{m.isOpen ? 'Market open' : 'Market closed'}</strong>
      {m.reason ? <span> — {m.reason}</span> : null}
      {m.isOpen && m.nextClose ? <span> · closes {dateTime(m.nextClose)}</span> : null}
      {!m.isOpen ? <span> · {opening(m)}</span> : null}
      <span class="muted"> ({m.timezone})</span>
    </div>
  );
}

/** Shows "reconnecting" once the socket has been down for a moment (a token refresh is quick). */
function SocketStatus() {
  const state = useStore(socketState);
  const [shown, setShown] = useState(state);
  useEffect(() => {
    if (state !== 'reconnecting') {
      setShown(state);
      return;
    }
    const t = setTimeout(() => setShown('reconnecting'), 800);
    return () => clearTimeout(t);
  }, [state]);
  const text = { idle: 'Live: idle', connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' }[shown];
  return (
    <span class={'socket ' + shown} data-testid="socket-status" data-state={shown} role="status" title="Live updates over WebSocket">
      {text}
    </span>
  );
}

function AccountFeed() {
  const [{ data }] = useSubscription({ query: OrderUpdates });
  const event = data?.orderUpdates;
  const [hidden, setHidden] = useState(false);
  useEffect(() => {
    setHidden(false);
    const t = setTimeout(() => setHidden(true), 6_000);
    return () => clearTimeout(t);
  }, [event]);
  if (!event || hidden) return null;
  const o = event.order;
  return (
    <p class="toast" role="status" data-testid="order-toast">
      {o.side === 'BUY' ? 'Buy' : 'Sell'} {o.quantity} {o.stock.symbol}: {o.status.toLowerCase()}
    </p>
  );
}

export function Shell(props: { children: ComponentChildren }) {
  const s = useStore(session);
  const at = useStore(path);
  const [graphiql, setGraphiql] = useState(false);
  useEffect(() => {
    // GraphiQL is off in production unless enabled: link to it only when it is there.
    fetch('/', { method: 'HEAD' }).then((r) => setGraphiql(r.ok), () => setGraphiql(false));
  }, []);
  const links: [string, string][] = [
    ['/', 'Market'],
    ['/orders', 'Orders'],
    ['/portfolio', 'Portfolio'],
    ['/cash', 'Cash'],
    ['/leaderboard', 'Leaderboard'],
  ];
  if (s?.user.role === 'ADMIN') links.push(['/admin', 'Admin']);
  const active = (to: string) => (to === '/' ? at === '/' || at.startsWith('/stocks') : at.startsWith(to));
  return (
    <>
      <header class="top">
        <Link to="/" class="brand">Zebrat</Link>
        <nav aria-label="Main">
          {links.map(([to, label]) => (
            <Link key={to} to={to} class={active(to) ? 'active' : ''} aria-current={active(to) ? 'page' : undefined}>
              {label}
            </Link>
          ))}
          {graphiql ? <a href="/">GraphiQL</a> : null}
        </nav>
        <div class="me">
          <SocketStatus />
          <Link to="/account" class={'who' + (active('/account') ? ' active' : '')} title={`${s?.user.email ?? ''}: account and password`} aria-current={active('/account') ? 'page' : undefined}>
            {s?.user.name}{s?.user.role === 'ADMIN' ? ' (admin)' : ''}
          </Link>
          <button type="button" class="link" onClick={() => void logout()}>Log out</button>
        </div>
      </header>
      <MarketStatus />
      <AccountFeed />
      <main>{props.children}</main>
    </>
  );
}
