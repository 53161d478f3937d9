// What the caches are given is generated from schema/schema.graphql; this checks the generation
// against the shape of issue 18 (no server needed).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { schemaFacts } from '../lib/schema.mjs';

// Every identity the shape names (all implement Node).
const IDENTITIES = [
  'AdminStats', 'AuditEntry', 'Candle', 'CandleStat', 'Cash', 'CashTransaction', 'Holiday',
  'MarketDay', 'MarketState', 'Order', 'Portfolio', 'Position', 'Stock', 'Trade', 'User',
];

test('possibleTypes are generated from the schema: every identity implements Node', () => {
  const { possibleTypes, keylessTypes } = schemaFacts();
  assert.ok(possibleTypes.Node, `no Node interface in schema/schema.graphql: ${JSON.stringify(possibleTypes)}`);
  for (const type of IDENTITIES) assert.ok(possibleTypes.Node.includes(type), `${type} implements Node`);
  for (const type of IDENTITIES) assert.ok(!keylessTypes.includes(type), `${type} has an id`);
});

test('Graphcache gets the interface from the introspection', () => {
  const { introspection } = schemaFacts();
  const node = introspection.__schema.types.find((t) => t.name === 'Node');
  assert.equal(node?.kind, 'INTERFACE');
  assert.ok(node.possibleTypes.some((t) => t.name === 'Stock'));
});
