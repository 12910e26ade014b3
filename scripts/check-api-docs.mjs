#!/usr/bin/env node
// Fails when API.md is not what jsii-docgen generates from the current assembly (.jsii): regenerate it with
// `npm run build:jsii && npm run docs:api` and commit it. Needs a fresh `npm run build:jsii` first.
//
//   node scripts/check-api-docs.mjs     (npm run check:api-docs)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const docgen = path.join(path.dirname(require.resolve('jsii-docgen/package.json')), 'bin', 'jsii-docgen');
const committed = path.join(root, 'API.md');

if (!fs.existsSync(path.join(root, '.jsii'))) {
  console.error('check:api-docs: no .jsii assembly; run `npm run build:jsii` first.');
  process.exit(1);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-api-docs-'));
const fresh = path.join(dir, 'API.md');
const env = { ...process.env };
env.JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ??= process.versions.node.split('.')[0];
const run = spawnSync(process.execPath, [docgen, '--output', fresh], { cwd: root, env, encoding: 'utf8' });
if (run.status !== 0) {
  process.stdout.write(run.stdout ?? '');
  process.stderr.write(run.stderr ?? '');
  process.exit(run.status ?? 1);
}

const want = fs.readFileSync(fresh, 'utf8');
const have = fs.existsSync(committed) ? fs.readFileSync(committed, 'utf8') : '';
fs.rmSync(dir, { recursive: true, force: true });
if (want === have) {
  console.log('check:api-docs: API.md is up to date with the jsii assembly.');
  process.exit(0);
}
const a = have.split('\n');
const b = want.split('\n');
let line = 0;
while (line < a.length && line < b.length && a[line] === b[line]) line++;
console.error(`check:api-docs: API.md differs from the generated API reference from line ${line + 1}:`);
console.error(`  API.md:    ${JSON.stringify(a[line] ?? '<end of file>')}`);
console.error(`  generated: ${JSON.stringify(b[line] ?? '<end of file>')}`);
console.error('Regenerate it: npm run build:jsii && npm run docs:api');
process.exit(1);
