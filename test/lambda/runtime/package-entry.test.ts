/**
 * The published entry `wsgate/runtime` (package.json exports → dist/runtime, built by scripts/build-runtime.mjs):
 * the CommonJS and ES module builds expose the API, the declarations type-check a user's handler, neither build
 * carries aws-cdk-lib, and a user's esbuild bundle carries only what the handler uses.
 * The package is reached the way a user's project reaches it: a temporary project whose node_modules/wsgate links
 * to this repository.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import ts from 'typescript';

const ROOT = join(__dirname, '..', '..', '..');
const DIST = join(ROOT, 'dist', 'runtime');
const API = [
  'ConfigurationError',
  'ConnectionGoneError',
  'ConnectionStore',
  'ENV',
  'InvalidArgumentError',
  'LIMITS',
  'MessageTooLargeError',
  'Messenger',
  'ROOM_NAME',
  'TABLE',
  'WsgateError',
  'createGatewayClient',
  'readIdentity',
];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

function newest(dir: string): number {
  return Math.max(...files(dir).map((f) => statSync(f).mtimeMs));
}

let project: string;

beforeAll(() => {
  // Build dist/runtime when it is missing or older than its sources (`npm test` builds it first).
  let built = 0;
  try {
    built = statSync(join(DIST, 'index.cjs')).mtimeMs;
  } catch {
    built = 0;
  }
  if (built < Math.max(newest(join(ROOT, 'lambda', 'runtime')), newest(join(ROOT, 'contract')))) {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-runtime.mjs'), '--quiet'], { stdio: 'inherit' });
  }
  project = mkdtempSync(join(tmpdir(), 'wsgate-user-'));
  mkdirSync(join(project, 'node_modules'));
  symlinkSync(ROOT, join(project, 'node_modules', 'wsgate'), 'dir');
});
afterAll(() => {
  rmSync(project, { recursive: true, force: true });
});

/** Bundles a user's handler the way a NodejsFunction would (esbuild, Node, the SDK external) and returns the code. */
function bundle(source: string): string {
  const entry = join(project, `handler-${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(entry, source);
  const out = buildSync({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', external: ['@aws-sdk/*'], write: false, logLevel: 'silent' });
  return out.outputFiles[0].text;
}

describe('wsgate/runtime as a package entry', () => {
  test('GIVEN the CommonJS build WHEN required THEN it exposes the API, and readIdentity and the typed errors work', () => {
    // WHEN
    const runtime = require(join(DIST, 'index.cjs'));
    // THEN
    expect(Object.keys(runtime).sort()).toEqual(API);
    expect(runtime.readIdentity({ requestContext: { connectionId: 'A=', routeKey: '$default' } })).toMatchObject({ connectionId: 'A=', routeKey: '$default' });
    expect(() => runtime.readIdentity({})).toThrow(runtime.InvalidArgumentError);
    expect(new runtime.MessageTooLargeError(5)).toBeInstanceOf(runtime.WsgateError);
    expect(runtime.LIMITS.maxPostBytes).toBe(131072);
  });

  test('GIVEN the ES module build WHEN imported by Node through the package name THEN it exposes the same API', () => {
    // WHEN: a real ES module import in a child Node process, resolved through node_modules/wsgate and package.json exports
    const script = "import('wsgate/runtime').then((m) => { console.log(JSON.stringify({ keys: Object.keys(m).sort(), code: new m.ConfigurationError('x').code })); })";
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: project, encoding: 'utf8' });
    // THEN
    expect(JSON.parse(out)).toEqual({ keys: API, code: 'CONFIGURATION' });
  });

  test('GIVEN both builds WHEN read THEN neither imports aws-cdk-lib or constructs', () => {
    const built = [join(DIST, 'index.cjs'), ...files(join(DIST, 'esm'))];
    expect(built.length).toBeGreaterThan(5);
    for (const file of built) {
      const code = readFileSync(file, 'utf8');
      expect(code).not.toMatch(/aws-cdk-lib|require\("constructs"\)|from "constructs"/);
    }
  });

  test('GIVEN a user handler that imports only readIdentity WHEN bundled with esbuild THEN it carries no DynamoDB, store or messenger code', () => {
    // WHEN
    const code = bundle("import { readIdentity } from 'wsgate/runtime';\nexport const handler = async (event: unknown) => ({ statusCode: 200, body: readIdentity(event).connectionId });\n");
    // THEN
    expect(code).toContain('requestContext');
    expect(code).not.toMatch(/@aws-sdk|ConnectionStore|Messenger|QueryCommand|PostToConnection|conn#/);
    expect(code.length).toBeLessThan(8 * 1024);
  });

  test('GIVEN a user handler that uses createGatewayClient WHEN bundled THEN the store and the SDK imports are there (the tree-shaking check can fail)', () => {
    const code = bundle("import { createGatewayClient } from 'wsgate/runtime';\nconst gateway = createGatewayClient();\nexport const handler = async () => { await gateway.broadcast('x'); return { statusCode: 200 }; };\n");
    expect(code).toMatch(/require\("@aws-sdk\/lib-dynamodb"\)/);
    expect(code).toContain('conn#');
  });

  test('GIVEN the declarations WHEN a user handler is type-checked against wsgate/runtime THEN it compiles, and a misuse is a type error', () => {
    // GIVEN
    const good = join(project, 'good.ts');
    const bad = join(project, 'bad.ts');
    writeFileSync(
      good,
      [
        "import { createGatewayClient, readIdentity, GatewayClient, ConnectionIdentity, WsgateError, LIMITS } from 'wsgate/runtime';",
        'const gateway: GatewayClient = createGatewayClient({ fanoutConcurrency: 10 });',
        'export async function handler(event: unknown): Promise<{ statusCode: number }> {',
        '  const who: ConnectionIdentity = readIdentity(event);',
        "  const outcome: 'delivered' | 'gone' | 'failed' = await gateway.send(who.connectionId, { hello: who.principalId ?? 'anonymous' });",
        '  const counts = await gateway.sendToRoom("lobby", "x");',
        '  try { await gateway.close(who.connectionId); } catch (err) { if (err instanceof WsgateError) console.log(err.code); }',
        '  return { statusCode: outcome === "delivered" && counts.failed === 0 && LIMITS.maxPostBytes > 0 ? 200 : 500 };',
        '}',
      ].join('\n'),
    );
    writeFileSync(bad, "import { createGatewayClient } from 'wsgate/runtime';\nvoid createGatewayClient().send(42, 'x');\n");
    const options: ts.CompilerOptions = {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.Node16,
      moduleResolution: ts.ModuleResolutionKind.Node16,
      types: ['node'],
      typeRoots: [join(ROOT, 'node_modules', '@types')],
      skipLibCheck: true,
    };
    // WHEN: one program for both files (type-checking the SDK's declarations is the slow part)
    const all = ts.getPreEmitDiagnostics(ts.createProgram([good, bad], options));
    const diagnostics = (file: string) =>
      all.filter((d) => d.file?.fileName === file || d.file === undefined).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    // THEN
    expect(diagnostics(good)).toEqual([]);
    expect(diagnostics(bad)).toEqual([expect.stringMatching(/Argument of type 'number' is not assignable to parameter of type 'string'/)]);
  });
});
