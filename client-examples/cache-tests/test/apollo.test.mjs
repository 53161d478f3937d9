// Apollo Client (InMemoryCache, generated possibleTypes, pagination policy only) against a
// live server: see lib/suite.mjs for the scenarios.
import { makeApollo } from '../lib/apollo.mjs';
import { cacheSuite } from '../lib/suite.mjs';

cacheSuite('Apollo Client InMemoryCache', makeApollo);
