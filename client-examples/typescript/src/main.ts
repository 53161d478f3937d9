import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** True when this module is the program node was started with (not imported by a test). */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && realpathSync(entry) === realpathSync(fileURLToPath(moduleUrl));
}
