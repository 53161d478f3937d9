// Market hours per weekday, holidays, and the emergency switch (open / close / back to the
// schedule, with a reason). Each change answers with the new `marketState`, which the cache
// puts in the status strip at once; every other screen hears it over `marketState`.
import { useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import { graphql } from '../../../gql';
import { Field, Loading, Problems, Success } from '../../components/ui';
import { forField, general, problems, type Problem } from '../../lib/errors';
import { opening } from '../../components/Shell';
import { dateTime } from '../../lib/format';

const MarketAdminQuery = graphql(`
  query AdminMarket {
    marketState { ...MarketStateFields }
    marketHours { id day open close closed }
    holidays { id date name }
  }
`);

const UpdateHours = graphql(`
  mutation UpdateMarketHours($input: MarketHoursInput!) {
    updateMarketHours(input: $input) {
      marketDay { id day open close closed }
      marketState { ...MarketStateFields }
      userErrors { field message code }
    }
  }
`);

const AddHoliday = graphql(`
  mutation AddHoliday($input: HolidayInput!) {
    addHoliday(input: $input) {
      holiday { id date name }
      marketState { ...MarketStateFields }
      userErrors { field message code }
    }
  }
`);

const DeleteHoliday = graphql(`
  mutation DeleteHoliday($input: DeleteHolidayInput!) {
    deleteHoliday(input: $input) {
      holiday { id }
      marketState { ...MarketStateFields }
      userErrors { field message code }
    }
  }
`);

const SetOverride = graphql(`
  mutation SetMarketOverride($input: MarketOverrideInput!) {
    setMarketOverride(input: $input) {
      marketState { ...MarketStateFields }
      userErrors { field message code }
    }
  }
`);

const ClearOverride = graphql(`
  mutation ClearMarketOverride {
    clearMarketOverride {
      marketState { ...MarketStateFields }
      userErrors { field message code }
    }
  }
`);

const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

type Day = { id: string; day: number; open: string; close: string; closed: boolean };

function HoursRow(props: { day: Day }) {
  const [open, setOpen] = useState(props.day.open);
  const [close, setClose] = useState(props.day.close);
  const [closed, setClosed] = useState(props.day.closed);
  const [errors, setErrors] = useState<Problem[]>([]);
  const [saved, setSaved] = useState(false);
  const [state, save] = useMutation(UpdateHours);
  const name = DAYS[props.day.day] ?? `Day ${props.day.day}`;
  const submit = async (e: Event) => {
    e.preventDefault();
    setSaved(false);
    const r = await save({ input: { day: props.day.day, open, close, closed } });
    const list = problems(r.error, r.data?.updateMarketHours.userErrors);
    setErrors(list);
    setSaved(list.length === 0);
  };
  const idp = `hours-${props.day.day}`;
  return (
    <form class="inline-form hours-row" onSubmit={submit} aria-label={`${name} hours`}>
      <strong class="day">{name}</strong>
      <Field id={`${idp}-open`} label="Opens" problem={forField(errors, 'open')}>
        {(a) => <input {...a} type="time" value={open} disabled={closed} onInput={(e) => setOpen(e.currentTarget.value)} />}
      </Field>
      <Field id={`${idp}-close`} label="Closes" problem={forField(errors, 'close')}>
        {(a) => <input {...a} type="time" value={close} disabled={closed} onInput={(e) => setClose(e.currentTarget.value)} />}
      </Field>
      <label class="check">
        <input type="checkbox" checked={closed} onChange={(e) => setClosed(e.currentTarget.checked)} /> Closed all day
      </label>
      <button type="submit" disabled={state.fetching}>Save</button>
      {saved ? <span class="up small" role="status">Saved</span> : null}
      <Problems list={general(errors, ['open', 'close'])} />
    </form>
  );
}

export function MarketAdmin() {
  const [{ data, error, fetching }, reload] = useQuery({ query: MarketAdminQuery, requestPolicy: 'cache-and-network' });
  const [, setOverride] = useMutation(SetOverride);
  const [, clearOverride] = useMutation(ClearOverride);
  const [, addHoliday] = useMutation(AddHoliday);
  const [, deleteHoliday] = useMutation(DeleteHoliday);
  const [reason, setReason] = useState('');
  const [switchResult, setSwitchResult] = useState<{ ok: string | null; problems: Problem[] }>({ ok: null, problems: [] });
  const [date, setDate] = useState('');
  const [holidayName, setHolidayName] = useState('');
  const [holidayErrors, setHolidayErrors] = useState<Problem[]>([]);

  const flip = async (open: boolean | null) => {
    const r = open === null ? await clearOverride({}) : await setOverride({ input: { open, reason: reason.trim() || null } });
    const payload = r.data && ('setMarketOverride' in r.data ? r.data.setMarketOverride : r.data.clearMarketOverride);
    const list = problems(r.error, payload?.userErrors);
    const m = payload?.marketState;
    setSwitchResult({
      ok: m && list.length === 0 ? `The market is now ${m.isOpen ? 'open' : 'closed'}${m.emergency ? ' (held by the override)' : ' (on its schedule)'}.` : null,
      problems: list,
    });
  };

  const add = async (e: Event) => {
    e.preventDefault();
    const r = await addHoliday({ input: { date, name: holidayName.trim() } });
    const list = problems(r.error, r.data?.addHoliday.userErrors);
    setHolidayErrors(list);
    if (list.length === 0) {
      setDate('');
      setHolidayName('');
      reload({ requestPolicy: 'network-only' });
    }
  };
  const remove = async (id: string) => {
    const r = await deleteHoliday({ input: { id } });
    const list = problems(r.error, r.data?.deleteHoliday.userErrors);
    setHolidayErrors(list);
    if (list.length === 0) reload({ requestPolicy: 'network-only' });
  };

  const m = data?.marketState;
  return (
    <>
      <h1>Market hours and holidays</h1>
      <Problems list={problems(error)} />
      {fetching && !data ? <Loading what="the market's calendar" /> : null}

      <section class="card" aria-labelledby="switch-title">
        <h2 id="switch-title">Emergency switch</h2>
        {m ? (
          <p data-testid="admin-market-state">
            Now <strong>{m.isOpen ? 'open' : 'closed'}</strong>
            {m.emergency ? ' — held by the override' : ' — following the schedule'}
            {m.reason ? `: ${m.reason}` : ''}. {m.isOpen ? `Closes ${dateTime(m.nextClose)}` : opening(m)}.
          </p>
        ) : null}
        <div class="inline-form">
          <Field id="override-reason" label="Reason (shown to everyone)" problem={forField(switchResult.problems, 'reason')}>
            {(a) => <input {...a} size={40} value={reason} onInput={(e) => setReason(e.currentTarget.value)} placeholder="e.g. exchange outage" />}
          </Field>
          <button type="button" class="danger" onClick={() => void flip(false)}>Close market now</button>
          <button type="button" onClick={() => void flip(true)}>Open market now</button>
          <button type="button" onClick={() => void flip(null)}>Back to schedule</button>
        </div>
        <Problems list={general(switchResult.problems, ['reason'])} />
        {switchResult.ok ? <Success>{switchResult.ok}</Success> : null}
      </section>

      <h2>Weekly hours <span class="muted small">(in {m?.timezone ?? 'the market time zone'})</span></h2>
      <div class="card hours">
        {(data?.marketHours ?? []).map((d) => <HoursRow key={d.id} day={d} />)}
      </div>

      <h2>Holidays</h2>
      <form class="card inline-form" onSubmit={add} aria-label="Add a holiday">
        <Field id="holiday-date" label="Date" problem={forField(holidayErrors, 'date')}>
          {(a) => <input {...a} type="date" required value={date} onInput={(e) => setDate(e.currentTarget.value)} />}
        </Field>
        <Field id="holiday-name" label="Name" problem={forField(holidayErrors, 'name')}>
          {(a) => <input {...a} required value={holidayName} onInput={(e) => setHolidayName(e.currentTarget.value)} />}
        </Field>
        <button type="submit" class="primary">Add holiday</button>
      </form>
      <Problems list={general(holidayErrors, ['date', 'name'])} />
      <ul class="holidays">
        {(data?.holidays ?? []).map((h) => (
          <li key={h.id} data-date={h.date}>
            <span>{h.date}</span> {h.name}{' '}
            <button type="button" class="danger" onClick={() => void remove(h.id)} aria-label={`Delete holiday ${h.name} on ${h.date}`}>Delete</button>
          </li>
        ))}
      </ul>
    </>
  );
}
