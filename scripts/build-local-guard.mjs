#!/usr/bin/env node
// Bundles the emulator's in-process DynamoDB checks (local/runtime/dynamo-guard.ts and what it imports) into one
// CommonJS file, .wsgate/local/dynamo-guard.cjs, for running the emulator from its TypeScript sources (ts-node, the
// tests): a function process runs plain `node` and cannot load .ts. The published @wsgate/local does not need it (its
// compiled dynamo-guard.js is used); local/runtime/dynamo-guard-module.ts picks whichever applies and ignores this
// bundle when any of its inputs (listed beside it) is newer.
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outFile = join(root, '.wsgate', 'local', 'dynamo-guard.cjs');
mkdirSync(dirname(outFile), { recursive: true });
const result = await build({
  entryPoints: [join(root, 'local', 'runtime', 'dynamo-guard.ts')],
  outfile: outFile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  metafile: true,
  logLevel: 'error',
});
const inputs = Object.keys(result.metafile.inputs).map((f) => join(root, f));
writeFileSync(`${outFile}.inputs.json`, `${JSON.stringify(inputs, null, 2)}\n`);
