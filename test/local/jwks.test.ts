/**
 * The local identity provider (local/services/jwks.ts): an app whose authorizer verifies tokens against a Cognito
 * user pool's JWKS URL runs in the real emulator; the authorizer's HTTPS request for the keys is answered by the
 * emulator, `/_wsgate/token` signs RS256/ES256 tokens it accepts, and tokens signed with any other key are refused.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { signDevToken } from '../../local/dev-token';
import { startEmulator, type RunningEmulator } from '../../local/emulator';
import { generateIssuerKeys, jwksDocument, loadOrCreateIssuerKeys, signIssuerToken } from '../../local/services/jwks';
import { CLIENT_ID, synthJwksApp, USER_POOL_ISSUER } from './fixtures/jwks/jwks-app';
import { QueuedClient } from './gateway-test-kit';

let workDir: string;
let keyFile: string;
let emulator: RunningEmulator;
let wsUrl: string;
const clients: QueuedClient[] = [];
const gatewayLog: string[] = [];

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-jwks-'));
  synthJwksApp(path.join(workDir, 'cdk.out'));
  keyFile = path.join(workDir, 'keys', 'local-issuer-keys.json');
  emulator = await startEmulator({
    assemblyDir: path.join(workDir, 'cdk.out'),
    port: 0,
    issuerKeyFile: keyFile,
    log: (line) => gatewayLog.push(line),
    functionLog: () => undefined,
  });
  wsUrl = emulator.endpoints[0].websocketUrl;
});

afterAll(async () => {
  for (const c of clients) c.socket.close();
  await emulator?.close();
  fs.rmSync(workDir, { recursive: true, force: true });
});

async function tokenFromEmulator(query: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${emulator.port}/_wsgate/token?${query}`);
  return { status: res.status, body: await res.json() };
}

async function handshake(token: string): Promise<QueuedClient | Error> {
  try {
    const client = await QueuedClient.open(`${wsUrl}?token=${encodeURIComponent(token)}`);
    clients.push(client);
    return client;
  } catch (err) {
    return err as Error;
  }
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

describe('an authorizer with jwksUrl in the emulator', () => {
  test('GIVEN the app WHEN the emulator starts THEN it answers the user pool JWKS URL and made its key pair in the key file', () => {
    expect(emulator.jwksUrls).toEqual([`${USER_POOL_ISSUER}/.well-known/jwks.json`]);
    expect(fs.existsSync(keyFile)).toBe(true);
    expect((fs.statSync(keyFile).mode & 0o077)).toBe(0);
  });

  test('GIVEN a token from /_wsgate/token (RS256 by default) WHEN a client connects and joins THEN the authorizer accepted it', async () => {
    // GIVEN
    const { status, body } = await tokenFromEmulator('user=alice');
    expect(status).toBe(200);
    expect(body.alg).toBe('RS256');
    expect(claimsOf(body.token)).toEqual(expect.objectContaining({
      sub: 'alice', iss: USER_POOL_ISSUER, aud: CLIENT_ID, token_use: 'id', 'cognito:username': 'alice',
    }));

    // WHEN
    const client = await handshake(body.token);

    // THEN
    expect(client).toBeInstanceOf(QueuedClient);
    (client as QueuedClient).send({ action: 'join', data: { room: 'oidc' } });
    expect(await (client as QueuedClient).nextJson()).toEqual({ type: 'joined', room: 'oidc' });
  });

  test('GIVEN an ES256 token signed with the key file in another process\'s way WHEN a client connects THEN it is accepted', async () => {
    // GIVEN: what `npm run token -- --alg ES256` does: the same key file, no emulator involved
    const token = signIssuerToken({ keys: loadOrCreateIssuerKeys(keyFile), algorithm: 'ES256', user: 'bob', issuer: USER_POOL_ISSUER, audience: CLIENT_ID });

    // WHEN / THEN
    expect(await handshake(token)).toBeInstanceOf(QueuedClient);
  });

  test.each([
    ['signed with another RSA key under the local kid', () => {
      const forger = generateIssuerKeys();
      const local = loadOrCreateIssuerKeys(keyFile);
      return signIssuerToken({ keys: { ...forger, kids: local.kids }, user: 'mallory', issuer: USER_POOL_ISSUER, audience: CLIENT_ID });
    }],
    ['HS256 with the local secret', () => signDevToken({ user: 'mallory', issuer: USER_POOL_ISSUER, audience: CLIENT_ID })],
    ['for another audience', () => signIssuerToken({ keys: loadOrCreateIssuerKeys(keyFile), user: 'mallory', issuer: USER_POOL_ISSUER, audience: 'other-client' })],
  ])('GIVEN a token %s WHEN a client connects THEN the handshake is refused with 401', async (_what, make) => {
    // GIVEN
    const token = await make();

    // WHEN
    const outcome = await handshake(token);

    // THEN
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toMatch(/Unexpected server response: 401/);
  });

  test('GIVEN an algorithm the emulator does not offer WHEN a token is asked for THEN 400 names the ones it does', async () => {
    const { status, body } = await tokenFromEmulator('user=alice&alg=PS512');
    expect(status).toBe(400);
    expect(body.message).toMatch(/alg "PS512" is not offered; use HS256, RS256, ES256/);
  });
});

describe('the local issuer keys', () => {
  test('GIVEN a key file WHEN it is loaded twice THEN the same keys come back, and the JWKS holds only public halves', () => {
    // GIVEN / WHEN
    const file = path.join(workDir, 'again', 'keys.json');
    const first = loadOrCreateIssuerKeys(file);
    const second = loadOrCreateIssuerKeys(file);

    // THEN
    expect(second).toEqual(first);
    const jwks = jwksDocument(first);
    expect(jwks.keys.map((k) => [k.kty, k.alg, k.kid])).toEqual([['RSA', 'RS256', first.kids.RS256], ['EC', 'ES256', first.kids.ES256]]);
    for (const key of jwks.keys) expect(key.d).toBeUndefined();
  });

  test('GIVEN a corrupt key file WHEN it is loaded THEN the error names the file and says to delete it', () => {
    const file = path.join(workDir, 'corrupt.json');
    fs.writeFileSync(file, '{"privateKeys":');
    expect(() => loadOrCreateIssuerKeys(file)).toThrow(/local issuer key file .*corrupt\.json is unreadable .*delete it/);
  });
});
