// Balance, reserved and available cash, the ledger, and the deposit and withdraw forms. The
// payload's `cash` updates the figures everywhere; the ledger is read again after a change.
import { useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import { graphql } from '../../gql';
import { Change, Field, Loading, Pager, Problems, Success, type Cursor } from '../components/ui';
import { forField, general, problems, type Problem } from '../lib/errors';
import { money, randomKey, signedMoney, timestamp } from '../lib/format';

const CashQuery = graphql(`
  query CashPage($first: Int, $after: String, $last: Int, $before: String) {
    cash { id balance reserved available }
    cashTransactions(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      nodes { id type amount balanceAfter reference createdAt order { id } }
    }
  }
`);

const Deposit = graphql(`
  mutation Deposit($input: CashInput!) {
    deposit(input: $input) {
      cash { id balance reserved available }
      userErrors { field message code }
    }
  }
`);

const Withdraw = graphql(`
  mutation Withdraw($input: CashInput!) {
    withdraw(input: $input) {
      cash { id balance reserved available }
      userErrors { field message code }
    }
  }
`);

const PAGE = 20;
const AMOUNT = /^\d+(\.\d{1,2})?$/;

function CashForm(props: { kind: 'deposit' | 'withdraw'; onDone: () => void }) {
  const [amount, setAmount] = useState('');
  const [key, setKey] = useState(() => randomKey(props.kind));
  const [errors, setErrors] = useState<Problem[]>([]);
  const [ok, setOk] = useState<string | null>(null);
  const [depositState, deposit] = useMutation(Deposit);
  const [withdrawState, withdraw] = useMutation(Withdraw);
  const busy = depositState.fetching || withdrawState.fetching;
  const id = `${props.kind}-amount`;

  const submit = async (e: Event) => {
    e.preventDefault();
    setOk(null);
    const value = amount.trim();
    if (!AMOUNT.test(value) || Number(value) <= 0) {
      setErrors([{ code: 'BAD_USER_INPUT', field: 'amount', message: 'Enter an amount in dollars, such as 250 or 99.95.' }]);
      return;
    }
    // Money is a decimal string, never a float; the key makes a retry safe.
    const input = { amount: value, idempotencyKey: key };
    const r = props.kind === 'deposit' ? await deposit({ input }) : await withdraw({ input });
    const payload = r.data && ('deposit' in r.data ? r.data.deposit : r.data.withdraw);
    const list = problems(r.error, payload?.userErrors);
    setErrors(list);
    if (payload?.cash && list.length === 0) {
      setOk(`${props.kind === 'deposit' ? 'Deposited' : 'Withdrew'} ${money(value)}. Available now: ${money(payload.cash.available)}.`);
      setAmount('');
      setKey(randomKey(props.kind));
      props.onDone();
    }
  };

  const title = props.kind === 'deposit' ? 'Deposit' : 'Withdraw';
  return (
    <form class="card" onSubmit={submit} aria-label={title}>
      <h2>{title}</h2>
      <Field id={id} label="Amount (USD)" problem={forField(errors, 'amount')}>
        {(a) => <input {...a} name="amount" inputMode="decimal" autocomplete="off" placeholder="0.00" value={amount} onInput={(e) => setAmount(e.currentTarget.value)} />}
      </Field>
      <Problems list={general(errors, ['amount'])} />
      {ok ? <Success>{ok}</Success> : null}
      <button type="submit" class="primary" disabled={busy}>{title}</button>
    </form>
  );
}

export function Cash() {
  const [cursor, setCursor] = useState<Cursor>({ first: PAGE });
  const [{ data, error, fetching }, reload] = useQuery({ query: CashQuery, variables: cursor, requestPolicy: 'cache-and-network' });
  const refresh = () => {
    setCursor({ first: PAGE });
    reload({ requestPolicy: 'network-only' });
  };
  const c = data?.cash;
  const ledger = data?.cashTransactions;
  return (
    <section>
      <h1>Cash</h1>
      <Problems list={problems(error)} />
      {fetching && !data ? <Loading what="your cash" /> : null}
      {c ? (
        <dl class="stats">
          <div><dt>Balance</dt><dd data-testid="balance">{money(c.balance)}</dd></div>
          <div><dt>Reserved by queued orders</dt><dd data-testid="reserved">{money(c.reserved)}</dd></div>
          <div><dt>Available</dt><dd data-testid="available">{money(c.available)}</dd></div>
        </dl>
      ) : null}
      <div class="grid-2">
        <CashForm kind="deposit" onDone={refresh} />
        <CashForm kind="withdraw" onDone={refresh} />
      </div>
      <h2>Ledger</h2>
      {ledger && ledger.nodes.length === 0 ? <p class="muted">No movements yet.</p> : null}
      {ledger && ledger.nodes.length > 0 ? (
        <div class="table-wrap">
          <table class="ledger">
            <thead><tr><th>When</th><th>Type</th><th class="num">Amount</th><th class="num">Balance after</th><th>Reference</th></tr></thead>
            <tbody>
              {ledger.nodes.map((t) => (
                <tr key={t.id} data-type={t.type}>
                  <td>{timestamp(t.createdAt)}</td>
                  <td>{t.type}</td>
                  <td class="num"><Change value={t.amount}>{signedMoney(t.amount)}</Change></td>
                  <td class="num">{money(t.balanceAfter)}</td>
                  <td class="muted small">{t.reference ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <Pager label="Ledger pages" pageInfo={ledger?.pageInfo} total={ledger?.totalCount} size={PAGE} onPage={setCursor} />
    </section>
  );
}
