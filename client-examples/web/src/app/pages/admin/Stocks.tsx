// Stocks: create one with its price model (GBM drift and volatility per trading day), edit,
// halt and resume.
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import { graphql } from '../../../gql';
import { Field, Link, Loading, Problems, Success } from '../../components/ui';
import { forField, general, problems, type Problem } from '../../lib/errors';
import { money, percent, timestamp } from '../../lib/format';

const AdminStocksQuery = graphql(`
  query AdminStocks {
    adminStocks { id databaseId symbol name price changePercent active updatedAt }
  }
`);

const CreateStock = graphql(`
  mutation CreateStock($input: CreateStockInput!) {
    createStock(input: $input) {
      stock { id databaseId symbol name price changePercent active updatedAt }
      userErrors { field message code }
    }
  }
`);

const UpdateStock = graphql(`
  mutation UpdateStock($input: UpdateStockInput!) {
    updateStock(input: $input) {
      stock { id symbol name active price updatedAt }
      userErrors { field message code }
    }
  }
`);

/** "" → undefined (unchanged / default), else the number (NaN is refused before sending). */
function optionalNumber(text: string): number | undefined {
  return text.trim() === '' ? undefined : Number(text);
}

function CreateForm(props: { onCreated: () => void }) {
  const [symbol, setSymbol] = useState('');
  const [name, setName] = useState('');
  const [price, setPrice] = useState('');
  const [drift, setDrift] = useState('');
  const [volatility, setVolatility] = useState('');
  const [errors, setErrors] = useState<Problem[]>([]);
  const [ok, setOk] = useState<string | null>(null);
  const [state, create] = useMutation(CreateStock);

  const submit = async (e: Event) => {
    e.preventDefault();
    setOk(null);
    const d = optionalNumber(drift);
    const v = optionalNumber(volatility);
    const local: Problem[] = [];
    if (d !== undefined && !Number.isFinite(d)) local.push({ code: 'BAD_USER_INPUT', field: 'drift', message: 'A number, such as 0.0001.' });
    if (v !== undefined && !Number.isFinite(v)) local.push({ code: 'BAD_USER_INPUT', field: 'volatility', message: 'A number, such as 0.02.' });
    if (local.length) return setErrors(local);
    const r = await create({ input: { symbol: symbol.trim(), name: name.trim(), initialPrice: price.trim(), drift: d, volatility: v } });
    const list = problems(r.error, r.data?.createStock.userErrors);
    setErrors(list);
    const stock = r.data?.createStock.stock;
    if (stock && list.length === 0) {
      setOk(`Created ${stock.symbol} at ${money(stock.price)}, with 30 days of history.`);
      setSymbol('');
      setName('');
      setPrice('');
      setDrift('');
      setVolatility('');
      props.onCreated();
    }
  };

  const fields = ['symbol', 'name', 'initialPrice', 'drift', 'volatility'];
  return (
    <form class="card" onSubmit={submit} aria-label="Create a stock">
      <h2>Create a stock</h2>
      <div class="inline-form">
        <Field id="new-symbol" label="Symbol" problem={forField(errors, 'symbol')}>
          {(a) => <input {...a} required size={8} value={symbol} onInput={(e) => setSymbol(e.currentTarget.value.toUpperCase())} />}
        </Field>
        <Field id="new-name" label="Name" problem={forField(errors, 'name')}>
          {(a) => <input {...a} required value={name} onInput={(e) => setName(e.currentTarget.value)} />}
        </Field>
        <Field id="new-price" label="Initial price (USD)" problem={forField(errors, 'initialPrice')}>
          {(a) => <input {...a} required inputMode="decimal" size={10} value={price} onInput={(e) => setPrice(e.currentTarget.value)} />}
        </Field>
        <Field id="new-drift" label="Drift / day" problem={forField(errors, 'drift')} hint="blank: default">
          {(a) => <input {...a} inputMode="decimal" size={8} value={drift} onInput={(e) => setDrift(e.currentTarget.value)} />}
        </Field>
        <Field id="new-volatility" label="Volatility / day" problem={forField(errors, 'volatility')} hint="blank: default">
          {(a) => <input {...a} inputMode="decimal" size={8} value={volatility} onInput={(e) => setVolatility(e.currentTarget.value)} />}
        </Field>
        <button type="submit" class="primary" disabled={state.fetching}>{state.fetching ? 'Creating…' : 'Create'}</button>
      </div>
      <Problems list={general(errors, fields)} />
      {ok ? <Success>{ok}</Success> : null}
    </form>
  );
}

type Row = { id: string; symbol: string; name: string; active: boolean };

function EditRow(props: { stock: Row; onDone: () => void }) {
  const [name, setName] = useState(props.stock.name);
  const [drift, setDrift] = useState('');
  const [volatility, setVolatility] = useState('');
  const [errors, setErrors] = useState<Problem[]>([]);
  const [, update] = useMutation(UpdateStock);
  const submit = async (e: Event) => {
    e.preventDefault();
    const r = await update({
      input: { id: props.stock.id, name: name.trim() || undefined, drift: optionalNumber(drift), volatility: optionalNumber(volatility) },
    });
    const list = problems(r.error, r.data?.updateStock.userErrors);
    setErrors(list);
    if (list.length === 0) props.onDone();
  };
  const idp = `edit-${props.stock.symbol}`;
  return (
    <form class="inline-form" onSubmit={submit} aria-label={`Edit ${props.stock.symbol}`}>
      <Field id={`${idp}-name`} label="Name" problem={forField(errors, 'name')}>
        {(a) => <input {...a} value={name} onInput={(e) => setName(e.currentTarget.value)} />}
      </Field>
      <Field id={`${idp}-drift`} label="Drift / day" problem={forField(errors, 'drift')} hint="blank: unchanged">
        {(a) => <input {...a} size={8} inputMode="decimal" value={drift} onInput={(e) => setDrift(e.currentTarget.value)} />}
      </Field>
      <Field id={`${idp}-volatility`} label="Volatility / day" problem={forField(errors, 'volatility')} hint="blank: unchanged">
        {(a) => <input {...a} size={8} inputMode="decimal" value={volatility} onInput={(e) => setVolatility(e.currentTarget.value)} />}
      </Field>
      <button type="submit" class="primary">Save</button>
      <button type="button" onClick={props.onDone}>Close</button>
      <Problems list={general(errors, ['name', 'drift', 'volatility'])} />
    </form>
  );
}

export function StocksAdmin() {
  const [{ data, error, fetching }, reload] = useQuery({ query: AdminStocksQuery, requestPolicy: 'cache-and-network' });
  const [, update] = useMutation(UpdateStock);
  const [editing, setEditing] = useState<string | null>(null);
  const [rowProblems, setRowProblems] = useState<Problem[]>([]);

  const toggle = async (id: string, active: boolean) => {
    const r = await update({ input: { id, active } });
    setRowProblems(problems(r.error, r.data?.updateStock.userErrors));
  };

  return (
    <>
      <h1>Stocks</h1>
      <CreateForm onCreated={() => reload({ requestPolicy: 'network-only' })} />
      <h2>All stocks, halted included</h2>
      <Problems list={[...problems(error), ...rowProblems]} />
      {fetching && !data ? <Loading what="stocks" /> : null}
      <div class="table-wrap">
        <table class="admin-stocks">
          <thead><tr><th>Symbol</th><th>Name</th><th class="num">Price</th><th class="num">Today</th><th>State</th><th>Updated</th><th><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {(data?.adminStocks ?? []).map((s) => (
              <Fragment key={s.id}>
                <tr data-symbol={s.symbol}>
                  <td><Link to={`/stocks/${s.symbol}`}>{s.symbol}</Link></td>
                  <td>{s.name}</td>
                  <td class="num">{money(s.price)}</td>
                  <td class="num">{percent(s.changePercent)}</td>
                  <td>{s.active ? 'trading' : <span class="badge">halted</span>}</td>
                  <td class="small">{timestamp(s.updatedAt)}</td>
                  <td>
                    <button type="button" onClick={() => setEditing(editing === s.id ? null : s.id)} aria-expanded={editing === s.id}>Edit</button>{' '}
                    {s.active ? (
                      <button type="button" class="danger" onClick={() => void toggle(s.id, false)} aria-label={`Halt ${s.symbol}`}>Halt</button>
                    ) : (
                      <button type="button" onClick={() => void toggle(s.id, true)} aria-label={`Resume ${s.symbol}`}>Resume</button>
                    )}
                  </td>
                </tr>
                {editing === s.id ? (
                  <tr>
                    <td colSpan={7}><EditRow stock={s} onDone={() => setEditing(null)} /></td>
                  </tr>
                ) : null}
              </Fragment>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
