/**
 * The authorizer's modules one by one (lambda/gateway/auth/*): the JWKS algorithm allow-list, the exact length
 * bounds, the token-source and `Bearer` parsing, the configuration patterns, the secret's cache TTL and every log
 * line. The modules are loaded afresh in each test (jest.isolateModules) so that module-level constants (the
 * algorithm list, the patterns, the TTL) are read by the test that checks them. Real parts: real jose, a local
 * JWKS server, the real SDK Secrets Manager client against a local server.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import type { SigningKeySource } from '../../../lambda/gateway/auth/key-source';
import {
  AUDIENCE, enc, HEADER_SOURCE as HEADER, ISSUER, METHOD_ARN, now, QUERY_SOURCE as QUERY, SECRET, SECRET_ARN,
} from '../support/authorizer-fixtures';

// jose 6 ships only ES modules; this loads the real jose converted to CommonJS by esbuild (as the bundle gets it),
// built once per test process and re-required in every isolated module registry.
jest.mock('jose', () => {
  const memo = globalThis as { mockJoseCjsFile?: string };
  if (!memo.mockJoseCjsFile) {
    const { buildSync } = jest.requireActual('esbuild');
    const dir = jest.requireActual('node:fs').mkdtempSync(jest.requireActual('node:path').join(jest.requireActual('node:os').tmpdir(), 'jose-cjs-'));
    const outfile = `${dir}/jose.cjs`;
    buildSync({ entryPoints: [require.resolve('jose')], bundle: true, format: 'cjs', platform: 'node', target: 'node20', outfile, logLevel: 'silent' });
    memo.mockJoseCjsFile = outfile;
  }
  return jest.requireActual(memo.mockJoseCjsFile);
});

interface AuthModules {
  config: typeof import('../../../lambda/gateway/auth/config');
  create: typeof import('../../../lambda/gateway/auth/create-authorizer');
  jwks: typeof import('../../../lambda/gateway/auth/jwks-key-source');
  keySource: typeof import('../../../lambda/gateway/auth/key-source');
  log: typeof import('../../../lambda/gateway/auth/log');
  secret: typeof import('../../../lambda/gateway/auth/secret-key-source');
  tokenSource: typeof import('../../../lambda/gateway/auth/token-source');
  verify: typeof import('../../../lambda/gateway/auth/verify-token');
}

function freshModules(): AuthModules {
  let m!: AuthModules;
  jest.isolateModules(() => {
    m = {
      config: require('../../../lambda/gateway/auth/config'),
      create: require('../../../lambda/gateway/auth/create-authorizer'),
      jwks: require('../../../lambda/gateway/auth/jwks-key-source'),
      keySource: require('../../../lambda/gateway/auth/key-source'),
      log: require('../../../lambda/gateway/auth/log'),
      secret: require('../../../lambda/gateway/auth/secret-key-source'),
      tokenSource: require('../../../lambda/gateway/auth/token-source'),
      verify: require('../../../lambda/gateway/auth/verify-token'),
    };
  });
  return m;
}

let m: AuthModules;
beforeEach(() => {
  m = freshModules();
});

// ---------------------------------------------------------------- fixtures -------------------------

const EXPECT = { issuer: ISSUER, audience: AUDIENCE };

function connectEvent(parts: { query?: Record<string, string>; headers?: Record<string, string>; connectionId?: string; requestId?: string } = {}) {
  return {
    type: 'REQUEST',
    methodArn: METHOD_ARN,
    headers: { Host: 'abcdef1234.execute-api.us-east-1.amazonaws.com', ...parts.headers },
    queryStringParameters: parts.query ?? {},
    requestContext: { connectionId: parts.connectionId ?? 'conn-1=', requestId: parts.requestId ?? 'req-1' },
  };
}

function hsToken(claims: JWTPayload = {}, header: Record<string, string> = {}) {
  return new SignJWT({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: now() + 600, ...claims })
    .setProtectedHeader({ alg: 'HS256', ...header })
    .sign(enc(SECRET));
}

/** The HS256 key given directly, counting lookups (the SigningKeySource interface the verifier depends on). */
function hsKeys(): SigningKeySource & { lookups: number } {
  const keys = { lookups: 0, algorithms: ['HS256'] as SigningKeySource['algorithms'], resolve: async () => {
    keys.lookups++;
    return enc(SECRET);
  } };
  return keys;
}

interface Captured { level: 'info' | 'error'; event: string; fields?: Record<string, unknown> }
function captureLog() {
  const lines: Captured[] = [];
  return {
    lines,
    log: {
      info: (event: string, fields?: Record<string, unknown>) => lines.push({ level: 'info', event, fields }),
      error: (event: string, fields?: Record<string, unknown>) => lines.push({ level: 'error', event, fields }),
    },
  };
}

/** A token of exactly `length` characters: HS256, padded with a claim (and a kid to reach every length). */
async function tokenOfLength(length: number, claims: JWTPayload = {}): Promise<string> {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url').length;
  const base = { sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: now() + 600, ...claims };
  for (let kid = 1; kid <= 4; kid++) {
    const header = { alg: 'HS256', kid: 'k'.repeat(kid) };
    for (let pad = 0; pad < length; pad++) {
      const total = b64(header) + b64({ ...base, pad: 'x'.repeat(pad) }) + 43 + 2;
      if (total === length) {
        const token = await hsToken({ ...claims, pad: 'x'.repeat(pad) }, { kid: header.kid });
        expect(token).toHaveLength(length);
        return token;
      }
      if (total > length) break;
    }
  }
  throw new Error(`no token of length ${length}`);
}

async function listen(handle: (req: IncomingMessage, res: ServerResponse) => void) {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    req.resume();
    req.on('end', () => handle(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function json(res: ServerResponse, status: number, body: unknown, type = 'application/json') {
  res.writeHead(status, { 'content-type': type });
  res.end(JSON.stringify(body));
}

function secretsClient(endpoint: string) {
  return new SecretsManagerClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' }, maxAttempts: 1 });
}

// ---------------------------------------------------------------- JWKS algorithm allow-list ---------

describe('JWKS: the algorithm allow-list and the key lookup faults', () => {
  const ALL = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
  let keys: Record<string, Parameters<SignJWT['sign']>[0]>;
  let kids: Record<string, string>;
  let server: Awaited<ReturnType<typeof listen>>;
  let jwksBody: () => unknown;

  beforeAll(async () => {
    // One RSA key without `alg` serves RS* and PS*; one EC key per curve; an Ed25519 key for EdDSA.
    // A node KeyObject (not a WebCrypto CryptoKey, which is bound to one hash and padding) signs all six.
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const p256 = await generateKeyPair('ES256', { extractable: true });
    const p384 = await generateKeyPair('ES384', { extractable: true });
    const p521 = await generateKeyPair('ES512', { extractable: true });
    const ed = await generateKeyPair('EdDSA', { extractable: true });
    keys = { RS: rsa.privateKey, PS: rsa.privateKey, ES256: p256.privateKey, ES384: p384.privateKey, ES512: p521.privateKey, EdDSA: ed.privateKey };
    kids = { RS: 'rsa', PS: 'rsa', ES256: 'p256', ES384: 'p384', ES512: 'p521', EdDSA: 'ed' };
    const published = [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa', use: 'sig' },
      { ...(await exportJWK(p256.publicKey)), kid: 'p256', use: 'sig' },
      { ...(await exportJWK(p384.publicKey)), kid: 'p384', use: 'sig' },
      { ...(await exportJWK(p521.publicKey)), kid: 'p521', use: 'sig' },
      { ...(await exportJWK(ed.publicKey)), kid: 'ed', use: 'sig' },
    ];
    jwksBody = () => ({ keys: published });
    server = await listen((_req, res) => json(res, 200, jwksBody()));
  });
  afterAll(() => server.close());

  const keyFor = (alg: string) => keys[alg.startsWith('ES') ? alg : alg.slice(0, 2)] ?? keys[alg];
  const kidFor = (alg: string) => kids[alg.startsWith('ES') ? alg : alg.slice(0, 2)] ?? kids[alg];
  const sign = (alg: string, header: Record<string, string> = { kid: kidFor(alg) }) =>
    new SignJWT({ sub: `user-${alg}`, iss: ISSUER, aud: AUDIENCE, exp: now() + 600 }).setProtectedHeader({ alg, ...header }).sign(keyFor(alg));

  test('GIVEN the JWKS key source WHEN asked for its algorithms THEN exactly the nine RSA, RSA-PSS and ECDSA ones', () => {
    expect(m.jwks.jwksKeySource(new URL(`${server.url}/jwks`)).algorithms).toEqual(ALL);
  });

  test.each(ALL)('GIVEN a token signed with %s by a key of the JWKS WHEN authorizing THEN Allow', async (alg) => {
    const { lines, log } = captureLog();
    const url = new URL(`${server.url}/jwks`);
    const authorize = m.create.createAuthorizer({ config: { tokenSource: QUERY, ...EXPECT, keySource: { kind: 'jwks', url } }, keys: m.jwks.jwksKeySource(url), log });
    await expect(authorize(connectEvent({ query: { token: await sign(alg) } }))).resolves.toMatchObject({ principalId: `user-${alg}` });
    expect(lines).toEqual([{ level: 'info', event: 'authorizer.allowed', fields: { connectionId: 'conn-1=', requestId: 'req-1', userId: `user-${alg}` } }]);
  });

  test('GIVEN tokens with alg EdDSA (a key the JWKS has), HS256 and none WHEN verifying against the JWKS THEN each refused as an algorithm not allowed, before any JWKS fetch', async () => {
    const fetched = server.requests();
    const source = m.jwks.jwksKeySource(new URL(`${server.url}/jwks`));
    const refused = [
      await sign('EdDSA'),
      await new SignJWT({ sub: 'mallory', iss: ISSUER, aud: AUDIENCE, exp: now() + 600 }).setProtectedHeader({ alg: 'HS256', kid: 'rsa' }).sign(enc(SECRET)),
      new UnsecuredJWT({ sub: 'mallory', iss: ISSUER, aud: AUDIENCE, exp: now() + 600 }).encode(),
    ];
    for (const token of refused) {
      const err = await m.verify.verifyToken(token, source, EXPECT).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(m.verify.TokenRejected);
      expect((err as InstanceType<typeof m.verify.TokenRejected>).reason).toMatch(/^ERR_JOSE_ALG_NOT_ALLOWED: /);
    }
    expect(server.requests()).toBe(fetched);
  });

  test('GIVEN a kid the JWKS lacks, or two keys matching a token without kid WHEN verifying THEN TokenRejected with the jose code (the token’s fault, 401), not a KeySourceError', async () => {
    const twoRsa = await listen(async (_req, res) => {
      const a = await generateKeyPair('RS256', { extractable: true });
      const b = await generateKeyPair('RS256', { extractable: true });
      json(res, 200, { keys: [await exportJWK(a.publicKey), await exportJWK(b.publicKey)] });
    });
    try {
      const unknownKid = await m.verify.verifyToken(await sign('RS256', { kid: 'no-such-kid' }), m.jwks.jwksKeySource(new URL(`${server.url}/jwks`)), EXPECT).catch((e: unknown) => e);
      expect(unknownKid).toBeInstanceOf(m.verify.TokenRejected);
      expect((unknownKid as Error).message).toMatch(/^token rejected: ERR_JWKS_NO_MATCHING_KEY: /);
      const ambiguous = await m.verify.verifyToken(await sign('RS256', {}), m.jwks.jwksKeySource(new URL(`${twoRsa.url}/jwks`)), EXPECT).catch((e: unknown) => e);
      expect(ambiguous).toBeInstanceOf(m.verify.TokenRejected);
      expect((ambiguous as Error).message).toMatch(/^token rejected: ERR_JWKS_MULTIPLE_MATCHING_KEYS: /);
    } finally {
      await twoRsa.close();
    }
  });

  test('GIVEN a JWKS endpoint answering 500 WHEN authorizing THEN a KeySourceError with the exact message and jose’s error as cause, logged as authorizer.failed', async () => {
    const broken = await listen((_req, res) => json(res, 500, { message: 'down' }));
    try {
      const url = new URL(`${broken.url}/jwks`);
      const { lines, log } = captureLog();
      const authorize = m.create.createAuthorizer({ config: { tokenSource: QUERY, ...EXPECT, keySource: { kind: 'jwks', url } }, keys: m.jwks.jwksKeySource(url), log });
      const err = (await authorize(connectEvent({ query: { token: await sign('RS256') } })).catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(m.keySource.KeySourceError);
      expect(err.message).toBe('JWKS_URL key set unavailable: Expected 200 OK from the JSON Web Key Set HTTP response');
      expect(err.cause).toMatchObject({ code: 'ERR_JOSE_GENERIC' });
      expect(lines).toEqual([{
        level: 'error', event: 'authorizer.failed',
        fields: { connectionId: 'conn-1=', requestId: 'req-1', error: 'KeySourceError: JWKS_URL key set unavailable: Expected 200 OK from the JSON Web Key Set HTTP response' },
      }]);
    } finally {
      await broken.close();
    }
  });
  test('GIVEN a JWKS endpoint that answers only after 4 s WHEN authorizing THEN the fetch gives up at JWKS_TIMEOUT_MS (3 s, not jose\'s own 5 s): a KeySourceError with ERR_JWKS_TIMEOUT', async () => {
    // GIVEN a key set that arrives after JWKS_TIMEOUT_MS and before jose's default timeout: only the 3 s limit refuses it
    expect(m.jwks.JWKS_TIMEOUT_MS).toBe(3000);
    const timers: NodeJS.Timeout[] = [];
    const slow = await listen((_req, res) => timers.push(setTimeout(() => json(res, 200, jwksBody()), 4000)));
    try {
      const url = new URL(`${slow.url}/jwks`);
      const authorize = m.create.createAuthorizer({ config: { tokenSource: QUERY, ...EXPECT, keySource: { kind: 'jwks', url } }, keys: m.jwks.jwksKeySource(url), log: captureLog().log });
      // WHEN
      const err = (await authorize(connectEvent({ query: { token: await sign('RS256') } })).catch((e: unknown) => e)) as Error;
      // THEN
      expect(err).toBeInstanceOf(m.keySource.KeySourceError);
      expect(err.cause).toMatchObject({ code: 'ERR_JWKS_TIMEOUT' });
    } finally {
      timers.forEach(clearTimeout);
      await slow.close();
    }
  });
});

// ---------------------------------------------------------------- verify-token ----------------------

describe('verifyToken: exact bounds, the compact-JWS pre-check and the rejection reasons', () => {
  const reasonOf = async (token: string, keys: SigningKeySource = hsKeys()) => {
    const err = await m.verify.verifyToken(token, keys, EXPECT).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(m.verify.TokenRejected);
    return (err as InstanceType<typeof m.verify.TokenRejected>).reason;
  };

  test('GIVEN TokenRejected and KeySourceError WHEN built THEN their names and messages', () => {
    const rejected = new m.verify.TokenRejected('why');
    expect([rejected.name, rejected.message, rejected.reason]).toEqual(['TokenRejected', 'token rejected: why', 'why']);
    expect(new m.keySource.KeySourceError('down').name).toBe('KeySourceError');
  });

  test('GIVEN a valid token of exactly 8192 characters WHEN verified THEN accepted; GIVEN 8193 THEN refused for its length before any key lookup', async () => {
    expect(m.verify.MAX_TOKEN_LENGTH).toBe(8192);
    const keys = hsKeys();
    await expect(m.verify.verifyToken(await tokenOfLength(8192), keys, EXPECT)).resolves.toMatchObject({ subject: 'alice' });
    expect(keys.lookups).toBe(1);
    expect(await reasonOf(await tokenOfLength(8193), keys)).toBe('longer than 8192 characters');
    expect(keys.lookups).toBe(1);
  });

  test('GIVEN a sub of exactly 256 characters WHEN verified THEN accepted; GIVEN 257 THEN refused with the reason', async () => {
    expect(m.verify.MAX_SUBJECT_LENGTH).toBe(256);
    await expect(m.verify.verifyToken(await hsToken({ sub: 's'.repeat(256) }), hsKeys(), EXPECT)).resolves.toMatchObject({ subject: 's'.repeat(256) });
    expect(await reasonOf(await hsToken({ sub: 's'.repeat(257) }))).toBe('sub claim longer than 256 characters');
  });

  test('GIVEN a sub of spaces only, or none WHEN verified THEN refused as missing or empty', async () => {
    expect(await reasonOf(await hsToken({ sub: '   ' }))).toBe('sub claim is missing or empty');
    expect(await reasonOf(await hsToken({ sub: 42 as unknown as string }))).toBe('sub claim is missing or empty');
  });

  test('GIVEN a valid token with text before or after it, or a fourth segment WHEN verified THEN refused by the compact-JWS check without a key lookup', async () => {
    const valid = await hsToken();
    const keys = hsKeys();
    for (const token of [`*${valid}`, ` ${valid}`, `${valid}=`, `${valid}\n`, `${valid}.more`, 'a+b.c.d']) {
      expect(await reasonOf(token, keys)).toBe('not a compact JWS (header.payload.signature)');
    }
    expect(keys.lookups).toBe(0);
  });

  test('GIVEN a key lookup that fails with an error without a code WHEN verified THEN refused as "unverifiable" (also for a rejection that is not an Error); a KeySourceError passes through', async () => {
    const token = await hsToken({}, { kid: 'k' });
    const throwing = (err: unknown): SigningKeySource => ({ algorithms: ['HS256'], resolve: async () => async () => { throw err; } });
    expect(await reasonOf(token, throwing(new Error('lookup broke')))).toBe('unverifiable');
    expect(await reasonOf(token, throwing(undefined))).toBe('unverifiable');
    const down = new m.keySource.KeySourceError('keys down');
    await expect(m.verify.verifyToken(token, throwing(down), EXPECT)).rejects.toBe(down);
  });
});

// ---------------------------------------------------------------- token-source ----------------------

describe('extractToken: where the token is read and how Bearer is removed', () => {
  const fromHeader = (value: string) => m.tokenSource.extractToken({ headers: { Authorization: value } }, HEADER);

  test.each<[string, string, string | undefined]>([
    ['Bearer and one space', 'Bearer abc.def.ghi', 'abc.def.ghi'],
    ['lower-case bearer', 'bearer abc.def.ghi', 'abc.def.ghi'],
    ['upper-case BEARER and several spaces', 'BEARER   abc.def.ghi', 'abc.def.ghi'],
    ['a tab after Bearer', 'Bearer\tabc.def.ghi', 'abc.def.ghi'],
    ['spaces around the whole value', '  Bearer abc.def.ghi  ', 'abc.def.ghi'],
    ['the bare token', 'abc.def.ghi', 'abc.def.ghi'],
    ['Bearer not at the start (kept as is)', 'xBearer abc', 'xBearer abc'],
    ['another scheme before Bearer (kept as is)', 'Basic Bearer abc', 'Basic Bearer abc'],
    ['Bearer glued to the token (no space: kept as is)', 'Bearerabc', 'Bearerabc'],
    ['"Bearer" alone (taken as the token, which verification then refuses)', 'Bearer ', 'Bearer'],
    ['only spaces', '   ', undefined],
    ['empty', '', undefined],
  ])('GIVEN an Authorization header with %s (%p) WHEN extracted THEN %p', (_name, value, expected) => {
    expect(fromHeader(value)).toBe(expected);
  });

  test('GIVEN query-string tokens WHEN extracted THEN trimmed, case-sensitive name, blank = none', () => {
    const q = (query: unknown) => m.tokenSource.extractToken({ queryStringParameters: query }, QUERY);
    expect(q({ token: '  abc  ' })).toBe('abc');
    expect(q({ token: 'Bearer abc' })).toBe('Bearer abc');
    expect(q({ Token: 'abc' })).toBeUndefined();
    expect(q({ token: '' })).toBeUndefined();
    expect(q({ token: 7 })).toBeUndefined();
    expect(q(null)).toBeUndefined();
  });

  test('GIVEN events that are not objects, null headers, or a header key literally named "undefined" WHEN extracted THEN undefined, never a crash', () => {
    for (const event of [null, undefined, 'text', 42]) {
      expect(m.tokenSource.extractToken(event, QUERY)).toBeUndefined();
      expect(m.tokenSource.extractToken(event, HEADER)).toBeUndefined();
    }
    expect(m.tokenSource.extractToken({ headers: null }, HEADER)).toBeUndefined();
    expect(m.tokenSource.extractToken({ headers: { undefined: 'abc.def.ghi' } }, HEADER)).toBeUndefined();
    expect(m.tokenSource.extractToken({ headers: { aUTHORIZATION: 'abc.def.ghi' } }, HEADER)).toBe('abc.def.ghi');
  });
});

// ---------------------------------------------------------------- config ----------------------------

describe('readAuthorizerConfig: anchored patterns, trimming, loopback hosts, exact messages', () => {
  const base = { JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWT_SECRET_ARN: SECRET_ARN };
  const errorOf = (env: NodeJS.ProcessEnv) => {
    try {
      m.config.readAuthorizerConfig(env);
    } catch (err) {
      return err as Error;
    }
    throw new Error('no error');
  };

  test.each(['xheader:X-Token', 'header:X-Token\nquerystring:token', 'header: X-Token', 'header:X Token', 'header:X-Token;', 'querystring:token=1'])(
    'GIVEN TOKEN_SOURCE %p WHEN read THEN refused (the whole value must match)',
    (value) => {
      const err = errorOf({ ...base, TOKEN_SOURCE: value });
      expect(err.name).toBe('AuthorizerConfigError');
      expect(err.message).toBe(`authorizer configuration: TOKEN_SOURCE must be "querystring:<name>" or "header:<name>" (a name without spaces, separators or control characters), got ${JSON.stringify(value)}`);
    },
  );

  test('GIVEN values with spaces around them, or a blank JWKS_URL beside a secret WHEN read THEN trimmed, and the blank one counts as unset', () => {
    expect(m.config.readAuthorizerConfig({ ...base, JWT_SECRET_ARN: `  ${SECRET_ARN}  `, TOKEN_SOURCE: '  header:X-Token  ', JWKS_URL: '   ' })).toEqual({
      tokenSource: { location: 'header', name: 'X-Token' },
      issuer: ISSUER,
      audience: AUDIENCE,
      keySource: { kind: 'secret', secretArn: SECRET_ARN },
    });
    expect(m.config.readAuthorizerConfig({ JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWT_SECRET_ARN: '  ', JWKS_URL: ' https://idp.test/jwks ' }).keySource)
      .toEqual({ kind: 'jwks', url: new URL('https://idp.test/jwks') });
    expect(m.config.readAuthorizerConfig({ ...base, TOKEN_SOURCE: '   ' }).tokenSource).toEqual({ location: 'querystring', name: 'token' });
  });

  test('GIVEN http:// JWKS URLs WHEN read THEN allowed for 127.0.0.1, localhost and [::1] only; other schemes refused even on loopback', () => {
    const env = (url: string) => ({ JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWKS_URL: url });
    for (const url of ['http://127.0.0.1:9000/jwks', 'http://localhost:9000/jwks', 'http://[::1]:9000/jwks', 'https://idp.test/jwks']) {
      expect(m.config.readAuthorizerConfig(env(url)).keySource).toEqual({ kind: 'jwks', url: new URL(url) });
    }
    expect(errorOf(env('ftp://127.0.0.1/jwks')).message).toBe('authorizer configuration: JWKS_URL must use https:// (http:// only for 127.0.0.1/localhost), got ftp://127.0.0.1');
    expect(errorOf(env('http://127.0.0.2/jwks')).message).toBe('authorizer configuration: JWKS_URL must use https:// (http:// only for 127.0.0.1/localhost), got http://127.0.0.2');
  });

  test('GIVEN a missing issuer or audience WHEN read THEN the exact message naming the variable and its meaning', () => {
    expect(errorOf({ JWT_AUDIENCE: AUDIENCE, JWT_SECRET_ARN: SECRET_ARN }).message).toBe('authorizer configuration: JWT_ISSUER is required (the iss claim every token must carry)');
    expect(errorOf({ JWT_ISSUER: ISSUER, JWT_SECRET_ARN: SECRET_ARN }).message).toBe('authorizer configuration: JWT_AUDIENCE is required (the aud claim every token must carry)');
  });
});

// ---------------------------------------------------------------- secret-key-source -----------------

describe('secretKeySource: the 5-minute cache and the lookup faults', () => {
  test('GIVEN the default TTL and a clock seam WHEN resolved at 299,999 ms and at 300,000 ms after the fetch THEN cached, then fetched again', async () => {
    const sm = await listen((_req, res) => json(res, 200, { ARN: SECRET_ARN, SecretString: SECRET }, 'application/x-amz-json-1.1'));
    try {
      expect(m.secret.SECRET_CACHE_TTL_MS).toBe(300_000);
      let clock = 5_000_000;
      const keys = m.secret.secretKeySource({ secretArn: SECRET_ARN, client: secretsClient(sm.url), now: () => clock });
      await expect(keys.resolve()).resolves.toEqual(enc(SECRET));
      clock += 299_999;
      await keys.resolve();
      expect(sm.requests()).toBe(1);
      clock += 1;
      await keys.resolve();
      expect(sm.requests()).toBe(2);
    } finally {
      await sm.close();
    }
  });

  test('GIVEN a secret stored as binary (no SecretString) WHEN resolved THEN a KeySourceError, never the text "undefined" as the key', async () => {
    const sm = await listen((_req, res) => json(res, 200, { ARN: SECRET_ARN, SecretBinary: Buffer.from('k').toString('base64') }, 'application/x-amz-json-1.1'));
    try {
      const err = await m.secret.secretKeySource({ secretArn: SECRET_ARN, client: secretsClient(sm.url) }).resolve().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(m.keySource.KeySourceError);
      expect((err as Error).message).toBe('JWT_SECRET_ARN secret has no SecretString: the HS256 key must be stored as a non-empty string');
    } finally {
      await sm.close();
    }
  });

  test('GIVEN GetSecretValue failing WHEN resolved THEN a KeySourceError naming the error, with the SDK error as cause; a rejection that is not an Error is named "Error"', async () => {
    const sm = await listen((_req, res) => json(res, 400, { __type: 'ResourceNotFoundException', message: 'no such secret' }, 'application/x-amz-json-1.1'));
    try {
      const err = (await m.secret.secretKeySource({ secretArn: SECRET_ARN, client: secretsClient(sm.url) }).resolve().catch((e: unknown) => e)) as Error;
      expect(err.message).toBe('GetSecretValue failed for JWT_SECRET_ARN: ResourceNotFoundException');
      expect(err.cause).toMatchObject({ name: 'ResourceNotFoundException' });
    } finally {
      await sm.close();
    }
    const odd = { send: async () => Promise.reject(undefined) } as unknown as SecretsManagerClient;
    await expect(m.secret.secretKeySource({ secretArn: SECRET_ARN, client: odd }).resolve()).rejects.toThrow(/^GetSecretValue failed for JWT_SECRET_ARN: Error$/);
  });
});

// ---------------------------------------------------------------- log lines ---------------------------

describe('the authorizer’s log lines', () => {
  test('GIVEN createAuthLog with a sink WHEN info and error are written THEN one JSON line each with time, level, component, event and fields', () => {
    const lines: string[] = [];
    const log = m.log.createAuthLog((line) => lines.push(line));
    log.info('authorizer.allowed', { userId: 'alice' });
    log.error('authorizer.failed');
    const parsed = lines.map((l) => JSON.parse(l));
    expect(parsed).toEqual([
      { time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), level: 'info', component: 'authorizer', event: 'authorizer.allowed', userId: 'alice' },
      { time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), level: 'error', component: 'authorizer', event: 'authorizer.failed' },
    ]);
  });

  test('GIVEN createAuthLog without a sink WHEN written THEN the line goes to stdout with a newline', () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      m.log.createAuthLog().info('authorizer.rejected', { reason: 'r' });
    } finally {
      spy.mockRestore();
    }
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^\{"time":"[^"]+","level":"info","component":"authorizer","event":"authorizer.rejected","reason":"r"\}\n$/);
  });

  test('GIVEN errors and other values WHEN summarized THEN "name: message", cut after exactly 300 characters', () => {
    expect(m.log.errorSummary(new TypeError('boom'))).toBe('TypeError: boom');
    expect(m.log.errorSummary('plain')).toBe('plain');
    expect(m.log.errorSummary('y'.repeat(300))).toBe('y'.repeat(300));
    expect(m.log.errorSummary('y'.repeat(301))).toBe(`${'y'.repeat(300)}…`);
  });

  test('GIVEN each outcome WHEN authorizing THEN exactly one log line with its level, event and fields; ids cut at 128 characters', async () => {
    const { lines, log } = captureLog();
    const authorize = m.create.createAuthorizer({ config: { tokenSource: QUERY, ...EXPECT, keySource: { kind: 'secret', secretArn: SECRET_ARN } }, keys: hsKeys(), log });
    const long = { connectionId: 'c'.repeat(130), requestId: 'r'.repeat(200) };
    const ids = { connectionId: 'c'.repeat(128), requestId: 'r'.repeat(128) };

    await expect(authorize(connectEvent({ ...long, query: { token: await hsToken({ sub: 'ivan' }) } }))).resolves.toMatchObject({ principalId: 'ivan' });
    await expect(authorize({ ...connectEvent(long), methodArn: 'not-an-arn' })).rejects.toThrow(/^Unauthorized$/);
    await expect(authorize(connectEvent(long))).rejects.toThrow(/^Unauthorized$/);
    await expect(authorize(connectEvent({ ...long, query: { token: 'a.b' } }))).rejects.toThrow(/^Unauthorized$/);
    await expect(authorize({ ...connectEvent({ query: { token: await hsToken() } }), requestContext: { connectionId: 7, requestId: null } } as never)).resolves.toBeDefined();
    expect(lines).toEqual([
      { level: 'info', event: 'authorizer.allowed', fields: { ...ids, userId: 'ivan' } },
      { level: 'error', event: 'authorizer.rejected', fields: { ...ids, reason: 'event has no methodArn' } },
      { level: 'info', event: 'authorizer.rejected', fields: { ...ids, reason: 'no token in querystring "token"' } },
      { level: 'info', event: 'authorizer.rejected', fields: { ...ids, reason: 'not a compact JWS (header.payload.signature)' } },
      { level: 'info', event: 'authorizer.allowed', fields: { connectionId: undefined, requestId: undefined, userId: 'alice' } },
    ]);
  });
});
