// The schema as graphcache needs it (types, fields, interfaces: what `Node` and the
// payloads are), minified, from the committed SDL: src/gql/schema.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { buildSchema, introspectionFromSchema } from 'graphql';
import { minifyIntrospectionQuery } from '@urql/introspection';

const here = new URL('..', import.meta.url);
const sdl = readFileSync(new URL('../../schema/schema.graphql', here), 'utf8');
const minified = minifyIntrospectionQuery(introspectionFromSchema(buildSchema(sdl)));
mkdirSync(new URL('src/gql/', here), { recursive: true });
writeFileSync(new URL('src/gql/schema.json', here), JSON.stringify(minified) + '\n');
