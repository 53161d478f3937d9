// One stock: a candlestick chart (1H / 4H / 1D) that moves with each tick, the day's open,
// high and low, and the order ticket.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { useQuery, useSubscription } from '@urql/preact';
import type { UTCTimestamp } from 'lightweight-charts';
import { graphql } from '../../gql';
import type { CandleInterval } from '../../gql/graphql';
import { CandleChart, type Bar } from '../components/charts';
import { Change, Link, Loading, Problems } from '../components/ui';
import { problems } from '../lib/errors';
import { marketZone, money, percent, signedMoney, timestamp } from '../lib/format';
import { OrderTicket } from './Ticket';

const StockQuery = graphql(`
  query StockPage($symbol: String!) {
    stock(by: { symbol: $symbol }) {
      id symbol name price change changePercent open high low previousClose active updatedAt
    }
  }
`);

const CandlesQuery = graphql(`
  query StockCandles($symbol: String!, $interval: CandleInterval!) {
    candles(stock: { symbol: $symbol }, interval: $interval, last: 150) {
      truncated
      candles { id bucketStart open high low close isFinal }
    }
  }
`);

const LiveCandle = graphql(`
  subscription LiveCandle($symbol: String!, $interval: CandleInterval!) {
    liveCandle(stocks: [{ symbol: $symbol }], interval: $interval) {
      id bucketStart open high low close isFinal
      stock { id price change changePercent open high low updatedAt }
    }
  }
`);

const intervals: [CandleInterval, string][] = [
  ['H1', '1H'],
  ['H4', '4H'],
  ['D1', '1D'],
];

type CandleLike = { bucketStart: string; open: string; high: string; low: string; close: string };
function bar(c: CandleLike): Bar {
  return {
    time: Math.floor(Date.parse(c.bucketStart) / 1000) as UTCTimestamp,
    open: Number(c.open),
    high: Number(c.high),
    low: Number(c.low),
    close: Number(c.close),
  };
}

export function StockPage(props: { symbol: string }) {
  const symbol = props.symbol.toUpperCase();
  const [interval, setInterval] = useState<CandleInterval>('H1');
  const [{ data, error, fetching }] = useQuery({ query: StockQuery, variables: { symbol }, requestPolicy: 'cache-and-network' });
  const [{ data: series, error: seriesError }] = useQuery({
    query: CandlesQuery,
    variables: { symbol, interval },
    requestPolicy: 'cache-and-network',
  });
  const [{ data: live }] = useSubscription({ query: LiveCandle, variables: { symbol, interval } });

  const bars = useMemo(() => (series?.candles.candles ?? []).map(bar), [series]);
  const liveBar = live?.liveCandle ? bar(live.liveCandle) : null;
  useEffect(() => {
    document.title = `${symbol} · Zebrat`;
    return () => {
      document.title = 'Zebrat';
    };
  }, [symbol]);

  const s = data?.stock;
  if (fetching && !data) return <Loading what={symbol} />;
  if (data && !s) {
    return (
      <section>
        <h1>{symbol}</h1>
        <p role="alert">There is no stock {symbol}. <Link to="/">Back to the market</Link></p>
      </section>
    );
  }
  return (
    <section class="stock-page">
      <Problems list={problems(error ?? seriesError)} />
      {s ? (
        <>
          <header class="stock-head">
            <h1>
              {s.symbol} <span class="muted">{s.name}</span>
            </h1>
            <p class="quote-line">
              <span class="price big" data-testid="stock-price">{money(s.price)}</span>{' '}
              <Change value={s.change}>
                {signedMoney(s.change)} ({percent(s.changePercent)})
              </Change>
              {!s.active ? <span class="badge">halted</span> : null}
            </p>
            <dl class="facts">
              <div><dt>Open</dt><dd data-testid="day-open">{money(s.open)}</dd></div>
              <div><dt>Day high</dt><dd data-testid="day-high">{money(s.high)}</dd></div>
              <div><dt>Day low</dt><dd data-testid="day-low">{money(s.low)}</dd></div>
              <div><dt>Previous close</dt><dd>{money(s.previousClose)}</dd></div>
              <div><dt>Updated</dt><dd>{timestamp(s.updatedAt)}</dd></div>
            </dl>
          </header>
          <div class="stock-body">
            <div class="chart-panel card">
              <div class="tabs" role="group" aria-label="Candle interval">
                {intervals.map(([value, label]) => (
                  <button key={value} type="button" aria-pressed={interval === value} onClick={() => setInterval(value)}>
                    {label}
                  </button>
                ))}
                <span class="muted small">Times in {marketZone()}</span>
              </div>
              <CandleChart bars={bars} live={liveBar} daily={interval === 'D1'} label={`${s.symbol} ${interval} candles`} />
            </div>
            <OrderTicket stock={s} />
          </div>
        </>
      ) : null}
    </section>
  );
}
