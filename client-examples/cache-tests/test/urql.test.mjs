// urql with Graphcache (schema-aware, relayPagination only) against a live server: see
// lib/suite.mjs for the scenarios.
import { makeUrql } from '../lib/urql.mjs';
import { cacheSuite } from '../lib/suite.mjs';

cacheSuite('urql Graphcache', makeUrql);
