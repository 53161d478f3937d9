// Candle coverage: per stock and interval, how many candles, from when to when, and the
// buckets the trading calendar expects that have none (gaps).
import { useState } from 'preact/hooks';
import { useQuery } from '@urql/preact';
import { graphql } from '../../../gql';
import { Loading, Problems } from '../../components/ui';
import { problems } from '../../lib/errors';
import { count, timestamp } from '../../lib/format';

const CandleStatsQuery = graphql(`
  query CandleStats {
    candleStats { id interval count firstBucket lastBucket gaps stock { id symbol } }
  }
`);

export function CandleCoverage() {
  const [{ data, error, fetching }, reload] = useQuery({ query: CandleStatsQuery, requestPolicy: 'cache-and-network' });
  const [onlyGaps, setOnlyGaps] = useState(false);
  const rows = (data?.candleStats ?? []).filter((r) => !onlyGaps || r.gaps > 0);
  const withGaps = (data?.candleStats ?? []).filter((r) => r.gaps > 0).length;
  return (
    <>
      <h1>Candle coverage</h1>
      <div class="toolbar">
        <label class="check">
          <input type="checkbox" checked={onlyGaps} onChange={(e) => setOnlyGaps(e.currentTarget.checked)} /> Only series with gaps
        </label>
        <button type="button" onClick={() => reload({ requestPolicy: 'network-only' })}>Refresh</button>
        {data ? <span class="muted small">{withGaps} series with gaps</span> : null}
      </div>
      <Problems list={problems(error)} />
      {fetching && !data ? <Loading what="candle statistics" /> : null}
      <div class="table-wrap">
        <table class="candle-stats">
          <thead><tr><th>Stock</th><th>Interval</th><th class="num">Candles</th><th>First</th><th>Last</th><th class="num">Gaps</th></tr></thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} class={r.gaps > 0 ? 'gaps' : ''} data-symbol={r.stock.symbol} data-interval={r.interval}>
                <td>{r.stock.symbol}</td>
                <td>{r.interval}</td>
                <td class="num">{count(r.count)}</td>
                <td class="small">{timestamp(r.firstBucket)}</td>
                <td class="small">{timestamp(r.lastBucket)}</td>
                <td class="num">{r.gaps}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
