// The comparison itself, free of git and files: two SDL strings in, the changes a client
// would notice out. graphql-js does the work; we only add what its version 16 misses.

import {
  buildSchema,
  findBreakingChanges,
  findDangerousChanges,
  isInputObjectType,
} from 'graphql';

/**
 * Compares two SDL documents.
 * @param {string} oldSdl the schema clients were written against
 * @param {string} newSdl the schema about to replace it
 * @returns {{ breaking: {type: string, description: string}[], dangerous: {type: string, description: string}[] }}
 */
export function compareSchemas(oldSdl, newSdl) {
  const before = buildSchema(oldSdl);
  const after = buildSchema(newSdl);
  return {
    breaking: [...findBreakingChanges(before, after), ...inputsMadeOneOf(before, after)],
    dangerous: findDangerousChanges(before, after),
  };
}

// graphql-js 16 does not report an input that became `@oneOf`, yet a client that sent two of
// its fields is refused from then on.
function inputsMadeOneOf(before, after) {
  return Object.values(before.getTypeMap())
    .filter((type) => isInputObjectType(type) && !type.isOneOf)
    .filter((type) => {
      const now = after.getType(type.name);
      return isInputObjectType(now) && now.isOneOf;
    })
    .map((type) => ({
      type: 'INPUT_BECAME_ONE_OF',
      description: `${type.name} became @oneOf.`,
    }));
}

/** One line per change, for the CI log. */
export function formatChanges(changes) {
  return changes.map((c) => `  - ${c.type}: ${c.description}`).join('\n');
}
