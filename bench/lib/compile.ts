/**
 * Precompiles TypeScript to CommonJS next to each other under bench/.work/js/ (esbuild transform, one output
 * file per source file, no bundling), so timed processes run plain `node file.js` and spend no time compiling
 * TypeScript. `assets/` is linked in, so `lib/` finds the handler bundles at the same relative path.
 */
import * as fs from 'fs';
import * as path from 'path';
import { build } from 'esbuild';
import { ROOT, WORK } from './paths';

export const JS_ROOT = path.join(WORK, 'js');

function tsFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? tsFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path.join(dir, e.name)] : []));
}

/** Compiles every .ts of the given repository folders; returns where a source file's .js lands. */
export async function compileTree(folders: readonly string[]): Promise<(source: string) => string> {
  const entryPoints = folders.flatMap((f) => tsFiles(path.join(ROOT, f)));
  await build({
    entryPoints,
    outdir: JS_ROOT,
    outbase: ROOT,
    bundle: false,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    sourcemap: false,
    logLevel: 'error',
  });
  const assetsLink = path.join(JS_ROOT, 'assets');
  if (!fs.existsSync(assetsLink)) fs.symlinkSync(path.join(ROOT, 'assets'), assetsLink, 'dir');
  return (source) => path.join(JS_ROOT, path.relative(ROOT, source)).replace(/\.ts$/, '.js');
}
