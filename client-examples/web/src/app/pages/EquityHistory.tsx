// The account's value over a period: the recorded points and the live one from
// `portfolioHistory`, then each point the `portfolioHistory` feed records (every five minutes
// while the market is open, and at each close) appended, with profit and return since the
// period began (deposits and withdrawals are not profit).
import { useQuery, useSubscription } from '@urql/preact';
import { useMemo, useState } from 'preact/hooks';
import type { UTCTimestamp } from 'lightweight-charts';
import { graphql } from '../../gql';
import type { HistoryInterval, HistoryPeriod, PortfolioHistoryPointFieldsFragment } from '../../gql/graphql';
import { EquityChart, type EquityPoint } from '../components/charts';
import { Change, Loading, Problems } from '../components/ui';
import { problems } from '../lib/errors';
import { dateTime, marketZone, money, percent, signedMoney } from '../lib/format';

const PointFields = graphql(`
  fragment PortfolioHistoryPointFields on PortfolioHistoryPoint {
    at
    equity
    cash
    positionsValue
    profitLoss
    profitLossPercent
    live
  }
`);
void PointFields;

const HistoryQuery = graphql(`
  query PortfolioHistory($period: HistoryPeriod!) {
    portfolioHistory(period: $period) {
      period
      interval
      baseValue
      baseAt
      points { ...PortfolioHistoryPointFields }
    }
  }
`);

const HistoryFeed = graphql(`
  subscription PortfolioHistoryFeed($period: HistoryPeriod!, $interval: HistoryInterval!) {
    portfolioHistory(period: $period, interval: $interval) { ...PortfolioHistoryPointFields }
  }
`);

type Point = PortfolioHistoryPointFieldsFragment;

const PERIODS: [HistoryPeriod, string][] = [
  ['DAY', 'Day'],
  ['WEEK', 'Week'],
  ['MONTH', 'Month'],
  ['YEAR', 'Year'],
  ['ALL', 'All'],
];

const seconds = (at: string) => Math.floor(Date.parse(at) / 1000) as UTCTimestamp;

/** The recorded points, then the ones the feed brought, then the live one if it is newest. */
function merge(loaded: readonly Point[], appended: readonly Point[]): Point[] {
  const recorded = loaded.filter((p) => !p.live);
  const live = loaded.find((p) => p.live);
  const out: Point[] = [...recorded];
  for (const p of appended) if (!out.length || seconds(p.at) > seconds(out[out.length - 1].at)) out.push(p);
  if (live && (!out.length || seconds(live.at) > seconds(out[out.length - 1].at))) out.push(live);
  return out;
}

export function EquityHistory() {
  const [period, setPeriod] = useState<HistoryPeriod>('DAY');
  return <History key={period} period={period} onPeriod={setPeriod} />;
}

function History(props: { period: HistoryPeriod; onPeriod: (p: HistoryPeriod) => void }) {
  const [{ data, error, fetching }] = useQuery({
    query: HistoryQuery,
    variables: { period: props.period },
    requestPolicy: 'network-only',
  });
  const h = data?.portfolioHistory;
  const [feed] = useSubscription(
    { query: HistoryFeed, variables: { period: props.period, interval: h?.interval ?? ('M5' as HistoryInterval) }, pause: !h },
    (acc: Point[] | undefined, event) => [...(acc ?? []), event.portfolioHistory],
  );
  const points = useMemo(() => merge(h?.points ?? [], feed.data ?? []), [h, feed.data]);
  const chart = useMemo<EquityPoint[]>(
    () => points.map((p) => ({ time: seconds(p.at), value: Number(p.equity) })),
    [points],
  );
  const latest = points.length ? points[points.length - 1] : null;
  const recorded = points.filter((p) => !p.live).length;

  return (
    <div class="card equity-history" aria-label="Equity history" role="region">
      <div class="tabs" role="group" aria-label="History period">
        {PERIODS.map(([value, label]) => (
          <button key={value} type="button" aria-pressed={props.period === value} onClick={() => props.onPeriod(value)}>
            {label}
          </button>
        ))}
        <span class="muted small">Times in {marketZone()}</span>
      </div>
      <Problems list={problems(error ?? feed.error)} />
      {fetching && !h ? <Loading what="the history" /> : null}
      {h && latest ? (
        <>
          <dl class="stats">
            <div><dt>Value now</dt><dd data-testid="history-equity">{money(latest.equity)}</dd></div>
            <div>
              <dt>Profit / loss</dt>
              <dd data-testid="history-pl"><Change value={latest.profitLoss}>{signedMoney(latest.profitLoss)}</Change></dd>
            </div>
            <div>
              <dt>Return</dt>
              <dd data-testid="history-return"><Change value={latest.profitLossPercent}>{percent(latest.profitLossPercent)}</Change></dd>
            </div>
            <div>
              <dt>Since</dt>
              <dd data-testid="history-base">{money(h.baseValue)} <span class="muted small">{dateTime(h.baseAt)}</span></dd>
            </div>
          </dl>
          <EquityChart points={chart} up={Number(latest.profitLoss) >= 0} label={`Equity over the ${props.period.toLowerCase()} period`} />
          <p class="muted small" data-testid="history-count" data-period={h.period} data-recorded={recorded}>
            {recorded} recorded {h.interval} {recorded === 1 ? 'point' : 'points'}
            {latest.live ? ', then the live value' : ''}.
          </p>
        </>
      ) : null}
    </div>
  );
}
