// The name the account shows on the leaderboard: set, changed or cleared (which leaves the
// leaderboard) with `updateMe`. The server's refusals show under the field: BAD_USER_INPUT
// for a malformed name, CONFLICT for one taken or looking like a taken one.
import { useMutation, useQuery } from '@urql/preact';
import { useEffect, useState } from 'preact/hooks';
import { graphql } from '../../gql';
import { Field, Link, Problems, Success } from '../components/ui';
import { forField, general, problems, type Problem } from '../lib/errors';

const MeQuery = graphql(`
  query LeaderboardName {
    me { id leaderboardName }
  }
`);

const UpdateMe = graphql(`
  mutation UpdateLeaderboardName($input: UpdateMeInput!) {
    updateMe(input: $input) {
      user { id leaderboardName }
      userErrors { code field message }
    }
  }
`);

const FIELDS = ['leaderboardName'];

export function LeaderboardName() {
  const [{ data, error }] = useQuery({ query: MeQuery, requestPolicy: 'cache-and-network' });
  const [{ fetching }, update] = useMutation(UpdateMe);
  const saved = data?.me.leaderboardName ?? null;
  const [name, setName] = useState('');
  const [errors, setErrors] = useState<Problem[]>([]);
  const [done, setDone] = useState<string | null>(null);
  useEffect(() => setName(saved ?? ''), [saved]);

  const save = async (value: string | null) => {
    setDone(null);
    const result = await update({ input: { leaderboardName: value } });
    const list = problems(result.error, result.data?.updateMe.userErrors);
    setErrors(list);
    if (list.length === 0 && result.data?.updateMe.user) {
      const now = result.data.updateMe.user.leaderboardName ?? null;
      setName(now ?? '');
      setDone(now ? `You are on the leaderboard as “${now}”.` : 'You have left the leaderboard.');
    }
  };

  const submit = (e: Event) => {
    e.preventDefault();
    const value = name.trim();
    if (!value) {
      setErrors([{ code: 'BAD_USER_INPUT', field: 'leaderboardName', message: 'Enter a name, or use “Leave the leaderboard”.' }]);
      return;
    }
    void save(value);
  };

  return (
    <form class="card" onSubmit={submit} aria-label="Leaderboard name" noValidate>
      <h2>Leaderboard name</h2>
      <p class="muted small" data-testid="leaderboard-status">
        {saved ? <>You are on the <Link to="/leaderboard">leaderboard</Link> as “{saved}”.</> : 'You are not on the leaderboard. Choose a name to join it; others see only the name, your return and your value.'}
      </p>
      <Field id="leaderboard-name" label="Name on the leaderboard" problem={forField(errors, 'leaderboardName')} hint="3–24 letters, digits, spaces, _ - . ; not like another player’s name.">
        {(a) => <input {...a} type="text" autoComplete="nickname" maxLength={64} value={name} onInput={(e) => { setName(e.currentTarget.value); setErrors([]); setDone(null); }} />}
      </Field>
      <Problems list={general([...problems(error), ...errors], FIELDS)} />
      {done ? <Success>{done}</Success> : null}
      <div class="toolbar">
        <button type="submit" class="primary" disabled={fetching}>Save name</button>
        {saved ? <button type="button" disabled={fetching} onClick={() => void save(null)}>Leave the leaderboard</button> : null}
      </div>
    </form>
  );
}
