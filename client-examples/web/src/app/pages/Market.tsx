// Every stock with its price, change and a sparkline, moving live. The `ticks` feed carries
// `Stock` objects (TickBatch.stocks): the cache merges them into the cards by id.
import { useEffect } from 'preact/hooks';
import { useQuery, useSubscription } from '@urql/preact';
import { graphql } from '../../gql';
import { Sparkline } from '../components/charts';
import { Change, Link, Loading, Problems } from '../components/ui';
import { problems } from '../lib/errors';
import { money, percent, signedMoney } from '../lib/format';

const MarketQuery = graphql(`
  query Market {
    stocks { id symbol name price change changePercent trend active }
  }
`);

const MarketTicks = graphql(`
  subscription MarketTicks {
    ticks {
      seq
      at
      stocks { id price change changePercent high low updatedAt }
    }
  }
`);

export function Market() {
  const [{ data, error, fetching }, reload] = useQuery({ query: MarketQuery, requestPolicy: 'cache-and-network' });
  const [{ data: tick }] = useSubscription({ query: MarketTicks });
  const stocks = data?.stocks ?? [];

  // A stock created since the list was read arrives in a tick before it is in the list.
  useEffect(() => {
    const known = new Set(stocks.map((s) => s.id));
    if (data && tick?.ticks.stocks.some((s) => !known.has(s.id))) reload({ requestPolicy: 'network-only' });
  }, [tick?.ticks.seq]);

  return (
    <section>
      <h1>Market</h1>
      <Problems list={problems(error)} />
      {fetching && !data ? <Loading what="stocks" /> : null}
      <ul class="cards" aria-label="Stocks">
        {stocks.map((s) => {
          const points = [...(s.trend ?? []).map(Number), Number(s.price)];
          return (
            <li key={s.id} class="card stock-card" data-symbol={s.symbol}>
              <Link to={`/stocks/${encodeURIComponent(s.symbol)}`} class="stretch" aria-label={`${s.symbol}, ${s.name}`}>
                <div class="row">
                  <strong class="symbol">{s.symbol}</strong>
                  <span class="price" data-testid="price">{money(s.price)}</span>
                </div>
                <div class="row">
                  <span class="name muted">{s.name}</span>
                  <Change value={s.change}>
                    {signedMoney(s.change)} ({percent(s.changePercent)})
                  </Change>
                </div>
                <Sparkline points={points} up={Number(s.change) >= 0} label={`${s.symbol}: last 24 hours`} />
                {!s.active ? <span class="badge">halted</span> : null}
              </Link>
            </li>
          );
        })}
      </ul>
      {tick ? <p class="muted small" data-testid="tick-seq">Tick round {tick.ticks.seq}</p> : null}
    </section>
  );
}
