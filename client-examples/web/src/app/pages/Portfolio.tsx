// Positions, P&L and total value, moving live: the `portfolio` feed sends the valuation after
// each trade, deposit, withdrawal, reservation and each tick round that moves a position; the
// equity history below it.
import { useQuery, useSubscription } from '@urql/preact';
import { graphql } from '../../gql';
import { Change, Link, Loading, Problems } from '../components/ui';
import { problems } from '../lib/errors';
import { EquityHistory } from './EquityHistory';
import { money, percent, signedMoney, timestamp } from '../lib/format';

const PortfolioFields = graphql(`
  fragment PortfolioFields on Portfolio {
    id
    totalValue
    positionsValue
    dayChange
    unrealizedPnl
    realizedPnl
    updatedAt
    cash { id balance reserved available }
    positions { ...PositionFields }
  }
`);

const PortfolioQuery = graphql(`
  query PortfolioPage {
    portfolio { ...PortfolioFields }
  }
`);

const PortfolioFeed = graphql(`
  subscription PortfolioFeed {
    portfolio { ...PortfolioFields }
  }
`);
void PortfolioFields;

export function Portfolio() {
  const [{ data, error, fetching }] = useQuery({ query: PortfolioQuery, requestPolicy: 'cache-and-network' });
  useSubscription({ query: PortfolioFeed });
  const p = data?.portfolio;
  return (
    <section>
      <h1>Portfolio</h1>
      <Problems list={problems(error)} />
      {fetching && !p ? <Loading what="your portfolio" /> : null}
      {p ? (
        <>
          <dl class="stats">
            <div><dt>Total value</dt><dd data-testid="total-value">{money(p.totalValue)}</dd></div>
            <div><dt>Positions</dt><dd>{money(p.positionsValue)}</dd></div>
            <div><dt>Cash</dt><dd>{money(p.cash.balance)}</dd></div>
            <div><dt>Today</dt><dd><Change value={p.dayChange}>{signedMoney(p.dayChange)}</Change></dd></div>
            <div><dt>Unrealized P&amp;L</dt><dd><Change value={p.unrealizedPnl}>{signedMoney(p.unrealizedPnl)}</Change></dd></div>
            <div><dt>Realized P&amp;L</dt><dd><Change value={p.realizedPnl}>{signedMoney(p.realizedPnl)}</Change></dd></div>
          </dl>
          <p class="muted small">Valued {timestamp(p.updatedAt)}</p>
          <EquityHistory />
          {p.positions.length === 0 ? (
            <p class="muted">No positions yet. <Link to="/">Pick a stock</Link> to buy.</p>
          ) : (
            <div class="table-wrap">
              <table class="positions">
                <thead>
                  <tr><th>Stock</th><th class="num">Shares</th><th class="num">Avg cost</th><th class="num">Price</th><th class="num">Value</th><th class="num">Unrealized P&amp;L</th><th class="num">Realized</th></tr>
                </thead>
                <tbody>
                  {p.positions.map((pos) => (
                    <tr key={pos.id} data-symbol={pos.stock.symbol}>
                      <td><Link to={`/stocks/${pos.stock.symbol}`}>{pos.stock.symbol}</Link> <span class="muted small">{pos.stock.name}</span></td>
                      <td class="num" data-testid="shares">{pos.quantity}{pos.reservedQuantity ? <span class="muted small"> ({pos.reservedQuantity} reserved)</span> : null}</td>
                      <td class="num">{money(pos.averageCost)}</td>
                      <td class="num">{money(pos.currentPrice)}</td>
                      <td class="num">{money(pos.marketValue)}</td>
                      <td class="num"><Change value={pos.unrealizedPnl}>{signedMoney(pos.unrealizedPnl)} ({percent(pos.unrealizedPnlPercent)})</Change></td>
                      <td class="num"><Change value={pos.realizedPnl}>{signedMoney(pos.realizedPnl)}</Change></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      ) : null}
    </section>
  );
}
