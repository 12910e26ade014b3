/**
 * The file a function process requires to start its in-process DynamoDB checks (dynamo-guard.ts): plain JS that
 * runs under plain `node`, as worker.cjs does.
 * - Installed or built (`npm run build`, the published @wsgate/local): the compiled dynamo-guard.js beside this file.
 * - Run from the TypeScript sources (ts-node, the tests): dynamo-guard.ts and what it imports bundled by esbuild into
 *   one CommonJS file under the system's temporary folder, named by its content hash (made once, then reused).
 * Undefined when neither is possible (sources without esbuild): the emulator's proxy then checks every call.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

let bundled: Promise<string | undefined> | undefined;

export function dynamoGuardModule(): Promise<string | undefined> {
  const compiled = path.join(__dirname, 'dynamo-guard.js');
  if (path.extname(__filename) === '.js') return Promise.resolve(fs.existsSync(compiled) ? compiled : undefined);
  bundled ??= bundleSources(path.join(__dirname, 'dynamo-guard.ts'));
  return bundled;
}

async function bundleSources(entry: string): Promise<string | undefined> {
  let esbuild: typeof import('esbuild');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    esbuild = require('esbuild');
  } catch {
    return undefined;
  }
  const result = await esbuild.build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node20', write: false, logLevel: 'silent' });
  const code = result.outputFiles[0].contents;
  const file = path.join(os.tmpdir(), 'wsgate-local', `dynamo-guard-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.cjs`);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Written beside, then renamed: a concurrent emulator never requires a half-written file.
    const partial = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(partial, code);
    fs.renameSync(partial, file);
  }
  return file;
}
