// Every error the API returns, as a sentence for people, placed next to the field or the
// action it concerns.
//
// Two channels (README, API conventions): business refusals come as the payload's
// `userErrors { field code message }` (field = input path, e.g. ["input", "quantity"]);
// what a form cannot fix comes as top-level `errors[].extensions.code` (UNAUTHENTICATED,
// FORBIDDEN, RATE_LIMITED, INTERNAL; queries also BAD_USER_INPUT / NOT_FOUND with
// `extensions.field`). Codes are open enums: an unknown one shows the server's message.
import type { CombinedError } from '@urql/core';

export type Problem = {
  code: string;
  /** The input field it concerns (last element of the path), or null for the whole action. */
  field: string | null;
  message: string;
};

type UserErrorLike = { code: string; field?: readonly string[] | null; message: string };

const titles: Record<string, (server: string, ext: Record<string, unknown>) => string> = {
  UNAUTHENTICATED: () => 'You are not logged in, or your session has ended. Log in again.',
  FORBIDDEN: () => 'This needs an administrator account.',
  RATE_LIMITED: (_, ext) =>
    `Too many requests: try again in ${Number(ext.retryAfter ?? 0) || 'a few'} seconds.`,
  INTERNAL: (_, ext) =>
    `The server failed to do this. Try again; if it keeps failing, quote request id ${String(ext.requestId ?? 'unknown')}.`,
  INSUFFICIENT_FUNDS: (s) => `Not enough available cash. ${s}`,
  INSUFFICIENT_SHARES: (s) => `You do not hold enough free shares. ${s}`,
  STOCK_HALTED: (s) => `Trading in this stock is halted. ${s}`,
  NOT_FOUND: (s) => s || 'Not found.',
  CONFLICT: (s) => s || 'That conflicts with the current state.',
  BAD_USER_INPUT: (s) => s || 'Check this value.',
};

export function describe(code: string, server: string, ext: Record<string, unknown> = {}): string {
  const title = titles[code];
  return (title ? title(server, ext) : server).trim();
}

function lastField(path: readonly string[] | null | undefined): string | null {
  if (!path || path.length === 0) return null;
  return path[path.length - 1];
}

/** The problems of one operation: its transport and top-level errors, and its userErrors. */
export function problems(
  error: CombinedError | undefined | null,
  userErrors?: readonly UserErrorLike[] | null,
): Problem[] {
  const out: Problem[] = [];
  if (error?.networkError) {
    out.push({
      code: 'NETWORK',
      field: null,
      message: 'The server cannot be reached. Check the connection and try again.',
    });
  }
  for (const e of error?.graphQLErrors ?? []) {
    const ext = (e.extensions ?? {}) as Record<string, unknown>;
    const code = typeof ext.code === 'string' ? ext.code : 'UNKNOWN';
    const field = typeof ext.field === 'string' ? ext.field : null;
    out.push({ code, field, message: describe(code, e.message, ext) });
  }
  for (const e of userErrors ?? []) {
    out.push({ code: e.code, field: lastField(e.field), message: describe(e.code, e.message) });
  }
  return out;
}

export function forField(list: Problem[], field: string): Problem | undefined {
  return list.find((p) => p.field === field);
}

/** The problems no field of the form shows. */
export function general(list: Problem[], fields: string[]): Problem[] {
  return list.filter((p) => p.field === null || !fields.includes(p.field));
}

export function hasCode(error: CombinedError | undefined | null, code: string): boolean {
  return (error?.graphQLErrors ?? []).some((e) => e.extensions?.code === code);
}
