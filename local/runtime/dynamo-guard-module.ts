/**
 * The file a function process requires to start its in-process DynamoDB checks (dynamo-guard.ts): plain JS that
 * runs under plain `node`, as worker.cjs does.
 * - Installed or built (`npm run build`, the published @wsgate/local): the compiled dynamo-guard.js beside this file.
 * - Run from the TypeScript sources (ts-node, the tests): the bundle `npm run build:handlers` writes
 *   (scripts/build-local-guard.mjs → .wsgate/local/dynamo-guard.cjs), if none of its inputs changed since.
 * Undefined otherwise: the emulator's proxy then checks every call (same checks, one process hop more).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Where scripts/build-local-guard.mjs writes the bundle, from this file's folder in the repository. */
const SOURCE_BUNDLE = path.resolve(__dirname, '..', '..', '.wsgate', 'local', 'dynamo-guard.cjs');

export function dynamoGuardModule(): string | undefined {
  if (path.extname(__filename) === '.js') {
    const compiled = path.join(__dirname, 'dynamo-guard.js');
    return fs.existsSync(compiled) ? compiled : undefined;
  }
  return freshBundle(SOURCE_BUNDLE);
}

/** `bundle` when it exists and is newer than every input listed beside it (`<bundle>.inputs.json`). */
export function freshBundle(bundle: string): string | undefined {
  try {
    const built = fs.statSync(bundle).mtimeMs;
    const inputs = JSON.parse(fs.readFileSync(`${bundle}.inputs.json`, 'utf8')) as string[];
    return inputs.every((input) => fs.statSync(input).mtimeMs <= built) ? bundle : undefined;
  } catch {
    return undefined;
  }
}
