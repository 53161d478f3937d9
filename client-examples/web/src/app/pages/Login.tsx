// Sign up and log in. Tokens stay in memory: a reload means logging in again.
import { useState } from 'preact/hooks';
import { login, notice, register } from '../lib/auth';
import { forField, general, type Problem } from '../lib/errors';
import { navigate } from '../lib/router';
import { useStore } from '../lib/store';
import { Field, Link, Problems } from '../components/ui';

export function Login(props: { signup: boolean }) {
  const why = useStore(notice);
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Problem[]>([]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const r = props.signup ? await register(name, email, password) : await login(email, password);
    setBusy(false);
    if (r.ok) navigate('/', true);
    else setErrors(r.problems);
  };
  const fields = ['name', 'email', 'password'];

  return (
    <main class="auth">
      <h1>Zebrat</h1>
      <p class="muted">A stock-trading simulator: simulated prices, play money.</p>
      {why ? <div class="alert info" role="status">{why}</div> : null}
      <form onSubmit={submit} class="card" aria-label={props.signup ? 'Sign up' : 'Log in'}>
        <h2>{props.signup ? 'Create an account' : 'Log in'}</h2>
        {props.signup ? (
          <Field id="name" label="Name" problem={forField(errors, 'name')}>
            {(a) => <input {...a} name="name" autocomplete="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />}
          </Field>
        ) : null}
        <Field id="email" label="Email" problem={forField(errors, 'email')}>
          {(a) => <input {...a} name="email" type="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />}
        </Field>
        <Field id="password" label="Password" problem={forField(errors, 'password')} hint={props.signup ? 'At least 8 characters.' : undefined}>
          {(a) => (
            <input {...a} name="password" type="password" autocomplete={props.signup ? 'new-password' : 'current-password'} required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
          )}
        </Field>
        <Problems list={general(errors, fields)} />
        <button type="submit" class="primary" disabled={busy}>{props.signup ? 'Sign up' : 'Log in'}</button>
        <p>
          {props.signup ? (
            <>Have an account? <Link to="/login">Log in</Link></>
          ) : (
            <>New here? <Link to="/signup">Create an account</Link></>
          )}
        </p>
        {!props.signup ? <p class="muted small">Demo: demo@example.com / demo123 · admin@example.com / admin123</p> : null}
      </form>
      <p class="muted small">Developers: the API has a GraphiQL at <a href="/">/</a> (when enabled).</p>
    </main>
  );
}
