// Live statistics: `adminStats` is a subscription too (now, then every 5 s).
import { useQuery, useSubscription } from '@urql/preact';
import { graphql } from '../../../gql';
import { Loading, Problems } from '../../components/ui';
import { problems } from '../../lib/errors';
import { count, money, timestamp } from '../../lib/format';

const StatsFields = graphql(`
  fragment StatsFields on AdminStats {
    id
    at
    totalUsers
    activeUsers
    openConnections
    openSubscriptions
    ordersToday
    tradedValueToday
    queuedOrders
  }
`);
void StatsFields;

const StatsQuery = graphql(`
  query AdminStatsNow {
    adminStats { ...StatsFields }
  }
`);

const StatsFeed = graphql(`
  subscription AdminStatsFeed {
    adminStats { ...StatsFields }
  }
`);

export function Stats() {
  const [{ data, error }] = useQuery({ query: StatsQuery, requestPolicy: 'cache-and-network' });
  const [{ error: feedError }] = useSubscription({ query: StatsFeed });
  const s = data?.adminStats;
  return (
    <>
      <h1>Statistics</h1>
      <Problems list={problems(error ?? feedError)} />
      {!s ? <Loading what="statistics" /> : null}
      {s ? (
        <>
          <dl class="stats" data-testid="admin-stats">
            <div><dt>Users</dt><dd>{count(s.totalUsers)}</dd></div>
            <div><dt>Active users</dt><dd>{count(s.activeUsers)}</dd></div>
            <div><dt>Open sockets</dt><dd data-testid="open-connections">{count(s.openConnections)}</dd></div>
            <div><dt>Open subscriptions</dt><dd>{count(s.openSubscriptions)}</dd></div>
            <div><dt>Orders today</dt><dd>{count(s.ordersToday)}</dd></div>
            <div><dt>Traded today</dt><dd>{money(s.tradedValueToday)}</dd></div>
            <div><dt>Queued orders</dt><dd data-testid="queued-orders">{count(s.queuedOrders)}</dd></div>
          </dl>
          <p class="muted small" data-testid="stats-at">As of {timestamp(s.at)} · sockets and subscriptions are this instance's</p>
        </>
      ) : null}
    </>
  );
}
