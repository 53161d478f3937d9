// The players (accounts that chose a leaderboard name) ranked by their return over a period,
// as of the latest recorded instant. The top 20 move live with the `leaderboard` feed; further
// pages load by cursor. The viewer's own row is highlighted.
import { useQuery, useSubscription } from '@urql/preact';
import { useState } from 'preact/hooks';
import { graphql } from '../../gql';
import type { HistoryPeriod, LeaderboardFieldsFragment } from '../../gql/graphql';
import { Change, Link, Loading, Problems } from '../components/ui';
import { problems } from '../lib/errors';
import { count, dateTime, money, percent } from '../lib/format';

const PAGE = 20;

const LeaderboardFields = graphql(`
  fragment LeaderboardFields on Leaderboard {
    period
    asOf
    totalCount
    nodes { rank name returnPercent equity isViewer }
    pageInfo { hasNextPage endCursor }
  }
`);
void LeaderboardFields;

const LeaderboardQuery = graphql(`
  query LeaderboardPage($period: HistoryPeriod!, $first: Int, $after: String) {
    leaderboard(period: $period, first: $first, after: $after) { ...LeaderboardFields }
  }
`);

const LeaderboardFeed = graphql(`
  subscription LeaderboardFeed($period: HistoryPeriod!) {
    leaderboard(period: $period) { ...LeaderboardFields }
  }
`);

const PERIODS: [HistoryPeriod, string][] = [
  ['DAY', 'Day'],
  ['WEEK', 'Week'],
  ['MONTH', 'Month'],
  ['YEAR', 'Year'],
  ['ALL', 'All time'],
];

export function Leaderboard() {
  const [period, setPeriod] = useState<HistoryPeriod>('DAY');
  return (
    <section>
      <h1>Leaderboard</h1>
      <p class="muted">
        Players ranked by their return over the period (deposits and withdrawals are not return).
        Only accounts with a leaderboard name are listed: <Link to="/account">choose yours</Link>.
      </p>
      <div class="tabs" role="group" aria-label="Leaderboard period">
        {PERIODS.map(([value, label]) => (
          <button key={value} type="button" aria-pressed={period === value} onClick={() => setPeriod(value)}>
            {label}
          </button>
        ))}
      </div>
      <Board key={period} period={period} />
    </section>
  );
}

function Board(props: { period: HistoryPeriod }) {
  const [cursors, setCursors] = useState<string[]>([]);
  const [{ data, error, fetching }] = useQuery({
    query: LeaderboardQuery,
    variables: { period: props.period, first: PAGE },
    requestPolicy: 'network-only',
  });
  // The top 20, live: replaces the first page each time a recorded instant changes it.
  const [feed] = useSubscription({ query: LeaderboardFeed, variables: { period: props.period } });
  const first = feed.data?.leaderboard ?? data?.leaderboard;

  if (!first) {
    return (
      <>
        <Problems list={problems(error)} />
        {fetching ? <Loading what="the leaderboard" /> : null}
      </>
    );
  }
  if (!first.asOf) {
    return (
      <p class="muted" data-testid="leaderboard-empty">
        No ranking yet: the first one is recorded within five minutes of the market being open, or at its close.
      </p>
    );
  }
  return (
    <>
      <Problems list={problems(error ?? feed.error)} />
      <p class="muted small" data-testid="leaderboard-as-of">
        As of {dateTime(first.asOf)} · {count(first.totalCount)} {first.totalCount === 1 ? 'player' : 'players'}
      </p>
      {first.nodes.length === 0 ? (
        <p class="muted" data-testid="leaderboard-none">Nobody is ranked yet: choose a leaderboard name to be the first.</p>
      ) : (
        <div class="table-wrap">
          <table class="leaderboard">
            <thead>
              <tr><th class="num">Rank</th><th>Name</th><th class="num">Return</th><th class="num">Value</th></tr>
            </thead>
            <tbody>
              <Rows board={first} />
              {cursors.map((after) => (
                <MorePage key={after} period={props.period} after={after} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMore period={props.period} first={first} cursors={cursors} onMore={(c) => setCursors([...cursors, c])} />
    </>
  );
}

function Rows(props: { board: LeaderboardFieldsFragment }) {
  return (
    <>
      {props.board.nodes.map((n) => (
        <tr key={n.rank + n.name} class={n.isViewer ? 'viewer' : undefined} data-name={n.name} aria-current={n.isViewer ? 'true' : undefined}>
          <td class="num" data-testid="rank">{n.rank}</td>
          <td>{n.name}{n.isViewer ? <span class="muted small"> (you)</span> : null}</td>
          <td class="num" data-testid="return"><Change value={n.returnPercent}>{percent(n.returnPercent)}</Change></td>
          <td class="num">{money(n.equity)}</td>
        </tr>
      ))}
    </>
  );
}

function useMore(period: HistoryPeriod, after: string) {
  return useQuery({ query: LeaderboardQuery, variables: { period, first: PAGE, after }, requestPolicy: 'network-only' })[0];
}

function MorePage(props: { period: HistoryPeriod; after: string }) {
  const { data, error } = useMore(props.period, props.after);
  if (error) {
    return <tr><td colSpan={4}><Problems list={problems(error)} /></td></tr>;
  }
  return data ? <Rows board={data.leaderboard} /> : <tr><td colSpan={4}><Loading what="more players" /></td></tr>;
}

/** "Load more" after the last page shown: the first page's cursor, or the last extra page's. */
function LoadMore(props: { period: HistoryPeriod; first: LeaderboardFieldsFragment; cursors: string[]; onMore: (c: string) => void }) {
  const last = props.cursors[props.cursors.length - 1];
  if (last === undefined) return <MoreButton info={props.first.pageInfo} onMore={props.onMore} />;
  return <LoadMoreAfter period={props.period} after={last} onMore={props.onMore} />;
}

function LoadMoreAfter(props: { period: HistoryPeriod; after: string; onMore: (c: string) => void }) {
  const { data } = useMore(props.period, props.after);
  return data ? <MoreButton info={data.leaderboard.pageInfo} onMore={props.onMore} /> : null;
}

function MoreButton(props: { info: LeaderboardFieldsFragment['pageInfo']; onMore: (c: string) => void }) {
  const { hasNextPage, endCursor } = props.info;
  if (!hasNextPage || !endCursor) return null;
  return (
    <button type="button" onClick={() => props.onMore(endCursor)}>Load more</button>
  );
}
