// The session: tokens kept in memory only (never in storage a script could read later),
// refreshed silently a minute before the access token expires, and a clean return to the
// login page, with the reason, when a refresh fails.
import { Client, fetchExchange } from '@urql/core';
import { graphql } from '../../gql';
import { problems, type Problem } from './errors';
import { navigate } from './router';
import { store } from './store';

export type Viewer = { id: string; email: string; name: string; role: string };
export type Session = { access: string; refresh: string; user: Viewer; expiresAt: number };

export const session = store<Session | null>(null);
/** Why the user is on the login page, when it was not their choice. */
export const notice = store<string | null>(null);

// Login, registration and refresh run outside the session's client (and its cache).
const authClient = new Client({ url: '/graphql', exchanges: [fetchExchange], preferGetMethod: false });

const ViewerFields = graphql(`
  fragment ViewerFields on User {
    id
    email
    name
    role
  }
`);

const LoginMutation = graphql(`
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      accessToken
      refreshToken
      user { ...ViewerFields }
      userErrors { field message code }
    }
  }
`);

const RegisterMutation = graphql(`
  mutation Register($input: RegisterInput!) {
    register(input: $input) {
      accessToken
      refreshToken
      user { ...ViewerFields }
      userErrors { field message code }
    }
  }
`);

const RefreshMutation = graphql(`
  mutation RefreshToken($input: RefreshTokenInput!) {
    refreshToken(input: $input) {
      accessToken
      refreshToken
      user { ...ViewerFields }
      userErrors { field message code }
    }
  }
`);

const ChangePasswordMutation = graphql(`
  mutation ChangePassword($input: ChangePasswordInput!) {
    changePassword(input: $input) {
      accessToken
      refreshToken
      user { ...ViewerFields }
      userErrors { field message code }
    }
  }
`);

const LogoutMutation = graphql(`
  mutation Logout($input: LogoutInput!) {
    logout(input: $input) { revoked userErrors { code message } }
  }
`);
void ViewerFields;

/** Seconds-since-epoch `exp` of a JWT, as a time in ms (15 minutes from now if unreadable). */
export function expiryOf(token: string): number {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const exp = Number(JSON.parse(atob(part)).exp);
    if (Number.isFinite(exp)) return exp * 1000;
  } catch {
    // not a JWT we can read: fall through
  }
  return Date.now() + 15 * 60_000;
}

let timer: ReturnType<typeof setTimeout> | undefined;

function start(access: string, refresh: string, user: Viewer): void {
  const next = { access, refresh, user, expiresAt: expiryOf(access) };
  session.set(next);
  notice.set(null);
  clearTimeout(timer);
  // A minute early (at least 5 s from now), so no request or socket ever meets an expired token.
  const wait = Math.max(5_000, next.expiresAt - Date.now() - 60_000);
  timer = setTimeout(() => void refresh_(), wait);
}

type AuthResult = { ok: true } | { ok: false; problems: Problem[] };

type AuthPayload = {
  accessToken?: string | null;
  refreshToken?: string | null;
  user?: Viewer | null;
  userErrors: readonly { code: string; field?: readonly string[] | null; message: string }[];
};

function finish(payload: AuthPayload | null | undefined, error: Parameters<typeof problems>[0]): AuthResult {
  if (payload?.accessToken && payload.refreshToken && payload.user) {
    start(payload.accessToken, payload.refreshToken, payload.user);
    return { ok: true };
  }
  const list = problems(error, payload?.userErrors);
  return { ok: false, problems: list.length ? list : [{ code: 'UNKNOWN', field: null, message: 'That did not work.' }] };
}

export async function login(email: string, password: string): Promise<AuthResult> {
  const r = await authClient.mutation(LoginMutation, { input: { email, password } }).toPromise();
  const result = finish(r.data?.login, r.error);
  // A wrong password is a top-level UNAUTHENTICATED: say it plainly.
  if (!result.ok) {
    for (const p of result.problems) {
      if (p.code === 'UNAUTHENTICATED') p.message = 'Wrong email or password.';
    }
  }
  return result;
}

export async function register(name: string, email: string, password: string): Promise<AuthResult> {
  const r = await authClient
    .mutation(RegisterMutation, { input: { name, email, password } })
    .toPromise();
  return finish(r.data?.register, r.error);
}

/** A password change on its way: it revokes every token, then answers with fresh ones. */
let changing: Promise<unknown> | null = null;

/**
 * Changes the password. The server ends every session of the account, this one included
 * (its sockets close with 4401, its tokens are refused), and answers with a fresh pair: the
 * session switches to it, and the socket reconnects with the new access token.
 */
export async function changePassword(currentPassword: string, newPassword: string): Promise<AuthResult> {
  const current = session.get();
  if (!current) return { ok: false, problems: [{ code: 'UNAUTHENTICATED', field: null, message: 'Log in first.' }] };
  const call = authClient
    .mutation(
      ChangePasswordMutation,
      { input: { currentPassword, newPassword } },
      { fetchOptions: { headers: { authorization: `Bearer ${current.access}` } } },
    )
    .toPromise();
  changing = call;
  try {
    const r = await call;
    return finish(r.data?.changePassword, r.error);
  } finally {
    if (changing === call) changing = null;
  }
}

let inFlight: Promise<boolean> | null = null;

/** Trades the refresh token for a new pair; false (and back to login) when it is refused. */
export function refresh(): Promise<boolean> {
  inFlight ??= afterPasswordChange()
    .then((fresh) => fresh || refresh_())
    .finally(() => {
      inFlight = null;
    });
  return inFlight;
}

/**
 * A socket closed with 4401 or a request refused during a password change is the change
 * itself revoking the old tokens: wait for its answer, whose fresh tokens cure both (true).
 * Refreshing at once would present a revoked refresh token and end the session.
 */
async function afterPasswordChange(): Promise<boolean> {
  const before = session.get();
  if (!changing) return false;
  await changing.catch(() => undefined);
  const now = session.get();
  return now !== null && now.access !== before?.access;
}

async function refresh_(): Promise<boolean> {
  const current = session.get();
  if (!current) return false;
  const r = await authClient
    .mutation(RefreshMutation, { input: { token: current.refresh } })
    .toPromise();
  if (session.get() !== current) return session.get() !== null;
  const p = r.data?.refreshToken;
  if (p?.accessToken && p.refreshToken) {
    start(p.accessToken, p.refreshToken, p.user ?? current.user);
    return true;
  }
  if (r.error?.networkError && Date.now() < current.expiresAt - 5_000) {
    // The server is unreachable but the token still works: try again shortly.
    clearTimeout(timer);
    timer = setTimeout(() => void refresh_(), 10_000);
    return false;
  }
  end('Your session has ended. Log in again.');
  return false;
}

export async function logout(): Promise<void> {
  const current = session.get();
  end(null);
  if (current) {
    await authClient.mutation(LogoutMutation, { input: { refreshToken: current.refresh } }).toPromise();
  }
}

/** Forgets the session and shows the login page (with `why`, when there is one). */
export function end(why: string | null): void {
  clearTimeout(timer);
  session.set(null);
  notice.set(why);
  navigate('/login', true);
}

export function isAdmin(): boolean {
  return session.get()?.user.role === 'ADMIN';
}
