#!/usr/bin/env node
// Builds the public runtime `wsgate/runtime` from lambda/runtime/index.ts into dist/runtime/, for Node 20, with
// the AWS SDK v3 left external (the Lambda Node.js runtime or the user's bundler provides it), not minified:
//   index.mjs  the ES module entry; it re-exports one .mjs module per source file under esm/, so a user's bundler
//              (the package says "sideEffects": false) leaves out every module the handler does not use, with
//              its SDK imports: a handler that only calls readIdentity carries no DynamoDB code.
//   index.cjs  the CommonJS entry, one bundled file.
//   index.d.ts the declarations (under types/), emitted by the TypeScript compiler.
// The bundles must never contain aws-cdk-lib or constructs: the build fails if either is imported.
// Flags: --quiet (print nothing on success).
import { build } from 'esbuild';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'lambda', 'runtime', 'index.ts');
const outDir = join(root, 'dist', 'runtime');
const typesDir = join(outDir, 'types');
const quiet = process.argv.includes('--quiet');

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

/** Fails the build on any import of the CDK: the runtime runs in Lambda, where it does not exist. */
const noCdk = {
  name: 'no-cdk',
  setup(b) {
    b.onResolve({ filter: /^(aws-cdk-lib|constructs)(\/|$)/ }, (args) => ({
      errors: [{ text: `the runtime must not import ${args.path} (imported by ${relative(root, args.importer)})` }],
    }));
  },
};

/** A build warning is an error unless explained. */
function check(result, what) {
  if (result.warnings.length > 0) {
    for (const w of result.warnings) console.error(`build-runtime: ${what}: ${w.text}`);
    process.exit(1);
  }
}

const common = { absWorkingDir: root, platform: 'node', target: 'node20', legalComments: 'none', logLevel: 'silent' };

// CommonJS: one bundle. Its metafile lists the source files the public entry reaches.
const cjs = await build({
  ...common,
  entryPoints: [entry],
  outfile: join(outDir, 'index.cjs'),
  bundle: true,
  format: 'cjs',
  external: ['@aws-sdk/*'],
  plugins: [noCdk],
  metafile: true,
});
check(cjs, 'index.cjs');

// ES modules: every source file the entry reaches (lambda/runtime/ and the contract), each on its own, its
// relative imports kept as imports of the sibling .mjs files.
const sources = Object.keys(cjs.metafile.inputs)
  .filter((f) => !f.includes('node_modules'))
  .map((f) => join(root, f));
const siblingsAsModules = {
  name: 'siblings-as-modules',
  setup(b) {
    b.onResolve({ filter: /^\./ }, (args) => (args.kind === 'entry-point' ? undefined : { path: `${args.path}.mjs`, external: true }));
  },
};
check(
  await build({
    ...common,
    entryPoints: sources,
    outdir: join(outDir, 'esm'),
    outbase: root,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    format: 'esm',
    external: ['@aws-sdk/*'],
    plugins: [noCdk, siblingsAsModules],
  }),
  'esm',
);
writeFileSync(join(outDir, 'index.mjs'), "export * from './esm/lambda/runtime/index.mjs';\n");

// Declarations: the runtime and the contract it re-exports, under types/, with index.d.ts pointing at them.
const options = {
  declaration: true,
  emitDeclarationOnly: true,
  outDir: typesDir,
  rootDir: root,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.CommonJS,
  moduleResolution: ts.ModuleResolutionKind.Node10,
  strict: true,
  esModuleInterop: true,
  skipLibCheck: true,
  types: ['node'],
  typeRoots: [join(root, 'node_modules', '@types')],
};
const program = ts.createProgram([entry], options);
const emitted = program.emit();
const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics];
if (diagnostics.length > 0) {
  const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' };
  console.error(ts.formatDiagnostics(diagnostics, host));
  process.exit(1);
}
writeFileSync(join(outDir, 'index.d.ts'), "export * from './types/lambda/runtime/index';\n");

if (!quiet) {
  for (const file of ['index.cjs', 'esm/lambda/runtime/gateway-client.mjs', 'index.d.ts']) {
    const bytes = statSync(join(outDir, file)).size;
    console.log(`built ${file.padEnd(10)} ${(bytes / 1024).toFixed(1).padStart(7)} KB  dist/runtime/${file}`);
  }
}
