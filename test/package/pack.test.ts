/**
 * The two npm packages as they would be published: `scripts/pack-packages.cjs` copies the repository into a staging
 * folder, runs `npm run build` there (what `prepack` runs) and `npm pack`s `wsgate` and the `@wsgate/local` workspace.
 * These tests read npm's pack report and the tarballs' contents.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { packPackages, REPO } = require('../../scripts/pack-packages.cjs') as {
  packPackages(outDir: string): { root: PackReport; local: PackReport };
  REPO: string;
};

interface PackReport {
  readonly name: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly files: ReadonlyArray<{ readonly path: string; readonly size: number }>;
  readonly tarball: string;
}

/** Size budgets (bytes of the gzipped tarball): the measured size on 2026-12-01 plus about 25 % of margin. */
const ROOT_PACKED_BUDGET = 1_300_000; // measured: 902 KB with 7 handler bundles; 1,083 KB with the delivery-worker bundle and SQS in the posting handlers
const LOCAL_PACKED_BUDGET = 200_000; // measured: 72 KB with the first split, 105 KB with local IAM/SigV4, the JWKS issuer and --watch; 164 KB with the local SQS, non-Lambda integrations (VTL), Python functions and the synthesizing --watch

const HANDLER_NAMES = ['gateway', 'chat'].flatMap((group) =>
  fs
    .readdirSync(path.join(REPO, 'lambda', group, 'handlers'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.replace(/\.ts$/, '')),
);

let work: string;
let root: PackReport;
let local: PackReport;
let rootDir: string;
let localDir: string;

function filesOf(report: PackReport): string[] {
  return report.files.map((f) => f.path).sort();
}

function extract(tarball: string, into: string): string {
  fs.mkdirSync(into, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', into]);
  return path.join(into, 'package');
}

/** Every `require('./x')` / `require("../x")` and relative `import ... from` in a JavaScript file. */
function relativeSpecifiers(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/require\(\s*["'](\.{1,2}\/[^"']*)["']\s*\)|from\s*["'](\.{1,2}\/[^"']*)["']/g)) found.push(m[1] ?? m[2]);
  return found;
}

/** Relative specifiers in the package's .js/.cjs/.mjs files that resolve to no file inside the package. */
function unresolvedRequires(packageDir: string, files: readonly string[]): string[] {
  const shipped = new Set(files);
  const broken: string[] = [];
  for (const file of files.filter((f) => /\.(c|m)?js$/.test(f) && !f.startsWith('assets/'))) {
    const source = fs.readFileSync(path.join(packageDir, file), 'utf8');
    for (const spec of relativeSpecifiers(source)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
      const candidates = [target, `${target}.js`, `${target}.cjs`, `${target}.json`, `${target}/index.js`];
      if (!candidates.some((c) => shipped.has(c))) broken.push(`${file}: ${spec}`);
    }
  }
  return broken;
}

beforeAll(() => {
  // GIVEN both packages packed from a staging copy of the repository, built as prepack builds them
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-pack-test-'));
  // (the tarballs stay in .wsgate/pack for .ci/run's consumer tests, which install them into fresh apps)
  ({ root, local } = packPackages(path.join(REPO, '.wsgate', 'pack')));
  rootDir = extract(root.tarball, path.join(work, 'root'));
  localDir = extract(local.tarball, path.join(work, 'local'));
}, 600_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('the wsgate tarball', () => {
  test('THEN it ships the licence, the README, the compiled constructs with their types, every handler bundle, the runtime and wsgate/testing', () => {
    const files = filesOf(root);
    expect(root.name).toBe('wsgate');
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'lib/index.js', 'lib/index.d.ts', 'cli/wsgate.cjs']));
    expect(files).toEqual(expect.arrayContaining(HANDLER_NAMES.map((name) => `assets/handlers/${name}/index.js`)));
    expect(files).toEqual(expect.arrayContaining(['dist/runtime/index.cjs', 'dist/runtime/index.mjs', 'dist/runtime/index.d.ts']));
    expect(files).toEqual(expect.arrayContaining(['testing/index.js', 'testing/index.d.ts', 'testing/serializer.js', 'testing/serializer.d.ts']));
    expect(HANDLER_NAMES).toEqual(expect.arrayContaining(['authorizer', 'connect', 'disconnect', 'default', 'join', 'leave', 'sendmessage']));
    // every lib/ module ships its JavaScript and its declarations
    const libSources = fs.readdirSync(path.join(REPO, 'lib')).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
    expect(libSources.length).toBeGreaterThan(0);
    for (const source of libSources) {
      expect(files).toContain(`lib/${source.replace(/\.ts$/, '.js')}`);
      expect(files).toContain(`lib/${source.replace(/\.ts$/, '.d.ts')}`);
    }
  });

  test('THEN it ships no TypeScript sources, tests, benchmarks, emulator, docs, examples or source maps', () => {
    const files = filesOf(root);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => /^(test|bench|local|docs|web|bin|lambda|node_modules)\//.test(f))).toEqual([]);
    expect(files.filter((f) => f.startsWith('assets/') && !f.startsWith('assets/handlers/'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.tgz') || f.endsWith('.whl'))).toEqual([]);
  });

  test('THEN no shipped JavaScript file carries an inline source map', () => {
    const withMaps = filesOf(root)
      .filter((f) => /\.(c|m)?js$/.test(f))
      .filter((f) => fs.readFileSync(path.join(rootDir, f), 'utf8').includes('sourceMappingURL=data:'));
    expect(withMaps).toEqual([]);
  });

  test('THEN every relative require of a shipped module resolves to a shipped file (contract/ included)', () => {
    expect(unresolvedRequires(rootDir, filesOf(root))).toEqual([]);
  });

  test('THEN its package.json has no run-time dependencies, only aws-cdk-lib and constructs as peers, and bin wsgate', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(rootDir, 'package.json'), 'utf8'));
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual(['aws-cdk-lib', 'constructs']);
    expect(manifest.peerDependencies.constructs).toBe('^10.0.0');
    expect(manifest.license).toBe('Apache-2.0');
    expect(manifest.repository).toEqual({ type: 'git', url: 'https://github.com/wsgate/wsgate.git' });
    expect(manifest.bin).toEqual({ wsgate: 'cli/wsgate.cjs' });
    expect(fs.readFileSync(path.join(rootDir, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0, January 2004/);
  });

  test(`THEN the tarball stays within its size budget of ${ROOT_PACKED_BUDGET} bytes packed`, () => {
    expect(root.size).toBeGreaterThan(100_000); // the handler bundles are in it
    expect(root.size).toBeLessThanOrEqual(ROOT_PACKED_BUDGET);
  });
});

describe('the @wsgate/local tarball', () => {
  test('THEN it ships the compiled emulator, its worker scripts, its README and licence, and its wsgate-local command', () => {
    const files = filesOf(local);
    expect(local.name).toBe('@wsgate/local');
    expect(files).toEqual(
      expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'index.js', 'index.d.ts', 'cli.js', 'emulator.js', 'gateway/README.md']),
    );
    // the function runtime's CommonJS helpers are loaded by path, not required: every one must ship
    for (const helper of fs.readdirSync(path.join(REPO, 'local', 'runtime')).filter((f) => f.endsWith('.cjs'))) {
      expect(files).toContain(`runtime/${helper}`);
    }
    // so are the Python functions' worker and sitecustomize.py (run by a Python interpreter)
    for (const helper of fs.readdirSync(path.join(REPO, 'local', 'runtime', 'python')).filter((f) => f.endsWith('.py'))) {
      expect(files).toContain(`runtime/python/${helper}`);
    }
    const manifest = JSON.parse(fs.readFileSync(path.join(localDir, 'package.json'), 'utf8'));
    expect(manifest.bin).toEqual({ 'wsgate-local': 'cli.js' });
    expect(files).toContain(manifest.main);
    expect(fs.readFileSync(path.join(localDir, 'cli.js'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node/);
  });

  test('THEN it ships no TypeScript sources, tests or source maps, and its modules require nothing outside the package', () => {
    const files = filesOf(local);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.map') || /\.test\./.test(f) || f.startsWith('node_modules/'))).toEqual([]);
    expect(files.filter((f) => /\.(c|m)?js$/.test(f) && fs.readFileSync(path.join(localDir, f), 'utf8').includes('sourceMappingURL=data:'))).toEqual([]);
    expect(unresolvedRequires(localDir, files)).toEqual([]);
  });

  test('THEN every package its modules import is one of its dependencies or a Node.js built-in', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(localDir, 'package.json'), 'utf8'));
    const declared = new Set(Object.keys(manifest.dependencies ?? {}));
    const builtins = new Set(require('module').builtinModules as string[]);
    const undeclared = new Set<string>();
    // `require("x")` anywhere, `import … from "x"` only as a statement (not the word "from" inside a message string).
    for (const file of filesOf(local).filter((f) => /\.(c|m)?js$/.test(f))) {
      const source = fs.readFileSync(path.join(localDir, file), 'utf8');
      for (const m of source.matchAll(/require\(\s*["']([^"'./][^"']*)["']\s*\)|^\s*(?:import|export)\b[^'"`;]*?from\s*["']([^"'./][^"']*)["']/gm)) {
        const spec = (m[1] ?? m[2]).replace(/^node:/, '');
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (!builtins.has(name) && !declared.has(name)) undeclared.add(`${file}: ${spec}`);
      }
    }
    expect([...undeclared]).toEqual([]);
    expect([...declared]).toEqual(expect.arrayContaining(['ws', 'dynalite', 'selfsigned']));
  });

  test(`THEN the tarball stays within its size budget of ${LOCAL_PACKED_BUDGET} bytes packed`, () => {
    expect(local.size).toBeGreaterThan(10_000);
    expect(local.size).toBeLessThanOrEqual(LOCAL_PACKED_BUDGET);
  });
});
