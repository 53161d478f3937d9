// What the caches learn from the schema, derived from schema/schema.graphql at test time (never
// written by hand): Apollo's `possibleTypes`, Graphcache's introspection, and which object
// types have no identity of their own (Graphcache embeds those in their parent).
//
//   node lib/schema.mjs     prints the generated possibleTypes
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  buildSchema,
  introspectionFromSchema,
  isAbstractType,
  isObjectType,
} from 'graphql';

export const SCHEMA_PATH = fileURLToPath(new URL('../../../schema/schema.graphql', import.meta.url));

export function loadSchema(path = SCHEMA_PATH) {
  return buildSchema(readFileSync(path, 'utf8'));
}

/** `{ Node: ['Cash', 'Order', …], … }`: every interface and union with its object types. */
export function possibleTypesOf(schema) {
  const out = {};
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || !isAbstractType(type)) continue;
    out[type.name] = schema
      .getPossibleTypes(type)
      .map((t) => t.name)
      .sort();
  }
  return out;
}

/** Object types without an `id` field (payloads, connections, edges, …): no cache key. */
export function keylessTypesOf(schema) {
  const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]
    .filter(Boolean)
    .map((t) => t.name);
  return Object.values(schema.getTypeMap())
    .filter((t) => isObjectType(t) && !t.name.startsWith('__') && !roots.includes(t.name))
    .filter((t) => !('id' in t.getFields()))
    .map((t) => t.name)
    .sort();
}

export function schemaFacts(path = SCHEMA_PATH) {
  const schema = loadSchema(path);
  return {
    schema,
    possibleTypes: possibleTypesOf(schema),
    introspection: introspectionFromSchema(schema),
    keylessTypes: keylessTypesOf(schema),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(possibleTypesOf(loadSchema()), null, 2));
}
