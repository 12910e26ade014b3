#!/usr/bin/env node
// Bundles every lambda/handlers/<name>.ts into assets/handlers/<name>/index.js with esbuild.
// The constructs reference these folders with lambda.Code.fromAsset, so `cdk synth` runs no bundler.
// Flags: --quiet (print nothing on success), --if-stale (skip when every bundle is newer than lambda/).
import { build } from 'esbuild';
import { readdirSync, readFileSync, statSync, mkdirSync, existsSync, rmSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = join(root, 'lambda', 'handlers');
const outRoot = join(root, 'assets', 'handlers');
const quiet = process.argv.includes('--quiet');
// How every handler is bundled (CommonJS for Node 22, minified, the SDK's ES module builds preferred so unused
// code is tree-shaken); shared with the benchmarks, which bundle their baseline handler the same way.
const bundleOptions = JSON.parse(readFileSync(join(root, 'scripts', 'handler-bundle-options.json'), 'utf8'));
const ifStale = process.argv.includes('--if-stale');

const entries = existsSync(sourceDir)
  ? readdirSync(sourceDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort()
  : [];
if (entries.length === 0) {
  console.error(`build-handlers: no handlers found in ${sourceDir}`);
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
  const sourceTime = newestMtime(join(root, 'lambda'));
  const upToDate = entries.every((f) => {
    const out = join(outRoot, basename(f, '.ts'), 'index.js');
    return existsSync(out) && statSync(out).mtimeMs >= sourceTime;
  });
  if (upToDate) process.exit(0);
}

const expected = new Set(entries.map((f) => basename(f, '.ts')));
if (existsSync(outRoot)) {
  for (const stale of readdirSync(outRoot)) {
    if (!expected.has(stale)) rmSync(join(outRoot, stale), { recursive: true, force: true });
  }
}

for (const file of entries) {
  const name = basename(file, '.ts');
  const outdir = join(outRoot, name);
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    entryPoints: [join(sourceDir, file)],
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
    console.log(`built ${name.padEnd(12)} ${(bytes / 1024).toFixed(1).padStart(7)} KB  assets/handlers/${name}/index.js`);
  }
}
