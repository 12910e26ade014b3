/**
 * The `$connect` REQUEST authorizer (spec §2.2), its configuration, key sources, the local dev tokens
 * and `npm run token`. Real parts only: the real AWS SDK Secrets Manager client talks to a local HTTP
 * server that answers the `secretsmanager.GetSecretValue` JSON protocol, and jose's remote JWKS fetches
 * from a local HTTP server serving a key generated here.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import { EXAMPLE_AUDIENCE, EXAMPLE_ISSUER, LOCAL_SECRET_DEFAULT, signDevToken } from '../../../local/dev-token';
import { readAuthorizerConfig, type AuthorizerConfig, type TokenSource } from '../../../lambda/gateway/auth/config';
import { createAuthorizer } from '../../../lambda/gateway/auth/create-authorizer';
import { jwksKeySource } from '../../../lambda/gateway/auth/jwks-key-source';
import { KeySourceError } from '../../../lambda/gateway/auth/key-source';
import { SECRET_CACHE_TTL_MS, secretKeySource } from '../../../lambda/gateway/auth/secret-key-source';
import { CLOCK_TOLERANCE_SECONDS, MAX_SUBJECT_LENGTH, MAX_TOKEN_LENGTH } from '../../../lambda/gateway/auth/verify-token';
import { AUDIENCE, enc, HEADER_SOURCE, ISSUER, METHOD_ARN, now, QUERY_SOURCE, SECRET, SECRET_ARN } from '../support/authorizer-fixtures';

// jose 6 ships only ES modules, which jest cannot require on Node 20. This loads the real jose, converted
// to CommonJS by esbuild (the same conversion the handler bundle gets); nothing of it is replaced.
jest.mock('jose', () => {
  const { buildSync } = jest.requireActual('esbuild');
  const dir = jest.requireActual('node:fs').mkdtempSync(jest.requireActual('node:path').join(jest.requireActual('node:os').tmpdir(), 'jose-cjs-'));
  const outfile = `${dir}/jose.cjs`;
  buildSync({ entryPoints: [require.resolve('jose')], bundle: true, format: 'cjs', platform: 'node', target: 'node20', outfile, logLevel: 'silent' });
  return jest.requireActual(outfile);
});

// ---------------------------------------------------------------- local stand-ins for AWS ----------

interface LocalServer {
  readonly url: string;
  readonly requests: Array<{ target?: string; body: string }>;
  close(): Promise<void>;
}

async function listen(handle: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<LocalServer> {
  const requests: LocalServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ target: req.headers['x-amz-target'] as string | undefined, body });
      handle(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Answers `secretsmanager.GetSecretValue` (AWS JSON 1.1) from `secrets`; `failWith` makes it answer that status. */
function secretsManagerServer(secrets: Map<string, string>, behaviour: { failWith?: number } = {}) {
  return listen((req, body, res) => {
    const json = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(payload));
    };
    if (behaviour.failWith) return json(behaviour.failWith, { __type: 'InternalServiceError', message: 'test failure' });
    if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
      return json(400, { __type: 'UnknownOperationException', message: String(req.headers['x-amz-target']) });
    }
    const { SecretId } = JSON.parse(body) as { SecretId: string };
    const secret = secrets.get(SecretId);
    if (secret === undefined) return json(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
    return json(200, { ARN: SecretId, Name: 'jwt', SecretString: secret, VersionId: 'v1', VersionStages: ['AWSCURRENT'], CreatedDate: 1 });
  });
}

function jwksServer(jwks: () => unknown, behaviour: { failWith?: number } = {}) {
  return listen((_req, _body, res) => {
    res.writeHead(behaviour.failWith ?? 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(jwks()));
  });
}

function secretsClient(endpoint: string) {
  return new SecretsManagerClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

// ---------------------------------------------------------------- fixtures -------------------------


/** A `$connect` REQUEST authorizer event as API Gateway sends it (spec §2.2). */
function connectEvent(parts: { query?: Record<string, string>; headers?: Record<string, string> } = {}) {
  return {
    type: 'REQUEST',
    methodArn: METHOD_ARN,
    headers: { Host: 'abcdef1234.execute-api.us-east-1.amazonaws.com', Upgrade: 'websocket', ...parts.headers },
    queryStringParameters: parts.query ?? {},
    requestContext: { routeKey: '$connect', eventType: 'CONNECT', connectionId: 'conn-1=', requestId: 'req-1', apiId: 'abcdef1234', stage: 'dev' },
  };
}
const withToken = (token: string) => connectEvent({ query: { token } });

function hsToken(claims: JWTPayload, options: { key?: string; alg?: string } = {}) {
  return new SignJWT({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: now() + 600, iat: now(), ...claims })
    .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' })
    .sign(enc(options.key ?? SECRET));
}

function config(tokenSource: TokenSource, keySource: AuthorizerConfig['keySource']): AuthorizerConfig {
  return { tokenSource, issuer: ISSUER, audience: AUDIENCE, keySource };
}

// ---------------------------------------------------------------- HS256 through Secrets Manager ----

describe('HS256 authorizer with the key in Secrets Manager (spec §2.2)', () => {
  let sm: LocalServer;
  let logLines: string[];
  const authorize = (tokenSource: TokenSource = QUERY_SOURCE) =>
    createAuthorizer({
      config: config(tokenSource, { kind: 'secret', secretArn: SECRET_ARN }),
      keys: secretKeySource({ secretArn: SECRET_ARN, client: secretsClient(sm.url) }),
      log: { info: (e, f) => logLines.push(JSON.stringify({ e, ...f })), error: (e, f) => logLines.push(JSON.stringify({ e, ...f })) },
    });

  beforeAll(async () => {
    sm = await secretsManagerServer(new Map([[SECRET_ARN, SECRET]]));
  });
  afterAll(() => sm.close());
  beforeEach(() => {
    logLines = [];
    sm.requests.length = 0;
  });

  test('GIVEN a valid token in ?token WHEN authorizing THEN Allow on exactly the methodArn, principalId = sub, context = userId + exp', async () => {
    const exp = now() + 900;
    const result = await authorize()(withToken(await hsToken({ sub: 'alice', exp })));
    expect(result).toEqual({
      principalId: 'alice',
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: METHOD_ARN }] },
      context: { userId: 'alice', tokenExpiresAt: exp },
    });
    expect(sm.requests.map((r) => r.target)).toEqual(['secretsmanager.GetSecretValue']);
    expect(JSON.parse(sm.requests[0].body)).toEqual({ SecretId: SECRET_ARN });
  });

  test('GIVEN a valid token and a bad-signature token WHEN authorizing THEN neither token appears in any log line', async () => {
    const good = await hsToken({});
    const forged = await hsToken({}, { key: 'another-key-of-sufficient-length-000000' });
    const authorizer = authorize();
    await authorizer(withToken(good));
    await expect(authorizer(withToken(forged))).rejects.toThrow(/^Unauthorized$/);
    expect(logLines.length).toBeGreaterThanOrEqual(2);
    for (const line of logLines) {
      for (const part of [...good.split('.'), ...forged.split('.')]) expect(line).not.toContain(part);
    }
    expect(logLines.join('\n')).toContain('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  // Every case below is a token fault: the only acceptable outcome is the controlled 'Unauthorized' (→ 401).
  const rejected: Array<[string, () => Promise<ReturnType<typeof connectEvent>>]> = [
    // API Gateway itself answers 401 without calling the authorizer when the identity source is absent
    // (spec §2.2); these cases are defence in depth for an authorizer configured without identity sources.
    ['missing (no query string at all, spec §4.1)', async () => ({ ...connectEvent(), queryStringParameters: undefined as never })],
    ['missing (other parameters only)', async () => connectEvent({ query: { room: 'lobby' } })],
    ['empty', async () => withToken('')],
    ['blank', async () => withToken('   ')],
    ['malformed (not three segments)', async () => withToken('not-a-jwt')],
    ['malformed (segments that are not JSON)', async () => withToken('aGVsbG8.d29ybGQ.c2ln')],
    ['malformed (characters outside base64url)', async () => withToken('eyJhbGciOiJIUzI1NiJ9.e30.a+b/c=')],
    ['bad signature (another key)', () => hsToken({}, { key: 'another-key-of-sufficient-length-000000' }).then(withToken)],
    ['bad signature (payload swapped after signing)', async () => {
      const [h, , s] = (await hsToken({ sub: 'alice' })).split('.');
      const payload = Buffer.from(JSON.stringify({ sub: 'mallory', iss: ISSUER, aud: AUDIENCE, exp: now() + 600 })).toString('base64url');
      return withToken(`${h}.${payload}.${s}`);
    }],
    ['alg: none (unsecured JWT)', async () => withToken(new UnsecuredJWT({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: now() + 600 }).encode())],
    ['alg: HS512 with the right key (algorithm not pinned)', () => hsToken({}, { alg: 'HS512' }).then(withToken)],
    [`expired (exp more than ${CLOCK_TOLERANCE_SECONDS}s ago)`, () => hsToken({ exp: now() - CLOCK_TOLERANCE_SECONDS - 60 }).then(withToken)],
    ['without exp (would never expire)', () => hsToken({ exp: undefined }).then(withToken)],
    [`not yet valid (nbf more than ${CLOCK_TOLERANCE_SECONDS}s ahead)`, () => hsToken({ nbf: now() + CLOCK_TOLERANCE_SECONDS + 60 }).then(withToken)],
    ['wrong issuer', () => hsToken({ iss: 'https://evil.test/' }).then(withToken)],
    ['no issuer', () => hsToken({ iss: undefined }).then(withToken)],
    ['wrong audience', () => hsToken({ aud: 'another-app' }).then(withToken)],
    ['no sub', () => hsToken({ sub: undefined }).then(withToken)],
    ['empty sub', () => hsToken({ sub: '' }).then(withToken)],
    [`sub longer than ${MAX_SUBJECT_LENGTH} characters`, () => hsToken({ sub: 'a'.repeat(MAX_SUBJECT_LENGTH + 1) }).then(withToken)],
    ['sub that is not a string', () => hsToken({ sub: 42 as unknown as string }).then(withToken)],
  ];
  test.each(rejected)('GIVEN a token that is %s WHEN authorizing THEN Unauthorized (401)', async (_name, makeEvent) => {
    await expect(authorize()(await makeEvent())).rejects.toThrow(/^Unauthorized$/);
  });

  test(`GIVEN a correctly signed token longer than ${MAX_TOKEN_LENGTH} characters WHEN authorizing THEN Unauthorized before any key lookup`, async () => {
    const huge = await hsToken({ padding: 'x'.repeat(MAX_TOKEN_LENGTH) });
    expect(huge.length).toBeGreaterThan(MAX_TOKEN_LENGTH);
    await expect(authorize()(withToken(huge))).rejects.toThrow(/^Unauthorized$/);
    expect(sm.requests).toHaveLength(0);
  });

  test(`GIVEN a token expired less than the ${CLOCK_TOLERANCE_SECONDS}s clock tolerance ago WHEN authorizing THEN Allow`, async () => {
    const token = await hsToken({ exp: now() - Math.floor(CLOCK_TOLERANCE_SECONDS / 2) });
    await expect(authorize()(withToken(token))).resolves.toMatchObject({ principalId: 'alice' });
  });

  test('GIVEN an RS256 token WHEN the authorizer expects HS256 THEN Unauthorized (algorithm pinned)', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: now() + 600 }).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
    await expect(authorize()(withToken(token))).rejects.toThrow(/^Unauthorized$/);
  });

  test('GIVEN TOKEN_SOURCE header:Authorization WHEN the header carries "Bearer <token>" or the bare token, in any case THEN Allow', async () => {
    const token = await hsToken({ sub: 'bob' });
    const authorizer = authorize(HEADER_SOURCE);
    for (const headers of <Array<Record<string, string>>>[{ Authorization: `Bearer ${token}` }, { authorization: `bearer ${token}` }, { AUTHORIZATION: token }]) {
      await expect(authorizer(connectEvent({ headers }))).resolves.toMatchObject({ principalId: 'bob', context: { userId: 'bob' } });
    }
  });

  test('GIVEN TOKEN_SOURCE header:Authorization WHEN the header is absent, "Bearer" alone, or the token is in the query string THEN Unauthorized', async () => {
    const authorizer = authorize(HEADER_SOURCE);
    const token = await hsToken({});
    for (const event of [connectEvent(), connectEvent({ headers: { Authorization: 'Bearer ' } }), withToken(token)]) {
      await expect(authorizer(event)).rejects.toThrow(/^Unauthorized$/);
    }
  });

  test('GIVEN events that are not authorizer events at all WHEN authorizing THEN Unauthorized, never a crash', async () => {
    const token = await hsToken({});
    const authorizer = authorize();
    for (const event of [null, undefined, 'text', 42, [], {}, { ...withToken(token), methodArn: undefined }, { queryStringParameters: 'x', methodArn: METHOD_ARN }]) {
      await expect(authorizer(event as never)).rejects.toThrow(/^Unauthorized$/);
    }
  });

  test('GIVEN arbitrary strings as the token WHEN authorizing THEN always Unauthorized (property)', async () => {
    const authorizer = authorize();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.stringMatching(/^[A-Za-z0-9_-]{0,40}\.[A-Za-z0-9_-]{0,40}\.[A-Za-z0-9_-]{0,40}$/)),
        async (token) => {
          await expect(authorizer(withToken(token))).rejects.toThrow(/^Unauthorized$/);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('GIVEN a token from signDevToken WHEN the authorizer uses the example issuer, audience and the local secret THEN Allow', async () => {
    const local = await secretsManagerServer(new Map([[SECRET_ARN, LOCAL_SECRET_DEFAULT]]));
    try {
      const authorizer = createAuthorizer({
        config: { tokenSource: QUERY_SOURCE, issuer: EXAMPLE_ISSUER, audience: EXAMPLE_AUDIENCE, keySource: { kind: 'secret', secretArn: SECRET_ARN } },
        keys: secretKeySource({ secretArn: SECRET_ARN, client: secretsClient(local.url) }),
        log: { info: () => undefined, error: () => undefined },
      });
      const token = await signDevToken({ user: 'carol' });
      await expect(authorizer(withToken(token))).resolves.toMatchObject({ principalId: 'carol', context: { userId: 'carol' } });
      const other = await signDevToken({ user: 'carol', secret: 'not-the-local-secret' });
      await expect(authorizer(withToken(other))).rejects.toThrow(/^Unauthorized$/);
    } finally {
      await local.close();
    }
  });
});

// ---------------------------------------------------------------- key source faults ----------------

describe('key sources: caching, and failures that are not the token’s fault (→ 500, spec §2.2)', () => {
  test('GIVEN a cached secret WHEN resolved again within the TTL THEN one GetSecretValue; after the TTL THEN a second one', async () => {
    const sm = await secretsManagerServer(new Map([[SECRET_ARN, SECRET]]));
    try {
      let clock = 1_000_000;
      const keys = secretKeySource({ secretArn: SECRET_ARN, client: secretsClient(sm.url), now: () => clock });
      await Promise.all([keys.resolve(), keys.resolve()]);
      clock += SECRET_CACHE_TTL_MS - 1;
      await expect(keys.resolve()).resolves.toEqual(enc(SECRET));
      expect(sm.requests).toHaveLength(1);
      clock += 1;
      await keys.resolve();
      expect(sm.requests).toHaveLength(2);
    } finally {
      await sm.close();
    }
  });

  test('GIVEN Secrets Manager failing or unreachable WHEN authorizing a valid token THEN a KeySourceError (not Unauthorized), logged without the token, and not cached', async () => {
    const failing = await secretsManagerServer(new Map(), { failWith: 500 });
    const missing = await secretsManagerServer(new Map());
    const unreachable = await secretsManagerServer(new Map());
    await unreachable.close();
    try {
      const token = await hsToken({});
      for (const [server, cause] of [[failing, /InternalServiceError/], [missing, /ResourceNotFoundException/], [unreachable, /GetSecretValue failed/]] as const) {
        const lines: string[] = [];
        const authorizer = createAuthorizer({
          config: config(QUERY_SOURCE, { kind: 'secret', secretArn: SECRET_ARN }),
          keys: secretKeySource({ secretArn: SECRET_ARN, client: secretsClient(server.url) }),
          log: { info: (e, f) => lines.push(JSON.stringify({ e, ...f })), error: (e, f) => lines.push(JSON.stringify({ e, ...f })) },
        });
        await expect(authorizer(withToken(token))).rejects.toThrow(KeySourceError);
        await expect(authorizer(withToken(token))).rejects.toThrow(cause);
        expect(lines.join('\n')).toContain('authorizer.failed');
        expect(lines.join('\n')).not.toContain(token.split('.')[2]);
      }
      expect(failing.requests).toHaveLength(2);
    } finally {
      await Promise.all([failing.close(), missing.close()]);
    }
  });

  test('GIVEN a secret without SecretString WHEN resolving THEN a KeySourceError that says so', async () => {
    const sm = await secretsManagerServer(new Map([[SECRET_ARN, '']]));
    try {
      await expect(secretKeySource({ secretArn: SECRET_ARN, client: secretsClient(sm.url) }).resolve()).rejects.toThrow(/no SecretString/);
    } finally {
      await sm.close();
    }
  });
});

// ---------------------------------------------------------------- JWKS -----------------------------

describe('RS256/ES256 authorizer with an OIDC JWKS (spec §2.2)', () => {
  let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
  let ec: Awaited<ReturnType<typeof generateKeyPair>>;
  let jwks: LocalServer;
  const authorize = (url = `${jwks.url}/.well-known/jwks.json`) =>
    createAuthorizer({
      config: config(QUERY_SOURCE, { kind: 'jwks', url: new URL(url) }),
      keys: jwksKeySource(new URL(url)),
      log: { info: () => undefined, error: () => undefined },
    });
  const signWith = (key: Parameters<SignJWT['sign']>[0], alg: string, kid: string, claims: JWTPayload = {}) =>
    new SignJWT({ sub: 'dave', iss: ISSUER, aud: AUDIENCE, exp: now() + 600, ...claims }).setProtectedHeader({ alg, kid }).sign(key);

  beforeAll(async () => {
    rsa = await generateKeyPair('RS256', { extractable: true });
    ec = await generateKeyPair('ES256', { extractable: true });
    const keys = [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
    ];
    jwks = await jwksServer(() => ({ keys }));
  });
  afterAll(() => jwks.close());

  test('GIVEN RS256 and ES256 tokens signed by keys of the JWKS WHEN authorizing THEN Allow with principalId = sub', async () => {
    const authorizer = authorize();
    for (const token of [await signWith(rsa.privateKey, 'RS256', 'rsa-1'), await signWith(ec.privateKey, 'ES256', 'ec-1')]) {
      await expect(authorizer(withToken(token))).resolves.toMatchObject({
        principalId: 'dave',
        policyDocument: { Statement: [{ Effect: 'Allow', Resource: METHOD_ARN, Action: 'execute-api:Invoke' }] },
      });
    }
  });

  test('GIVEN an HS256 token keyed with the RSA public key (algorithm confusion) WHEN authorizing THEN Unauthorized', async () => {
    const authorizer = authorize();
    const pem = await exportSPKI(rsa.publicKey);
    const jwk = JSON.stringify(await exportJWK(rsa.publicKey));
    for (const hmacKey of [pem, jwk]) {
      const token = await new SignJWT({ sub: 'mallory', iss: ISSUER, aud: AUDIENCE, exp: now() + 600 })
        .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
        .sign(enc(hmacKey));
      await expect(authorizer(withToken(token))).rejects.toThrow(/^Unauthorized$/);
    }
  });

  test('GIVEN tokens with an unknown kid, a key not in the JWKS, alg none, or expired WHEN authorizing THEN Unauthorized', async () => {
    const authorizer = authorize();
    const stranger = await generateKeyPair('RS256');
    const tokens = [
      await signWith(rsa.privateKey, 'RS256', 'no-such-kid'),
      await signWith(stranger.privateKey, 'RS256', 'rsa-1'),
      new UnsecuredJWT({ sub: 'dave', iss: ISSUER, aud: AUDIENCE, exp: now() + 600 }).encode(),
      await signWith(rsa.privateKey, 'RS256', 'rsa-1', { exp: now() - CLOCK_TOLERANCE_SECONDS - 60 }),
    ];
    for (const token of tokens) await expect(authorizer(withToken(token))).rejects.toThrow(/^Unauthorized$/);
  });

  test('GIVEN a JWKS endpoint answering 500 WHEN authorizing THEN a KeySourceError (→ 500), not Unauthorized', async () => {
    const broken = await jwksServer(() => ({ message: 'down' }), { failWith: 500 });
    try {
      const token = await signWith(rsa.privateKey, 'RS256', 'rsa-1');
      await expect(authorize(`${broken.url}/jwks`)(withToken(token))).rejects.toThrow(KeySourceError);
    } finally {
      await broken.close();
    }
  });
});

// ---------------------------------------------------------------- configuration ----------------------

describe('configuration from the environment (CONTRIBUTING.md)', () => {
  const base = { JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE };

  test('GIVEN only the required variables and a secret WHEN read THEN the token comes from ?token', () => {
    expect(readAuthorizerConfig({ ...base, JWT_SECRET_ARN: SECRET_ARN })).toEqual({
      tokenSource: { location: 'querystring', name: 'token' },
      issuer: ISSUER,
      audience: AUDIENCE,
      keySource: { kind: 'secret', secretArn: SECRET_ARN },
    });
    expect(readAuthorizerConfig({ ...base, JWKS_URL: 'https://idp.test/jwks', TOKEN_SOURCE: 'header:X-Token' })).toMatchObject({
      tokenSource: { location: 'header', name: 'X-Token' },
      keySource: { kind: 'jwks' },
    });
  });

  test.each<[string, NodeJS.ProcessEnv, RegExp]>([
    ['no key source', { ...base }, /neither is set/],
    ['both key sources', { ...base, JWT_SECRET_ARN: SECRET_ARN, JWKS_URL: 'https://idp.test/jwks' }, /exactly one of JWKS_URL .* not both/],
    ['no JWT_ISSUER', { JWT_AUDIENCE: AUDIENCE, JWT_SECRET_ARN: SECRET_ARN }, /JWT_ISSUER is required/],
    ['a blank JWT_AUDIENCE', { JWT_ISSUER: ISSUER, JWT_AUDIENCE: ' ', JWT_SECRET_ARN: SECRET_ARN }, /JWT_AUDIENCE is required/],
    ['TOKEN_SOURCE cookie:token', { ...base, JWT_SECRET_ARN: SECRET_ARN, TOKEN_SOURCE: 'cookie:token' }, /TOKEN_SOURCE must be "querystring:<name>" or "header:<name>"/],
    ['TOKEN_SOURCE header: without a name', { ...base, JWT_SECRET_ARN: SECRET_ARN, TOKEN_SOURCE: 'header:' }, /TOKEN_SOURCE must be/],
    ['a relative JWKS_URL', { ...base, JWKS_URL: 'idp.test/jwks' }, /JWKS_URL must be an absolute URL/],
    ['a plain-http JWKS_URL off loopback', { ...base, JWKS_URL: 'http://idp.test/jwks' }, /JWKS_URL must use https/],
  ])('GIVEN %s WHEN read THEN a configuration error naming the variable', (_name, env, message) => {
    expect(() => readAuthorizerConfig(env)).toThrow(message);
  });
});

// ---------------------------------------------------------------- the handler module ------------------

describe('lambda/gateway/handlers/authorizer (the real module, configured by environment)', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });
  const loadHandler = () => {
    let mod!: typeof import('../../../lambda/gateway/handlers/authorizer');
    jest.isolateModules(() => {
      mod = require('../../../lambda/gateway/handlers/authorizer');
    });
    return mod.handler;
  };

  test('GIVEN JWT_SECRET_ARN and the SDK endpoint from AWS_ENDPOINT_URL_SECRETS_MANAGER WHEN two connects arrive THEN both Allow with one GetSecretValue (module-scope cache)', async () => {
    const sm = await secretsManagerServer(new Map([[SECRET_ARN, LOCAL_SECRET_DEFAULT]]));
    try {
      Object.assign(process.env, {
        JWT_SECRET_ARN: SECRET_ARN,
        JWT_ISSUER: EXAMPLE_ISSUER,
        JWT_AUDIENCE: EXAMPLE_AUDIENCE,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.url,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
        AWS_SECRET_ACCESS_KEY: 'local',
      });
      delete process.env.JWKS_URL;
      delete process.env.TOKEN_SOURCE;
      const handler = loadHandler();
      for (const user of ['erin', 'frank']) {
        await expect(handler(withToken(await signDevToken({ user })))).resolves.toMatchObject({ principalId: user });
      }
      await expect(handler(withToken('garbage'))).rejects.toThrow(/^Unauthorized$/);
      expect(sm.requests).toHaveLength(1);
    } finally {
      await sm.close();
    }
  });

  test('GIVEN the handler bundled as build-handlers does (esbuild, CJS, minified) and JWKS_URL WHEN connects arrive THEN the bundle allows a valid ES256 token, refuses a forged one, and fetches the JWKS once', async () => {
    const { build } = jest.requireActual('esbuild') as typeof import('esbuild');
    const outfile = join(mkdtempSync(join(tmpdir(), 'wsgate-authorizer-')), 'index.js');
    const result = await build({
      entryPoints: [join(__dirname, '..', '..', '..', 'lambda', 'gateway', 'handlers', 'authorizer.ts')],
      outfile, bundle: true, minify: true, platform: 'node', target: 'node22', format: 'cjs',
      mainFields: ['module', 'main'], legalComments: 'none', logLevel: 'silent',
    });
    expect(result.warnings).toEqual([]);
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    const jwks = await jwksServer(() => ({ keys: [jwk] }));
    try {
      Object.assign(process.env, { JWKS_URL: `${jwks.url}/jwks.json`, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, TOKEN_SOURCE: 'header:Authorization' });
      delete process.env.JWT_SECRET_ARN;
      let bundled!: typeof import('../../../lambda/gateway/handlers/authorizer');
      jest.isolateModules(() => {
        bundled = require(outfile);
      });
      const claims = { sub: 'heidi', iss: ISSUER, aud: AUDIENCE, exp: now() + 600 };
      const valid = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(privateKey);
      const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign((await generateKeyPair('ES256')).privateKey);
      await expect(bundled.handler(connectEvent({ headers: { Authorization: `Bearer ${valid}` } }))).resolves.toMatchObject({
        principalId: 'heidi',
        policyDocument: { Statement: [{ Effect: 'Allow', Resource: METHOD_ARN }] },
      });
      await expect(bundled.handler(connectEvent({ headers: { Authorization: `Bearer ${forged}` } }))).rejects.toThrow(/^Unauthorized$/);
      expect(jwks.requests).toHaveLength(1);
    } finally {
      await jwks.close();
    }
  });

  test('GIVEN neither JWKS_URL nor JWT_SECRET_ARN WHEN invoked THEN every invocation fails naming both variables', async () => {
    Object.assign(process.env, { JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE });
    delete process.env.JWKS_URL;
    delete process.env.JWT_SECRET_ARN;
    const handler = loadHandler();
    await expect(handler(withToken('x.y.z'))).rejects.toThrow(/JWKS_URL .* JWT_SECRET_ARN/);
    await expect(handler(withToken('x.y.z'))).rejects.toThrow(/neither is set/);
  });
});

// ---------------------------------------------------------------- npm run token ---------------------

describe('npm run token (spawned end to end)', () => {
  const root = join(__dirname, '..', '..', '..');
  interface Run { status: number | null; stdout: string; stderr: string }
  const runToken = (args: readonly string[]) =>
    new Promise<Run>((resolve) => {
      execFile('npm', ['run', '-s', 'token', '--', ...args], { cwd: root, encoding: 'utf8' }, (err, stdout, stderr) =>
        resolve({ status: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });
  const badArgs: Array<[string, string[], RegExp]> = [
    ['no user', [], /missing <user>/],
    ['two users', ['alice', 'bob'], /expected one <user>/],
    ['a --ttl that is not a number', ['alice', '--ttl', 'soon'], /--ttl must be a positive whole number/],
    ['a zero --ttl', ['alice', '--ttl', '0'], /--ttl must be a positive whole number/],
    ['an unknown flag', ['alice', '--bogus'], /bogus/],
    ['--issuer without a value', ['alice', '--issuer'], /issuer/],
  ];
  const goodArgs = ['grace', '--issuer', ISSUER, '--audience', AUDIENCE, '--secret', SECRET, '--ttl', '120'];
  // Each spawn costs ~1-2 s (npm + ts-node), so the runs happen here, two at a time, and the tests read the
  // results. (All eight at once, beside the other jest workers, once ended one of them with a signal in CI.)
  let runs: Map<string, Run>;
  beforeAll(async () => {
    const all: Array<[string, readonly string[]]> = [['good', goodArgs], ['help', ['--help']], ...badArgs.map(([name, args]) => [name, args] as [string, string[]])];
    runs = new Map();
    for (let i = 0; i < all.length; i += 2) {
      const batch = all.slice(i, i + 2);
      for (const [name, run] of await Promise.all(batch.map(async ([name, args]) => [name, await runToken(args)] as const))) {
        runs.set(name, run);
      }
    }
  }, 120_000);

  test('GIVEN a user and flags WHEN run THEN stdout is only a token the authorizer accepts with those values', async () => {
    const out = runs.get('good')!;
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/);
    const token = out.stdout.trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
    expect(claims.exp - claims.iat).toBe(120);
    const sm = await secretsManagerServer(new Map([[SECRET_ARN, SECRET]]));
    try {
      const authorizer = createAuthorizer({
        config: config(QUERY_SOURCE, { kind: 'secret', secretArn: SECRET_ARN }),
        keys: secretKeySource({ secretArn: SECRET_ARN, client: secretsClient(sm.url) }),
        log: { info: () => undefined, error: () => undefined },
      });
      await expect(authorizer(withToken(token))).resolves.toMatchObject({ principalId: 'grace' });
    } finally {
      await sm.close();
    }
  });

  test('GIVEN --help WHEN run THEN usage on stdout and exit 0', () => {
    const out = runs.get('help')!;
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/Usage: npm run -s token -- <user>/);
  });

  test.each(badArgs)('GIVEN %s WHEN run THEN a message on stderr, nothing on stdout, exit 2', (name, _args, message) => {
    const out = runs.get(name)!;
    expect(out.status).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(message);
  });
});
