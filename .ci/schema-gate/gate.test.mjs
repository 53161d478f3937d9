// node --test: the comparison on two SDL strings, then the gate end to end on throwaway git
// repositories (base selection, merges, declarations).

import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { compareSchemas } from './compare.mjs';

const GATE = join(dirname(fileURLToPath(import.meta.url)), 'gate.mjs');

const BEFORE = `
type Query { stock(id: ID!): Stock }
type Stock { id: ID! symbol: String! price: String! }
`;
// Only additions and a deprecation: every old query still works.
const ADDITIVE = `
type Query { stock(id: ID!): Stock stocks(first: Int): [Stock!]! }
type Stock {
  id: ID!
  symbol: String!
  price: String! @deprecated(reason: "use last; removal after 2027-06-30")
  last: String!
}
`;
// A field removed and an argument made required.
const BREAKING = `
type Query { stock(id: ID!, by: String!): Stock }
type Stock { id: ID! price: String! }
`;

test('an additive change is not breaking', () => {
  const { breaking } = compareSchemas(BEFORE, ADDITIVE);
  assert.deepEqual(breaking, []);
});

test('a removed field and a new required argument are breaking', () => {
  const { breaking } = compareSchemas(BEFORE, BREAKING);
  const types = breaking.map((c) => c.type).sort();
  assert.deepEqual(types, ['FIELD_REMOVED', 'REQUIRED_ARG_ADDED']);
  assert.ok(breaking.some((c) => c.description.includes('Stock.symbol')));
});

test('an input that becomes @oneOf is breaking', () => {
  const before = 'input Ref { id: ID symbol: String } type Query { a(r: Ref): Int }';
  const after = 'input Ref @oneOf { id: ID symbol: String } type Query { a(r: Ref): Int }';
  assert.deepEqual(
    compareSchemas(before, after).breaking.map((c) => c.type),
    ['INPUT_BECAME_ONE_OF'],
  );
});

/** A throwaway repository; `commit` writes files (null deletes) and commits them. */
function repo(t) {
  const dir = mkdtempSync(join(tmpdir(), 'schema-gate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const git = (...args) =>
    execFileSync(
      'git',
      [
        '-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'init.defaultBranch=main',
        '-c', 'commit.gpgsign=false', ...args,
      ],
      { cwd: dir, encoding: 'utf8' },
    ).trim();
  git('init', '-q');
  const write = (files) => {
    for (const [path, text] of Object.entries(files)) {
      if (text === null) {
        rmSync(join(dir, path));
      } else {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      }
    }
  };
  return {
    git,
    write,
    commit(files, message = 'change') {
      write(files);
      git('add', '-A');
      git('commit', '-q', '--allow-empty', '-m', message);
    },
    gate(env = {}) {
      const r = spawnSync(process.execPath, [GATE], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, SCHEMA_BASE: '', ...env },
      });
      return { status: r.status, out: r.stdout + r.stderr };
    },
  };
}

const SCHEMA = 'schema/schema.graphql';
const DECLARE = 'schema/BREAKING.md';

test('gate: no schema at the previous commit passes; additive passes; breaking fails', (t) => {
  const r = repo(t);
  r.commit({ 'README.md': 'x' });
  r.commit({ [SCHEMA]: BEFORE });
  assert.equal(r.gate().status, 0);
  r.commit({ [SCHEMA]: ADDITIVE });
  assert.equal(r.gate().status, 0);
  r.commit({ [SCHEMA]: BREAKING });
  const failed = r.gate();
  assert.equal(failed.status, 1, failed.out);
  assert.match(failed.out, /FIELD_REMOVED: Stock\.symbol was removed/);
  assert.match(failed.out, /REQUIRED_ARG_ADDED/);
  assert.match(failed.out, /FIELD_REMOVED: Stock\.last/);
});

test('gate: a break with a new BREAKING.md entry passes, an old entry does not', (t) => {
  const r = repo(t);
  r.commit({ [SCHEMA]: BEFORE, [DECLARE]: '# Breaking changes\n' });
  r.commit({ [SCHEMA]: BREAKING, [DECLARE]: '# Breaking changes\n\n## 2026-12-01: issue 18\n' });
  const declared = r.gate();
  assert.equal(declared.status, 0, declared.out);
  assert.match(declared.out, /issue 18/);
  // The next break must declare itself again.
  r.commit({ [SCHEMA]: BEFORE });
  assert.equal(r.gate().status, 1);
});

test('gate: a merge is compared with its first parent, whatever the branch did', (t) => {
  const r = repo(t);
  r.commit({ [SCHEMA]: BEFORE });
  r.git('checkout', '-q', '-b', 'topic');
  r.commit({ [SCHEMA]: BREAKING }, 'break');
  r.commit({ [SCHEMA]: BREAKING, 'x.txt': 'more' }, 'later, no schema change');
  r.git('checkout', '-q', 'main');
  r.commit({ 'y.txt': 'meanwhile' });
  r.git('merge', '-q', '--no-ff', '-m', 'Merge topic', 'topic');
  assert.equal(r.gate().status, 1, 'HEAD~1 of the branch alone would have shown nothing');
  // The same merge declaring the break passes.
  r.git('reset', '-q', '--hard', 'HEAD^1');
  r.git('checkout', '-q', 'topic');
  r.commit({ [DECLARE]: 'Not an entry.\n' }, 'prose only');
  r.git('checkout', '-q', 'main');
  r.git('merge', '-q', '--no-ff', '-m', 'Merge topic', 'topic');
  assert.equal(r.gate().status, 1, 'prose outside an entry declares nothing');
  r.git('reset', '-q', '--hard', 'HEAD^1');
  r.git('checkout', '-q', 'topic');
  r.commit({ [DECLARE]: '## 2026-12-01: Stock.symbol removed (issue 18)\n' }, 'declare');
  r.git('checkout', '-q', 'main');
  r.git('merge', '-q', '--no-ff', '-m', 'Merge topic', 'topic');
  assert.equal(r.gate().status, 0);
});

test('gate: SCHEMA_BASE compares with a given ref', (t) => {
  const r = repo(t);
  r.commit({ [SCHEMA]: BEFORE });
  r.git('tag', 'checked');
  r.commit({ [SCHEMA]: BREAKING }, 'break');
  r.commit({ 'x.txt': 'after' }, 'unrelated');
  assert.equal(r.gate().status, 0, 'HEAD~1 has the same schema');
  assert.equal(r.gate({ SCHEMA_BASE: 'checked' }).status, 1);
  const unknown = r.gate({ SCHEMA_BASE: 'no-such-ref' });
  assert.equal(unknown.status, 2, unknown.out);
});

test('gate: an unreadable schema is an error, not a pass', (t) => {
  const r = repo(t);
  r.commit({ [SCHEMA]: BEFORE });
  r.commit({ [SCHEMA]: 'type Query {' });
  assert.equal(r.gate().status, 2);
});
