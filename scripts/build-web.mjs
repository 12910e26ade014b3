#!/usr/bin/env node
// Builds the browser demo of the example chat: bundles web/src/main.ts with esbuild into web/dist/app.js
// and copies web/index.html and web/style.css next to it. The emulator serves web/dist with `--static`
// at http://127.0.0.1:PORT/_wsgate/app/. Flags: --quiet (print nothing on success).
// A build warning fails the build: the page is small enough that every warning deserves a fix.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const webDir = join(root, 'web');
const outDir = join(webDir, 'dist');
const quiet = process.argv.includes('--quiet');

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

const result = await build({
  entryPoints: [join(webDir, 'src', 'main.ts')],
  outfile: join(outDir, 'app.js'),
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: true,
  sourcemap: 'linked',
  tsconfig: join(webDir, 'tsconfig.json'),
  logLevel: 'silent',
});
if (result.warnings.length > 0) {
  for (const warning of result.warnings) console.error(`build-web: ${warning.text}`);
  process.exit(1);
}

for (const file of ['index.html', 'style.css']) copyFileSync(join(webDir, file), join(outDir, file));

if (!quiet) console.log(`build-web: wrote ${relative(root, outDir)}/ (index.html, style.css, app.js)`);
