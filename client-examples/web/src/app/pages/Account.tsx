// The account: who is logged in, the leaderboard name, and the password change. A change ends every session of the
// account on every device; this tab goes on with the fresh session the server answers with.
import { useState } from 'preact/hooks';
import { Field, Problems, Success } from '../components/ui';
import { changePassword, session } from '../lib/auth';
import { forField, general, type Problem } from '../lib/errors';
import { useStore } from '../lib/store';
import { LeaderboardName } from './LeaderboardName';

const FIELDS = ['currentPassword', 'newPassword', 'repeatPassword'];

export function Account() {
  const s = useStore(session);
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Problem[]>([]);
  const [ok, setOk] = useState(false);
  const edited = () => {
    setErrors([]);
    setOk(false);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setOk(false);
    const mine: Problem[] = [];
    if (!current) mine.push({ code: 'BAD_USER_INPUT', field: 'currentPassword', message: 'Enter the password you log in with now.' });
    if (!next) mine.push({ code: 'BAD_USER_INPUT', field: 'newPassword', message: 'Enter a new password.' });
    else if (next !== repeat) mine.push({ code: 'BAD_USER_INPUT', field: 'repeatPassword', message: 'The two new passwords differ.' });
    if (mine.length) {
      setErrors(mine);
      return;
    }
    setBusy(true);
    const result = await changePassword(current, next);
    setBusy(false);
    if (result.ok) {
      setCurrent('');
      setNext('');
      setRepeat('');
      setErrors([]);
      setOk(true);
    } else {
      setErrors(result.problems);
    }
  };

  return (
    <section class="narrow">
      <h1>Account</h1>
      <dl class="facts">
        <div><dt>Name</dt><dd data-testid="account-name">{s?.user.name}</dd></div>
        <div><dt>Email</dt><dd data-testid="account-email">{s?.user.email}</dd></div>
        <div><dt>Role</dt><dd>{s?.user.role === 'ADMIN' ? 'Administrator' : 'Customer'}</dd></div>
      </dl>
      <LeaderboardName />
      <form class="card" onSubmit={submit} aria-label="Change password" noValidate>
        <h2>Change password</h2>
        <p class="muted small">
          Changing it logs you out everywhere else (other tabs and devices); you stay logged in here.
        </p>
        <Field id="current-password" label="Current password" problem={forField(errors, 'currentPassword')}>
          {(a) => <input {...a} type="password" autoComplete="current-password" value={current} onInput={(e) => { setCurrent(e.currentTarget.value); edited(); }} />}
        </Field>
        <Field id="new-password" label="New password" problem={forField(errors, 'newPassword')} hint="8–128 characters, not a common password, not the current one.">
          {(a) => <input {...a} type="password" autoComplete="new-password" value={next} onInput={(e) => { setNext(e.currentTarget.value); edited(); }} />}
        </Field>
        <Field id="repeat-password" label="New password again" problem={forField(errors, 'repeatPassword')}>
          {(a) => <input {...a} type="password" autoComplete="new-password" value={repeat} onInput={(e) => { setRepeat(e.currentTarget.value); edited(); }} />}
        </Field>
        <Problems list={general(errors, FIELDS)} />
        {ok ? <Success>Password changed. Every other session has ended; this one goes on.</Success> : null}
        <button type="submit" class="primary" disabled={busy}>Change password</button>
      </form>
    </section>
  );
}
