// Market hours per weekday, the calendar days admins list (holidays, early closes, days open
// as usual) beside the calendar the schedule applies, and the emergency switch (open / close /
// back to the schedule, with a reason). Each change answers with the new `marketState`, which the cache
// puts in the status strip at once; every other screen hears it over `marketState`.
import { useEffect, useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import { graphql } from '../../../gql';
import { Field, Loading, Problems, Success } from '../../components/ui';
import { forField, general, problems, type Problem } from '../../lib/errors';
import { opening } from '../../components/Shell';
import type { CalendarDayKind } from '../../../gql/graphql';
import { calendarDate, dateTime, marketDate } from '../../lib/format';

const MarketAdminQuery = graphql(`
  query AdminMarket {
    marketState { ...MarketStateFields }
    marketHours { id day open close closed }
    holidays { id date name kind closeTime }
  }
`);

const CalendarQuery = graphql(`
  query AdminMarketCalendar($from: Date!, $to: Date!) {
    marketCalendar(from: $from, to: $to) { date kind closeTime name source holiday { id } }
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
      holiday { id date name kind closeTime }
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

const KINDS: { value: CalendarDayKind; label: string }[] = [
  { value: 'HOLIDAY', label: 'Holiday (closed)' },
  { value: 'EARLY_CLOSE', label: 'Early close' },
  { value: 'OPEN', label: 'Open as usual' },
];

function kindText(kind: string, closeTime?: string | null): string {
  if (kind === 'EARLY_CLOSE') return `closes at ${closeTime ?? '?'}`;
  if (kind === 'HOLIDAY') return 'closed';
  if (kind === 'OPEN') return 'open as usual';
  return kind;
}

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

/** The calendar as the schedule applies it, for a range of days (computed and listed). */
function CalendarRange(props: { version: number; onDelete: (id: string) => void }) {
  const [from, setFrom] = useState(() => marketDate());
  const [to, setTo] = useState(() => marketDate(365));
  const [asked, setAsked] = useState({ from, to });
  const [{ data, error, fetching }, reload] = useQuery({ query: CalendarQuery, variables: asked, requestPolicy: 'cache-and-network' });
  useEffect(() => {
    if (props.version) reload({ requestPolicy: 'network-only' });
  }, [props.version]);
  const list = problems(error);
  return (
    <section class="card" aria-labelledby="calendar-title">
      <h2 id="calendar-title">Calendar</h2>
      <p class="muted small">The days whose hours differ from their weekday's, as the schedule applies them: the exchange's rules and the days listed above.</p>
      <form
        class="inline-form"
        aria-label="Calendar range"
        onSubmit={(e) => {
          e.preventDefault();
          setAsked({ from, to });
        }}
      >
        <Field id="calendar-from" label="From" problem={forField(list, 'from')}>
          {(a) => <input {...a} type="date" required value={from} onInput={(e) => setFrom(e.currentTarget.value)} />}
        </Field>
        <Field id="calendar-to" label="To" problem={forField(list, 'to')}>
          {(a) => <input {...a} type="date" required value={to} onInput={(e) => setTo(e.currentTarget.value)} />}
        </Field>
        <button type="submit">Show</button>
      </form>
      <Problems list={general(list, ['from', 'to'])} />
      {fetching && !data ? <Loading what="the calendar" /> : null}
      {data && data.marketCalendar.length === 0 ? <p class="muted">No special days in this range.</p> : null}
      {data && data.marketCalendar.length > 0 ? (
        <div class="table-wrap">
          <table class="calendar">
            <thead><tr><th>Date</th><th>Hours</th><th>Name</th><th>Source</th><th><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {data.marketCalendar.map((d) => (
                <tr key={d.date} data-date={d.date} data-kind={d.kind} data-source={d.source}>
                  <td>{calendarDate(d.date)}</td>
                  <td>{kindText(d.kind, d.closeTime)}</td>
                  <td>{d.name}</td>
                  <td>{d.source === 'ADMIN' ? 'listed by an admin' : d.source === 'EXCHANGE_RULE' ? "exchange's rules" : d.source}</td>
                  <td>
                    {d.holiday ? (
                      <button type="button" class="danger" onClick={() => d.holiday && props.onDelete(d.holiday.id)} aria-label={`Delete ${d.name} on ${d.date} from the calendar`}>
                        Delete
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
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
  const [dayName, setDayName] = useState('');
  const [kind, setKind] = useState<CalendarDayKind>('HOLIDAY');
  const [closeTime, setCloseTime] = useState('13:00');
  const [dayErrors, setDayErrors] = useState<Problem[]>([]);
  const [dayOk, setDayOk] = useState<string | null>(null);
  // Bumped after each change of the listed days: the calendar range reads again.
  const [version, setVersion] = useState(0);

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

  const changed = () => {
    reload({ requestPolicy: 'network-only' });
    setVersion((v) => v + 1);
  };

  const add = async (e: Event) => {
    e.preventDefault();
    setDayOk(null);
    if (!date) {
      setDayErrors([{ code: 'BAD_USER_INPUT', field: 'date', message: 'Pick the day.' }]);
      return;
    }
    // An empty closing time is sent as none: the server says an early close needs one.
    const r = await addHoliday({
      input: { date, name: dayName.trim(), kind, closeTime: kind === 'EARLY_CLOSE' ? closeTime || null : null },
    });
    const payload = r.data?.addHoliday;
    const list = problems(r.error, payload?.userErrors);
    setDayErrors(list);
    if (list.length === 0 && payload?.holiday) {
      setDayOk(`Listed ${payload.holiday.date}: ${payload.holiday.name}, ${kindText(payload.holiday.kind, payload.holiday.closeTime)}.`);
      setDate('');
      setDayName('');
      changed();
    }
  };
  const remove = async (id: string) => {
    setDayOk(null);
    const r = await deleteHoliday({ input: { id } });
    const list = problems(r.error, r.data?.deleteHoliday.userErrors);
    setDayErrors(list);
    if (list.length === 0) changed();
  };

  const m = data?.marketState;
  return (
    <>
      <h1>Market hours and calendar</h1>
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

      <h2>Listed days</h2>
      <p class="muted small">
        A listed day replaces what the exchange's rules say of its date: close it, close it early, or keep it open on a day the rules would close or shorten.
      </p>
      <form class="card inline-form" onSubmit={add} aria-label="Add a calendar day" noValidate>
        <Field id="day-date" label="Date" problem={forField(dayErrors, 'date')}>
          {(a) => <input {...a} type="date" required value={date} onInput={(e) => setDate(e.currentTarget.value)} />}
        </Field>
        <Field id="day-name" label="Name" problem={forField(dayErrors, 'name')}>
          {(a) => <input {...a} required value={dayName} onInput={(e) => setDayName(e.currentTarget.value)} placeholder="e.g. National Day of Mourning" />}
        </Field>
        <Field id="day-kind" label="Kind" problem={forField(dayErrors, 'kind')}>
          {(a) => (
            <select {...a} value={kind} onChange={(e) => setKind(e.currentTarget.value as CalendarDayKind)}>
              {KINDS.map((k) => <option key={k.value} value={k.value}>{k.label}</option>)}
            </select>
          )}
        </Field>
        {kind === 'EARLY_CLOSE' ? (
          <Field id="day-close" label="Closes at" problem={forField(dayErrors, 'closeTime')}>
            {(a) => <input {...a} type="time" required value={closeTime} onInput={(e) => setCloseTime(e.currentTarget.value)} />}
          </Field>
        ) : null}
        <button type="submit" class="primary">Add day</button>
      </form>
      <Problems list={general(dayErrors, ['date', 'name', 'kind', 'closeTime'])} />
      {dayOk ? <Success>{dayOk}</Success> : null}
      {data && data.holidays.length === 0 ? <p class="muted">No listed days: the exchange's rules alone decide.</p> : null}
      <ul class="holidays">
        {(data?.holidays ?? []).map((h) => (
          <li key={h.id} data-date={h.date} data-kind={h.kind}>
            <span>{h.date}</span> {h.name} <span class="muted small">({kindText(h.kind, h.closeTime)})</span>{' '}
            <button type="button" class="danger" onClick={() => void remove(h.id)} aria-label={`Delete calendar day ${h.name} on ${h.date}`}>Delete</button>
          </li>
        ))}
      </ul>

      <CalendarRange version={version} onDelete={(id) => void remove(id)} />
    </>
  );
}
