#!/usr/bin/env node
// Compiles the construct package (lib/ and the contract/ it imports) with jsii, in place, and writes the
// assembly (.jsii) the language bindings and API.md are generated from.
//
// jsii warnings are errors: `--fail-on-warnings` covers the compiler's own diagnostics, but jsii reports its
// package.json checks (JSII0..JSII99) as warnings that never fail the build, so this script fails on any
// "warning JSII" line as well.
//
// One check is silenced on purpose: JSII6 (metadata/missing-dev-dependency) asks for the devDependency on each
// peer to be pinned to the peer range's minimum. This repository develops and snapshots against the newest
// aws-cdk-lib (devDependencies) and proves the minimum of the peer range in the consumer test instead.
//
//   node scripts/build-jsii.mjs        (npm run build:jsii)
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const jsii = path.join(path.dirname(require.resolve('jsii/package.json')), 'bin', 'jsii');

// jsii prints a banner on Node releases it no longer supports (Node 20 here); the package itself supports
// Node >= 20, so the banner is noise in every build log.
const env = { ...process.env };
env.JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ??= process.versions.node.split('.')[0];

// The generated tsconfig is jsii's own (excludeTypescript in package.json), kept out of the repository's
// tsconfig.json, which type-checks everything else.
const args = ['--generate-tsconfig', 'tsconfig.jsii.json', '--fail-on-warnings', '--silence-warnings', 'metadata/missing-dev-dependency'];
const run = spawnSync(process.execPath, [jsii, ...args], {
  cwd: root,
  env,
  encoding: 'utf8',
});
process.stdout.write(run.stdout ?? '');
process.stderr.write(run.stderr ?? '');
if (run.status !== 0) process.exit(run.status ?? 1);

const warnings = `${run.stdout}\n${run.stderr}`.split('\n').filter((line) => /\bwarning JSII\d+/.test(line));
if (warnings.length > 0) {
  console.error(`build:jsii: ${warnings.length} jsii warning(s), treated as errors (see above).`);
  process.exit(1);
}
