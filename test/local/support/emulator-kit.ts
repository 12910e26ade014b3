/**
 * Shared by the end-to-end tests that run a synthesized app in the real emulator: bundling user handlers the way
 * a user would (esbuild, `wsgate/runtime` resolved through node_modules and the package's "exports" map, the AWS
 * SDK left external), reading the connections table through the emulator's DynamoDB, and invoking a function
 * through `/_wsgate/functions`.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { build } from 'esbuild';
import type { RunningEmulator } from '../../../local/emulator';

export const ROOT = path.resolve(__dirname, '../../..');
const RUNTIME_ENTRY = path.join(ROOT, 'dist/runtime/index.mjs');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** Builds dist/runtime (`npm run build:runtime`) when it is missing or older than its sources. */
export function ensureRuntimeBuilt(): void {
  const sources = Math.max(newestMtime(path.join(ROOT, 'lambda/runtime')), newestMtime(path.join(ROOT, 'contract')));
  if (fs.existsSync(RUNTIME_ENTRY) && fs.statSync(RUNTIME_ENTRY).mtimeMs >= sources) return;
  const run = spawnSync(process.execPath, [path.join(ROOT, 'scripts/build-runtime.mjs')], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`npm run build:runtime failed (${run.status}): ${run.stderr || run.stdout}`);
}

/**
 * Bundles each `entries[name]` into `outDir/name/index.js` as a user's build would: the entry is copied into a
 * project folder whose `node_modules/wsgate` is a symlink to this package, so `import ... from 'wsgate/runtime'`
 * goes through package.json "exports"; `@aws-sdk/*` stays external (the Lambda runtime, and the emulator, provide it).
 */
export async function bundleLikeAUser(workDir: string, entries: Record<string, string>, outDir: string): Promise<void> {
  const project = path.join(workDir, 'user-project');
  fs.mkdirSync(path.join(project, 'node_modules'), { recursive: true });
  fs.mkdirSync(path.join(project, 'src'), { recursive: true });
  const link = path.join(project, 'node_modules', 'wsgate');
  if (!fs.existsSync(link)) fs.symlinkSync(ROOT, link, 'dir');
  for (const [name, entry] of Object.entries(entries)) {
    const copied = path.join(project, 'src', `${name}${path.extname(entry)}`);
    fs.copyFileSync(entry, copied);
    const result = await build({
      entryPoints: [copied],
      absWorkingDir: project,
      outfile: path.join(outDir, name, 'index.js'),
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      external: ['@aws-sdk/*'],
      logLevel: 'silent',
    });
    if (result.warnings.length > 0) throw new Error(`esbuild warned on ${entry}: ${result.warnings.map((w) => w.text).join('; ')}`);
  }
}

/** Every item of the emulator's first (or named) table, read through its DynamoDB endpoint. */
export async function scanTable(emulator: RunningEmulator, tableName = emulator.model.tables[0].tableName): Promise<Array<Record<string, any>>> {
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: emulator.dynamodbEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  );
  const items: Array<Record<string, any>> = [];
  let start: Record<string, any> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
    items.push(...((page.Items ?? []) as Array<Record<string, any>>));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Polls the table until `probe(items)` is truthy (bounded: 15 s); for effects of `$disconnect`, which runs after a close. */
export async function tableEventually<T>(emulator: RunningEmulator, probe: (items: Array<Record<string, any>>) => T | undefined | false, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = probe(await scanTable(emulator));
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** POST /_wsgate/functions/{name}/invoke. */
export async function invokeFunction(emulator: RunningEmulator, name: string, event: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${emulator.functionsUrl}/${encodeURIComponent(name)}/invoke`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: typeof event === 'string' ? event : JSON.stringify(event),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: kept as text.
  }
  return { status: res.status, body };
}
