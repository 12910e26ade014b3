/**
 * `npm run token` (scripts/token.ts): argument rules, and a real run signing RS256 with the local issuer key file the
 * emulator publishes as a JWKS (checked with node:crypto against that JWKS).
 */
import { spawnSync } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { jwksDocument, loadOrCreateIssuerKeys } from '../../local/services/jwks';
import { parseTokenArgs } from '../../scripts/token';

const ROOT = path.resolve(__dirname, '../..');

function runToken(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/ts-node/dist/bin.js'), '--transpile-only', '--prefer-ts-exts', path.join(ROOT, 'scripts/token.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('parseTokenArgs', () => {
  test('GIVEN --alg RS256 and --key-file WHEN parsed THEN both are kept', () => {
    expect(parseTokenArgs(['alice', '--alg', 'RS256', '--key-file', 'k.json'])).toEqual(expect.objectContaining({ user: 'alice', algorithm: 'RS256', keyFile: 'k.json' }));
  });

  test.each([
    [['alice', '--alg', 'PS256'], /--alg must be one of HS256, RS256, ES256, got "PS256"/],
    [['alice', '--alg', 'ES256', '--secret', 's'], /--secret is for HS256 only/],
    [['alice', '--key-file', 'k.json'], /--key-file is for --alg RS256 or ES256/],
  ])('GIVEN %j WHEN parsed THEN it is refused', (argv, message) => {
    expect(() => parseTokenArgs(argv)).toThrow(message);
  });
});

describe('npm run token', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-token-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('GIVEN --help WHEN run THEN the example URL uses the example\'s real stage (prod) and the clock skew is stated', () => {
    const { status, stdout } = runToken(['--help']);
    expect(status).toBe(0);
    expect(stdout).toContain('ws://127.0.0.1:3001/prod?token=');
    expect(stdout).not.toContain('/dev?');
    expect(stdout).toMatch(/30 s\s+of clock skew/);
  });

  test('GIVEN --alg RS256 with a key file WHEN run THEN the token verifies against that key file\'s JWKS with the given claims', () => {
    // GIVEN
    const keyFile = path.join(dir, 'keys.json');

    // WHEN
    const { status, stdout, stderr } = runToken(['carol', '--alg', 'RS256', '--key-file', keyFile, '--issuer', 'https://issuer.example', '--audience', 'client-1']);

    // THEN
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const [header, claims, signature] = stdout.trim().split('.');
    const head = JSON.parse(Buffer.from(header, 'base64url').toString());
    const jwk = jwksDocument(loadOrCreateIssuerKeys(keyFile)).keys.find((k) => k.kid === head.kid)!;
    expect(head.alg).toBe('RS256');
    expect(verify('sha256', Buffer.from(`${header}.${claims}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(signature, 'base64url'))).toBe(true);
    expect(JSON.parse(Buffer.from(claims, 'base64url').toString())).toEqual(expect.objectContaining({ sub: 'carol', iss: 'https://issuer.example', aud: 'client-1' }));
  });
});
