#!/usr/bin/env node
// Bundles every lambda/{gateway,chat}/handlers/<name>.ts into assets/handlers/<name>/index.js (shipped with the
// package) and every lambda/ticker/handlers/<name>.ts into assets/examples/ticker-<name>/index.js (the ticker
// example's functions, not shipped) with esbuild.
// The constructs reference these folders with lambda.Code.fromAsset, so `cdk synth` runs no bundler.
// Flags: --quiet (print nothing on success), --if-stale (skip when every bundle is newer than lambda/).
import { build } from 'esbuild';
import { readdirSync, readFileSync, statSync, mkdirSync, existsSync, rmSync } from 'node:fs';
import { join, dirname, basename, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');
// How every handler is bundled (CommonJS for Node 22, minified, the SDK's ES module builds preferred so unused
// code is tree-shaken); shared with the benchmarks, which bundle their baseline handler the same way.
const bundleOptions = JSON.parse(readFileSync(join(root, 'scripts', 'handler-bundle-options.json'), 'utf8'));
const ifStale = process.argv.includes('--if-stale');

/** Each group: the folder of entry points, the output root, and the output folder name of an entry. */
const groups = [
  { sourceDir: join(root, 'lambda', 'gateway', 'handlers'), outRoot: join(root, 'assets', 'handlers'), outName: (n) => n },
  { sourceDir: join(root, 'lambda', 'chat', 'handlers'), outRoot: join(root, 'assets', 'handlers'), outName: (n) => n },
  { sourceDir: join(root, 'lambda', 'ticker', 'handlers'), outRoot: join(root, 'assets', 'examples'), outName: (n) => `ticker-${n}` },
];

function entryFiles(dir) {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort() : [];
}

/** Every entry: its source file, its output folder and the folder's path relative to the repository. */
const entries = groups.flatMap((g) =>
  entryFiles(g.sourceDir).map((f) => {
    const name = g.outName(basename(f, '.ts'));
    return { source: join(g.sourceDir, f), name, outRoot: g.outRoot, outdir: join(g.outRoot, name) };
  }),
);
if (entries.length === 0) {
  console.error('build-handlers: no handlers found in lambda/{gateway,chat,ticker}/handlers');
  process.exit(1);
}
const duplicate = entries.find((e, i) => entries.findIndex((o) => o.outdir === e.outdir) !== i);
if (duplicate) {
  console.error(`build-handlers: two entry points would both build ${duplicate.outdir}`);
  process.exit(1);
}

function newestMtime(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    newest = Math.max(newest, s.isDirectory() ? newestMtime(p) : s.mtimeMs);
  }
  return newest;
}

if (ifStale) {
  const sourceTime = Math.max(newestMtime(join(root, 'lambda')), newestMtime(join(root, 'contract')));
  const upToDate = entries.every((e) => {
    const out = join(e.outdir, 'index.js');
    return existsSync(out) && statSync(out).mtimeMs >= sourceTime;
  });
  if (upToDate) process.exit(0);
}

// Remove bundles whose entry point is gone (only in the output roots this script owns).
for (const outRoot of new Set(groups.map((g) => g.outRoot))) {
  if (!existsSync(outRoot)) continue;
  const expected = new Set(entries.filter((e) => e.outRoot === outRoot).map((e) => e.name));
  const owned = outRoot === join(root, 'assets', 'examples') ? (n) => n.startsWith('ticker-') : () => true;
  for (const stale of readdirSync(outRoot)) {
    if (owned(stale) && !expected.has(stale)) rmSync(join(outRoot, stale), { recursive: true, force: true });
  }
}

for (const { source, name, outdir } of entries) {
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    entryPoints: [source],
    outfile: join(outdir, 'index.js'),
    ...bundleOptions,
    sourcemap: false,
    logLevel: 'silent',
    metafile: !quiet,
  });
  // A build warning is an error unless explained (style.md §6).
  if (result.warnings.length > 0) {
    for (const w of result.warnings) console.error(`build-handlers: ${name}: ${w.text}`);
    process.exit(1);
  }
  if (!quiet) {
    const bytes = statSync(join(outdir, 'index.js')).size;
    console.log(`built ${name.padEnd(12)} ${(bytes / 1024).toFixed(1).padStart(7)} KB  ${relative(root, outdir)}/index.js`);
  }
}
