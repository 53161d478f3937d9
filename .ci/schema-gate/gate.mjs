#!/usr/bin/env node
// The breaking-change gate: compares the working tree's schema/schema.graphql with the one at
// a base commit and fails on any change that would break a client written against the base,
// unless the change also adds an entry (a `## ` heading) to schema/BREAKING.md (README:
// Evolving the schema). Whatever else the file says declares nothing.
//
// Run it from the repository root. The base is, in order:
//   SCHEMA_BASE=<ref>   any commit-ish: `main` or `$(git merge-base main HEAD)` for a branch,
//                       the last commit CI checked when one push lands many commits;
//   HEAD^1              otherwise: the previous commit of main (for a merge, its first parent,
//                       so a merge is compared with main before it, whatever it brought in).
// No base commit, or no schema at the base: nothing to compare, pass.
// Exit codes: 0 pass (or declared break), 1 undeclared breaking change, 2 could not compare.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

import { compareSchemas, formatChanges } from './compare.mjs';

const SCHEMA = 'schema/schema.graphql';
const DECLARATIONS = 'schema/BREAKING.md';

function git(...args) {
  return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The file at `commit`, or null when it did not exist there. */
function fileAt(commit, path) {
  try {
    return git('show', `${commit}:${path}`);
  } catch {
    return null;
  }
}

function commitOf(ref) {
  try {
    return git('rev-parse', '--verify', '--quiet', `${ref}^{commit}`).trim();
  } catch {
    return null;
  }
}

function describe(commit) {
  return git('log', '-1', '--format=%h %s', commit).trim();
}

/** The entries (`## ` headings) of BREAKING.md in the working tree that were not there at `base`. */
function addedDeclarations(base) {
  if (!existsSync(DECLARATIONS)) return [];
  const entries = (text) =>
    text
      .split('\n')
      .map((l) => l.trimEnd())
      // At the start of the line: an indented example is not an entry.
      .filter((l) => l.startsWith('## '));
  const before = new Set(entries(fileAt(base, DECLARATIONS) ?? ''));
  return entries(readFileSync(DECLARATIONS, 'utf8')).filter((l) => !before.has(l));
}

function fail(message) {
  console.error(`schema gate: ${message}`);
  process.exit(2);
}

function main() {
  let base;
  const requested = process.env.SCHEMA_BASE?.trim();
  if (requested) {
    base = commitOf(requested);
    if (!base) fail(`SCHEMA_BASE=${requested} is not a commit here (fetch it first)`);
  } else {
    base = commitOf('HEAD^1');
    if (!base) {
      if (git('rev-parse', '--is-shallow-repository').trim() === 'true') {
        fail('a shallow clone has no previous commit: fetch one more (git fetch --deepen=1) or set SCHEMA_BASE');
      }
      console.log('schema gate: HEAD has no parent, nothing to compare: pass');
      return;
    }
  }
  const label = describe(base);
  const old = fileAt(base, SCHEMA);
  if (old === null) {
    console.log(`schema gate: no ${SCHEMA} at ${label}, nothing to compare: pass`);
    return;
  }
  if (!existsSync(SCHEMA)) fail(`${SCHEMA} is missing from the working tree`);

  let changes;
  try {
    changes = compareSchemas(old, readFileSync(SCHEMA, 'utf8'));
  } catch (err) {
    fail(`could not read the schemas: ${err.message}`);
  }
  const { breaking, dangerous } = changes;
  if (dangerous.length > 0) {
    console.log(`schema gate: ${dangerous.length} change(s) that may alter what existing clients see (not failing):`);
    console.log(formatChanges(dangerous));
  }
  if (breaking.length === 0) {
    console.log(`schema gate: no breaking change since ${label}: pass`);
    return;
  }
  const list = `${breaking.length} breaking change(s) since ${label}:\n${formatChanges(breaking)}`;
  const declared = addedDeclarations(base);
  if (declared.length > 0) {
    console.log(`schema gate: ${list}`);
    console.log(`declared intended in ${DECLARATIONS}:\n${declared.map((l) => `  | ${l}`).join('\n')}`);
    console.log('schema gate: pass (declared break)');
    return;
  }
  console.error(`schema gate: ${list}`);
  console.error(
    [
      'Clients written against the previous schema would break. Either make the change additive',
      '(add the new field or argument, keep the old one with',
      '@deprecated(reason: "use X; removal after DATE")), or, when the break is intended, add an',
      `entry to ${DECLARATIONS} in the same change: a "## YYYY-MM-DD: summary" heading, then what`,
      'broke and what clients do instead (README: Evolving the schema).',
    ].join('\n'),
  );
  process.exit(1);
}

main();
