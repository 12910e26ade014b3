/**
 * The emulator's Lambda runtime (local/runtime) and local AWS services (local/services), with real child
 * processes, a real dynalite, a real TLS server holding the emulator's certificate and real AWS SDK v3 clients.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { FunctionModel, FunctionInvoker, TableModel } from '../../local/model';
import { createInvoker } from '../../local/runtime/invoker';
import { LAMBDA_MAX_HTTP_HEADER_SIZE, LOCAL_MAX_SEMI_SPACE_MB, NODE_FUNCTION_FLAGS } from '../../local/runtime/node-flags';
import { createTables, LocalDynamo, localDynamoClient, startLocalDynamo } from '../../local/services/local-dynamo';
import { SecretsService, startSecretsService } from '../../local/services/secrets-service';
import { createCertificate, LocalCertificate } from '../../local/services/certificate';
import { hasDynamoDbLocal, launchDynamoDbLocal, requireDynamoDbLocal } from './support/dynamodb-local';


/**
 * The fixtures are copied outside the repository, so that `require('@aws-sdk/...')` cannot find the repo's
 * node_modules by walking up: only the NODE_PATH the invoker gives (as Lambda's runtime does) can satisfy it.
 */
const FIXTURES = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-fixtures-'));
fs.cpSync(path.join(__dirname, 'fixtures'), FIXTURES, { recursive: true });
const REGION = 'us-east-1';
const API_ID = 'a1b2c3d4e5';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:JwtSecret-AbC123';

function fn(id: string, handler: string, extra: Partial<FunctionModel> = {}): FunctionModel {
  return {
    id: `Fixture/${id}`, stackName: 'Fixture', logicalId: id, functionName: `Fixture-${id}-ABCDEF123456`,
    handler, runtime: 'nodejs22.x', codeDir: path.join(FIXTURES, 'handlers'),
    environment: {}, timeoutSeconds: 10, memorySize: 256, ...extra,
  };
}

const TABLE: TableModel = {
  stackName: 'Fixture', logicalId: 'Connections', tableName: 'Fixture-Connections-0123456789AB', ttlAttribute: 'expiresAt',
  createTableInput: {
    TableName: 'Fixture-Connections-0123456789AB',
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'room', AttributeType: 'S' }, { AttributeName: 'connectionId', AttributeType: 'S' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
    GlobalSecondaryIndexes: [{
      IndexName: 'byRoom',
      KeySchema: [{ AttributeName: 'room', KeyType: 'HASH' }, { AttributeName: 'connectionId', KeyType: 'RANGE' }],
      Projection: { ProjectionType: 'KEYS_ONLY' },
    }],
  },
};

const FUNCTIONS = [
  fn('Cjs', 'cjs.handler', { environment: { OWN_SETTING: 'cjs-only' } }),
  fn('Nested', 'cjs.nested.deeper'),
  fn('Fails', 'cjs.fails'),
  fn('Slow', 'cjs.slow'),
  fn('Pooled', 'cjs.slow'),
  fn('Exits', 'cjs.exits'),
  fn('RejectsLater', 'cjs.rejectsLater'),
  fn('Forever', 'cjs.forever', { timeoutSeconds: 1 }),
  fn('SlowInit', 'slow-init.handler', { timeoutSeconds: 1 }),
  fn('Callback', 'callback.handler', { environment: { OWN_SETTING: 'callback-only' } }),
  fn('Mjs', 'module.main'),
  fn('EsmPackage', 'index.handler', { codeDir: path.join(FIXTURES, 'esm-package') }),
  fn('Missing', 'nowhere.handler'),
  fn('NotExported', 'cjs.absent'),
  fn('Java', 'app.handler', { runtime: 'java21' }),
  fn('Put', 'aws-services.putAndGet', { environment: { TABLE_NAME: TABLE.tableName } }),
  fn('Secret', 'aws-services.readSecret'),
  fn('Post', 'aws-services.post'),
  fn('SdkEsm', 'sdk-esm.handler'),
  fn('Flags', 'cjs.runtimeFlags'),
];

/** Stands in for the gateway: a TLS server with the emulator's certificate that records @connections calls. */
async function startFakeGateway(cert: LocalCertificate) {
  const calls: Array<{ method: string; url: string; host: string; body: string }> = [];
  const server = https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      calls.push({ method: req.method!, url: req.url!, host: String(req.headers.host), body: Buffer.concat(chunks).toString() });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { calls, port: (server.address() as net.AddressInfo).port, close: () => new Promise((r) => server.close(r)) };
}

/** Resolves true once `line` is among the function logs; false after a bounded wait (15 s). */
async function logLine(line: string): Promise<boolean> {
  const deadline = Date.now() + 15_000;
  while (!logs.includes(line)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

let dynamo: LocalDynamo;
let secrets: SecretsService;
let cert: LocalCertificate;
let gateway: Awaited<ReturnType<typeof startFakeGateway>>;
let invoker: FunctionInvoker;
const logs: string[] = [];

beforeAll(async () => {
  process.env.WSGATE_TEST_EMULATOR_ONLY = 'must not leak into functions';
  dynamo = await startLocalDynamo();
  await createTables(dynamo.endpoint, [TABLE]);
  secrets = await startSecretsService({ secrets: { 'Fixture/JwtSecret': SECRET_ARN }, secretValue: 'test-local-key' });
  cert = await createCertificate([`*.execute-api.${REGION}.amazonaws.com`]);
  gateway = await startFakeGateway(cert);
  invoker = createInvoker({
    functions: Object.fromEntries(FUNCTIONS.map((f) => [f.id, f])),
    region: REGION,
    dynamodb: dynamo.endpoint,
    secretsManager: secrets.endpoint,
    gatewayHosts: [`*.execute-api.${REGION}.amazonaws.com`],
    gatewayPort: gateway.port,
    caFile: cert.certFile,
    maxInstancesPerFunction: 2,
    log: (id, _stream, line) => logs.push(`${id}: ${line}`),
  });
});

afterAll(async () => {
  delete process.env.WSGATE_TEST_EMULATOR_ONLY;
  await invoker?.close();
  await gateway?.close();
  await secrets?.close();
  await dynamo?.close();
  fs.rmSync(FIXTURES, { recursive: true, force: true });
});

describe('createInvoker: handler styles (Node.js Lambda runtime)', () => {
  test('GIVEN a CommonJS async handler WHEN invoked THEN it gets the event and a Lambda-like context', async () => {
    const out = await invoker.invoke('Fixture/Cjs', { hello: 'world' });
    const result = out.result as any;
    expect(out.error).toBeUndefined();
    expect(result.event).toEqual({ hello: 'world' });
    expect(result.functionName).toBe('Fixture-Cjs-ABCDEF123456');
    expect(result.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.remainingMs).toBeGreaterThan(0);
    expect(result.remainingMs).toBeLessThanOrEqual(10_000);
    // The function's stdout line travels on its own pipe and can arrive after the result under CPU load: wait for it.
    await expect(logLine(`Fixture/Cjs: cjs handler ran ${result.invocations}`)).resolves.toBe(true);
  });

  test('GIVEN a nested export path WHEN invoked THEN file.a.b resolves as the runtime does', async () => {
    expect((await invoker.invoke('Fixture/Nested', {})).result).toBe('nested export');
  });

  test('GIVEN an ESM handler (.mjs, and .js under "type": "module") WHEN invoked THEN it is loaded with import()', async () => {
    expect((await invoker.invoke('Fixture/Mjs', { n: 1 })).result).toEqual({ esm: true, file: 'module.mjs', echo: { n: 1 } });
    expect((await invoker.invoke('Fixture/EsmPackage', {})).result).toEqual({ esm: true });
  });

  test('GIVEN a callback-style handler WHEN it calls back with a value or an error THEN that is the outcome', async () => {
    expect((await invoker.invoke('Fixture/Callback', {})).result).toEqual({ calledBack: true, functionName: 'Fixture-Callback-ABCDEF123456' });
    expect((await invoker.invoke('Fixture/Callback', { fail: 'x' })).error).toEqual({ errorType: 'Error', errorMessage: 'callback error for x' });
  });

  test('GIVEN a handler that throws WHEN invoked THEN the outcome is an error with its name and message', async () => {
    const out = await invoker.invoke('Fixture/Fails', {});
    expect(out.error).toEqual({ errorType: 'FixtureError', errorMessage: 'the fixture refuses' });
    expect(out.result).toBeUndefined();
  });

  test('GIVEN bad handler strings, an unknown id or a Java runtime WHEN invoked THEN a clear error names the problem', async () => {
    expect((await invoker.invoke('Fixture/Missing', {})).error).toEqual(expect.objectContaining({ errorType: 'Runtime.ImportModuleError', errorMessage: expect.stringMatching(/nowhere/) }));
    expect((await invoker.invoke('Fixture/NotExported', {})).error).toEqual(expect.objectContaining({ errorType: 'Runtime.HandlerNotFound', errorMessage: expect.stringMatching(/cjs\.absent/) }));
    expect((await invoker.invoke('Fixture/Nope', {})).error?.errorMessage).toMatch(/Function not found: Fixture\/Nope/);
    expect((await invoker.invoke('Fixture/Java', {})).error?.errorMessage).toMatch(/java21 is not supported/);
  });

  test('GIVEN invalid invoker options WHEN created THEN it throws naming the option', () => {
    expect(() => createInvoker({ functions: {}, maxInstancesPerFunction: 0 })).toThrow(/maxInstancesPerFunction/);
    expect(() => createInvoker(undefined as any)).toThrow(/options\.functions/);
    expect(() => createInvoker({ functions: {}, initTimeoutMs: 0 })).toThrow(/initTimeoutMs/);
  });
});

describe('createInvoker: the Node.js process of a function (local/runtime/node-flags.ts)', () => {
  test('GIVEN a Node.js function WHEN invoked THEN it has Lambda\'s gc() and header limit, and a young generation of at most two 8 MB semi-spaces after an allocation burst', async () => {
    const { result } = await invoker.invoke('Fixture/Flags', {});
    expect(result).toEqual({
      execArgv: expect.arrayContaining([...NODE_FUNCTION_FLAGS]),
      gc: 'function',
      maxHeaderSize: LAMBDA_MAX_HTTP_HEADER_SIZE,
      youngGenerationMb: expect.any(Number),
    });
    // The burst grows it past one semi-space, so the flag is what stops it: Node.js's default lets the same burst grow
    // it to 32 MB (two 16 MB semi-spaces).
    const { youngGenerationMb } = result as { youngGenerationMb: number };
    expect(youngGenerationMb).toBeGreaterThan(LOCAL_MAX_SEMI_SPACE_MB);
    expect(youngGenerationMb).toBeLessThanOrEqual(2 * LOCAL_MAX_SEMI_SPACE_MB);
  });
});

describe('createInvoker: environment isolation', () => {
  test('GIVEN two functions WHEN each reads process.env THEN it sees its own variables, the Lambda ones, and nothing of the emulator', async () => {
    const cjsEnv = (await invoker.invoke('Fixture/Cjs', {})).result as any;
    const env = cjsEnv.env as Record<string, string>;
    expect(env).toEqual(expect.objectContaining({
      OWN_SETTING: 'cjs-only', AWS_REGION: REGION, AWS_DEFAULT_REGION: REGION,
      AWS_LAMBDA_FUNCTION_NAME: 'Fixture-Cjs-ABCDEF123456', AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', _HANDLER: 'cjs.handler', AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint, NODE_EXTRA_CA_CERTS: cert.certFile,
      AWS_ACCESS_KEY_ID: expect.any(String), AWS_SECRET_ACCESS_KEY: expect.any(String),
    }));
    expect(env.WSGATE_TEST_EMULATOR_ONLY).toBeUndefined();
    expect(process.env.WSGATE_TEST_EMULATOR_ONLY).toBeDefined();
    for (const key of Object.keys(process.env).filter((k) => k.startsWith('JEST') || k === 'HOME' || k === 'npm_lifecycle_event')) {
      expect(env[key]).toBeUndefined();
    }
    const otherPid = ((await invoker.invoke('Fixture/Slow', { ms: 1 })).result as any).pid;
    expect(otherPid).not.toBe(cjsEnv.pid);
  });
});

describe('createInvoker: instances (warm reuse, pool, timeout, crash)', () => {
  test('GIVEN a warm instance WHEN invoked again THEN module scope survived in the same process', async () => {
    const first = (await invoker.invoke('Fixture/Cjs', {})).result as any;
    const second = (await invoker.invoke('Fixture/Cjs', {})).result as any;
    expect(second.pid).toBe(first.pid);
    expect(second.invocations).toBe(first.invocations + 1);
  });

  test('GIVEN a pool of 2 WHEN 5 invocations overlap THEN all succeed on at most 2 processes (the rest queued)', async () => {
    const outcomes = await Promise.all([1, 2, 3, 4, 5].map(() => invoker.invoke('Fixture/Pooled', { ms: 150 })));
    expect(outcomes.every((o) => (o.result as any)?.waited === 150)).toBe(true);
    const pids = new Set(outcomes.map((o) => (o.result as any).pid));
    expect(pids.size).toBeGreaterThanOrEqual(1);
    expect(pids.size).toBeLessThanOrEqual(2);
  });

  test('GIVEN invocations queued behind a busy pool WHEN the invoker closes THEN each gets an error outcome instead of hanging', async () => {
    const own = createInvoker({ functions: { [FUNCTIONS[3].id]: FUNCTIONS[3] }, maxInstancesPerFunction: 1, log: () => undefined });
    await own.invoke(FUNCTIONS[3].id, { ms: 1 }); // a warm instance, so the next invocation is running, not waiting for init
    const running = own.invoke(FUNCTIONS[3].id, { ms: 5000 });
    const queued = own.invoke(FUNCTIONS[3].id, { ms: 1 });
    await own.close();
    expect((await running).error?.errorType).toBe('Runtime.ExitError');
    expect((await queued).error?.errorType).toBe('Emulator.InvokerClosed');
    expect((await own.invoke(FUNCTIONS[3].id, {})).error?.errorMessage).toMatch(/the invoker was closed/);
  });

  test('GIVEN a 1 s timeout WHEN the handler never finishes THEN the outcome is timedOut and the next call gets a fresh instance', async () => {
    const out = await invoker.invoke('Fixture/Forever', {});
    expect(out.timedOut).toBe(true);
    expect(out.result).toBeUndefined();
    expect(out.error).toBeUndefined();
    expect((await invoker.invoke('Fixture/Forever', {})).timedOut).toBe(true);
  });

  test('GIVEN a module whose init takes longer than its 1 s timeout but less than the init limit WHEN first invoked THEN it succeeds (init has its own budget)', async () => {
    // WHEN
    const first = await invoker.invoke('Fixture/SlowInit', { n: 1 });
    // THEN the whole init wait passed in module scope, and the handler still got its full timeout
    expect(first.error).toBeUndefined();
    expect(first.timedOut).toBeUndefined();
    const result = first.result as any;
    expect(result).toEqual(expect.objectContaining({ initWait: 'timed-out', invocations: 1, echo: { n: 1 } }));
    expect(result.remainingMs).toBeGreaterThan(0);
    const second = (await invoker.invoke('Fixture/SlowInit', { n: 2 })).result as any;
    expect(second).toEqual(expect.objectContaining({ invocations: 2, pid: result.pid }));
  });

  test('GIVEN an init phase longer than the invoker\'s init limit WHEN invoked THEN Sandbox.Timedout and the next call gets a fresh instance', async () => {
    // GIVEN a 1.5 s module init and a 300 ms init limit
    const slowInit = FUNCTIONS.find((f) => f.id === 'Fixture/SlowInit')!;
    const own = createInvoker({ functions: { [slowInit.id]: slowInit }, initTimeoutMs: 300, maxInstancesPerFunction: 1, log: () => undefined });
    try {
      // WHEN
      const outcomes = [await own.invoke(slowInit.id, {}), await own.invoke(slowInit.id, {})];
      // THEN
      for (const out of outcomes) {
        expect(out.error).toEqual({ errorType: 'Sandbox.Timedout', errorMessage: expect.stringMatching(/INIT phase timed out after 0\.3 seconds/) });
        expect(out.result).toBeUndefined();
      }
    } finally {
      await own.close();
    }
  });

  test('GIVEN a handler that exits its process WHEN invoked THEN the outcome is Runtime.ExitError and a new instance serves the next call', async () => {
    const crash = await invoker.invoke('Fixture/Exits', {});
    expect(crash.error).toEqual({ errorType: 'Runtime.ExitError', errorMessage: expect.stringMatching(/exit status 3/) });
    const again = await invoker.invoke('Fixture/Exits', {});
    expect(again.error?.errorMessage).toMatch(/exit status 3/);
  });

  test('GIVEN an unhandled promise rejection WHEN invoked THEN the invocation fails with Runtime.UnhandledPromiseRejection and the instance is replaced', async () => {
    const first = await invoker.invoke('Fixture/RejectsLater', {});
    expect(first.error).toEqual({ errorType: 'Runtime.UnhandledPromiseRejection', errorMessage: 'nobody awaited this' });
    expect((await invoker.invoke('Fixture/RejectsLater', {})).error?.errorType).toBe('Runtime.UnhandledPromiseRejection');
  });
});

describe('unmodified handlers reach the local services', () => {
  test('GIVEN an unbundled handler with a default-endpoint DynamoDB client WHEN it puts and gets THEN the local table holds the item', async () => {
    const out = await invoker.invoke('Fixture/Put', { pk: 'conn#A', note: 'stored locally' });
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual({ note: 'stored locally' });
  });

  test('GIVEN an unbundled ES module handler WHEN it imports the AWS SDK THEN it resolves (NODE_PATH for ESM) and lists the local tables', async () => {
    const out = await invoker.invoke('Fixture/SdkEsm', {});
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual({ tables: expect.arrayContaining([TABLE.tableName]) });
  });

  test('GIVEN a template secret WHEN a handler reads it by ARN or name THEN it gets the local key; others are ResourceNotFoundException', async () => {
    expect((await invoker.invoke('Fixture/Secret', { secretId: SECRET_ARN })).result).toEqual({ secret: 'test-local-key' });
    expect((await invoker.invoke('Fixture/Secret', { secretId: 'JwtSecret' })).result).toEqual({ secret: 'test-local-key' });
    expect((await invoker.invoke('Fixture/Secret', { secretId: 'OtherSecret' })).error?.errorType).toBe('ResourceNotFoundException');
  });

  test('GIVEN the callback URL from api id + region (spec §1) WHEN a handler posts THEN the TLS request reaches the emulator port with the AWS host', async () => {
    const before = gateway.calls.length;
    const out = await invoker.invoke('Fixture/Post', { apiId: API_ID, stage: 'prod', connectionId: 'BFaT_fALIAMCKug=', data: 'hi' });
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual({ endpoint: `https://${API_ID}.execute-api.${REGION}.amazonaws.com/prod`, status: 200 });
    // The SDK v3 client sends a literal `@` and percent-encodes the id's `=` (spec §5, §9.5).
    expect(gateway.calls.slice(before)).toEqual([{
      method: 'POST', url: '/prod/@connections/BFaT_fALIAMCKug%3D', host: `${API_ID}.execute-api.${REGION}.amazonaws.com`, body: 'hi',
    }]);
  });

  test('GIVEN https://${domainName}/${stage} from the event (spec §9.6) WHEN a handler posts THEN it reaches the emulator and trusts its certificate', async () => {
    const before = gateway.calls.length;
    const event = { requestContext: { domainName: `localhost:${gateway.port}`, stage: 'local' }, connectionId: 'eHrdFcnvvHcCE-w=', data: 'yo' };
    const out = await invoker.invoke('Fixture/Post', event);
    expect(out.error).toBeUndefined();
    expect(gateway.calls.slice(before)).toEqual([expect.objectContaining({ url: '/local/@connections/eHrdFcnvvHcCE-w%3D', host: `localhost:${gateway.port}`, body: 'yo' })]);
  });
});

describe('local services', () => {
  test('GIVEN an existing table WHEN createTables runs again THEN it is kept (idempotent) and its items survive', async () => {
    const client = localDynamoClient(dynamo.endpoint);
    await client.send(new PutItemCommand({ TableName: TABLE.tableName, Item: { pk: { S: 'conn#K' }, sk: { S: 'meta' } } }));
    expect(await createTables(dynamo.endpoint, [TABLE])).toEqual([]);
    const { Count } = await client.send(new QueryCommand({ TableName: TABLE.tableName, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'conn#K' } } }));
    expect(Count).toBe(1);
    client.destroy();
  });

  test('GIVEN bad inputs WHEN starting services THEN they reject naming what is wrong', async () => {
    await expect(startLocalDynamo({ endpoint: 'not a url' })).rejects.toThrow(/not a URL/);
    await expect(startSecretsService({ secrets: null as any })).rejects.toThrow(/options\.secrets/);
    await expect(createCertificate(['bad host!'])).rejects.toThrow(/not host names: bad host!/);
  });

  test('GIVEN the secrets service WHEN asked for another operation THEN it answers an error naming it', async () => {
    const client = new SecretsManagerClient({ endpoint: secrets.endpoint, region: REGION, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    await expect(client.send(new GetSecretValueCommand({ SecretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:Nope-XyZ987' }))).rejects.toThrow(/can't find the specified secret/);
    client.destroy();
  });
});


describe('createInvoker: instance lifecycle (reuse first, idle reaping, reserved concurrency)', () => {
  const cjs = fn('Life', 'cjs.handler');
  const slow = fn('LifeSlow', 'cjs.slow');
  let clock = 1_000_000;
  const now = () => clock;

  test('GIVEN a warm instance WHEN it stays idle for the idle time THEN reap() stops it and the next call is a cold start', async () => {
    // GIVEN an invoker with a 60 s idle time and a clock the test moves
    const own = createInvoker({ functions: { [cjs.id]: cjs }, instanceIdleMs: 60_000, now, log: () => undefined });
    try {
      const first = (await own.invoke(cjs.id, {})).result as any;
      const warm = (await own.invoke(cjs.id, {})).result as any;
      expect(warm).toEqual(expect.objectContaining({ pid: first.pid, invocations: 2 }));
      // WHEN idle for just under the idle time THEN it is kept
      clock += 59_999;
      expect(await own.reap()).toBe(0);
      expect(own.instanceCount(cjs.id)).toBe(1);
      // WHEN idle for the idle time THEN it is stopped
      clock += 1;
      expect(await own.reap()).toBe(1);
      expect(own.instanceCount(cjs.id)).toBe(0);
      // THEN the next invocation runs in a new process with fresh module scope
      const cold = (await own.invoke(cjs.id, {})).result as any;
      expect(cold.pid).not.toBe(first.pid);
      expect(cold.invocations).toBe(1);
    } finally {
      await own.close();
    }
  });

  test('GIVEN two warm instances WHEN calls come one at a time THEN the most recently used serves them all and only the other is reaped', async () => {
    // GIVEN two instances, made by two overlapping invocations
    // (scale-up delay 0: a second instance starts at once, as Lambda starts one per concurrent request)
    const own = createInvoker({ functions: { [slow.id]: slow }, maxInstancesPerFunction: 2, instanceIdleMs: 60_000, scaleUpDelayMs: 0, now, log: () => undefined });
    try {
      const overlapping = await Promise.all([own.invoke(slow.id, { ms: 300 }), own.invoke(slow.id, { ms: 300 })]);
      expect(overlapping.every((o) => (o.result as any)?.waited === 300)).toBe(true);
      expect(own.instanceCount(slow.id)).toBe(2);
      // WHEN three sequential calls arrive, later on the clock
      clock += 30_000;
      const sequential = [];
      for (let i = 0; i < 3; i++) sequential.push(((await own.invoke(slow.id, { ms: 1 })).result as any).pid);
      // THEN one warm instance served them all (no new process)
      expect(new Set(sequential).size).toBe(1);
      expect(own.instanceCount(slow.id)).toBe(2);
      // WHEN the idle time has passed for the instance not used since the overlap only
      clock += 30_000;
      expect(await own.reap()).toBe(1);
      // THEN the recently used one is kept and still serves
      expect(own.instanceCount(slow.id)).toBe(1);
      expect(((await own.invoke(slow.id, { ms: 1 })).result as any).pid).toBe(sequential[0]);
    } finally {
      await own.close();
    }
  });

  test('GIVEN three instances after a burst WHEN idle for the surplus idle time THEN the extra ones stop, longest idle first, and the last warm one stays for the idle time', async () => {
    // GIVEN three instances (three overlapping invocations, scale-up delay 0), surplus idle 10 s, idle 60 s
    const own = createInvoker({
      functions: { [slow.id]: slow }, maxInstancesPerFunction: 3, instanceIdleMs: 60_000, surplusInstanceIdleMs: 10_000, scaleUpDelayMs: 0, now, log: () => undefined,
    });
    try {
      await Promise.all([0, 1, 2].map(() => own.invoke(slow.id, { ms: 300 })));
      expect(own.instanceCount(slow.id)).toBe(3);
      const recent = ((await own.invoke(slow.id, { ms: 1 })).result as any).pid;
      // WHEN just under the surplus idle time THEN nothing stops
      clock += 9_999;
      expect(await own.reap()).toBe(0);
      // WHEN the surplus idle time has passed THEN the two extra instances stop, the most recently used stays
      clock += 1;
      expect(await own.reap()).toBe(2);
      expect(own.instanceCount(slow.id)).toBe(1);
      expect(((await own.invoke(slow.id, { ms: 1 })).result as any).pid).toBe(recent);
      // WHEN it alone is idle past the surplus time but under the idle time THEN it stays; at the idle time it stops
      clock += 59_999;
      expect(await own.reap()).toBe(0);
      clock += 1;
      expect(await own.reap()).toBe(1);
      expect(own.instanceCount(slow.id)).toBe(0);
    } finally {
      await own.close();
    }
  });

  test('GIVEN one busy and one idle instance WHEN the idle one passes the surplus idle time THEN it stops (the busy one stays alive)', async () => {
    const own = createInvoker({
      functions: { [slow.id]: slow }, maxInstancesPerFunction: 2, instanceIdleMs: 60_000, surplusInstanceIdleMs: 10_000, scaleUpDelayMs: 0, now, log: () => undefined,
    });
    try {
      await Promise.all([own.invoke(slow.id, { ms: 300 }), own.invoke(slow.id, { ms: 300 })]);
      const busy = own.invoke(slow.id, { ms: 2_000 });
      clock += 10_000;
      expect(await own.reap()).toBe(1);
      expect(own.instanceCount(slow.id)).toBe(1);
      expect(((await busy).result as any).waited).toBe(2_000);
    } finally {
      await own.close();
    }
  });

  test('GIVEN ReservedConcurrentExecutions 1 WHEN a second invocation arrives while one runs THEN it is throttled and the first completes', async () => {
    // GIVEN
    const reserved = { ...slow, id: 'Fixture/Reserved1', reservedConcurrency: 1 };
    const own = createInvoker({ functions: { [reserved.id]: reserved }, log: () => undefined });
    try {
      // WHEN the second is sent before the first has returned (the first still waits for its process)
      const running = own.invoke(reserved.id, { ms: 200 });
      const throttled = await own.invoke(reserved.id, { ms: 1 });
      // THEN
      expect(throttled.error).toEqual({ errorType: 'TooManyRequestsException', errorMessage: expect.stringMatching(/^Rate Exceeded\..*Fixture\/Reserved1 has ReservedConcurrentExecutions 1/) });
      expect((await running).result).toEqual(expect.objectContaining({ waited: 200 }));
      expect(own.instanceCount(reserved.id)).toBe(1);
      // THEN once it is free, the next one runs on the same instance
      expect((await own.invoke(reserved.id, { ms: 1 })).result).toEqual(expect.objectContaining({ waited: 1 }));
    } finally {
      await own.close();
    }
  });

  test('GIVEN ReservedConcurrentExecutions 0 WHEN invoked THEN every invocation is throttled and no process starts', async () => {
    const off = { ...cjs, id: 'Fixture/Reserved0', reservedConcurrency: 0 };
    const own = createInvoker({ functions: { [off.id]: off }, log: () => undefined });
    try {
      expect((await own.invoke(off.id, {})).error?.errorType).toBe('TooManyRequestsException');
      expect(own.instanceCount(off.id)).toBe(0);
    } finally {
      await own.close();
    }
  });

  test('GIVEN reserved concurrency 2 over a local bound of 1 instance WHEN three invocations overlap THEN one runs, one waits for it, one is throttled', async () => {
    // GIVEN
    const two = { ...slow, id: 'Fixture/Reserved2', reservedConcurrency: 2 };
    const own = createInvoker({ functions: { [two.id]: two }, maxInstancesPerFunction: 1, log: () => undefined });
    try {
      // WHEN
      const outcomes = await Promise.all([own.invoke(two.id, { ms: 100 }), own.invoke(two.id, { ms: 100 }), own.invoke(two.id, { ms: 100 })]);
      // THEN
      expect(outcomes.map((o) => o.error?.errorType ?? 'ok')).toEqual(['ok', 'ok', 'TooManyRequestsException']);
      expect((outcomes[0].result as any).pid).toBe((outcomes[1].result as any).pid);
    } finally {
      await own.close();
    }
  });

  test('GIVEN a warm instance and a scale-up delay WHEN invocations overlap within it THEN they run one after another on that instance, no second process', async () => {
    // GIVEN one warm instance; a delay no invocation here waits that long
    const own = createInvoker({ functions: { [slow.id]: slow }, maxInstancesPerFunction: 4, scaleUpDelayMs: 600_000, log: () => undefined });
    try {
      const warm = ((await own.invoke(slow.id, { ms: 1 })).result as any).pid;
      // WHEN three invocations arrive together
      const outcomes = await Promise.all([1, 2, 3].map(() => own.invoke(slow.id, { ms: 50 })));
      // THEN the warm instance served them in turn (one invocation per instance at a time) and no process started
      expect(outcomes.map((o) => (o.result as any)?.pid)).toEqual([warm, warm, warm]);
      expect(own.instanceCount(slow.id)).toBe(1);
    } finally {
      await own.close();
    }
  });

  test('GIVEN a scale-up delay and no instance alive WHEN invoked THEN the instance starts at once (a cold start does not wait)', async () => {
    // GIVEN a delay far longer than the test's own timeout
    const own = createInvoker({ functions: { [cjs.id]: cjs }, scaleUpDelayMs: 600_000, log: () => undefined });
    try {
      // WHEN / THEN it is served, by a new process
      const outcome = await own.invoke(cjs.id, {});
      expect((outcome.result as any)?.invocations).toBe(1);
      expect(own.instanceCount(cjs.id)).toBe(1);
    } finally {
      await own.close();
    }
  });

  test('GIVEN a busy instance and a 100 ms scale-up delay WHEN a second invocation waits past it THEN a second process starts for it', async () => {
    // GIVEN a warm instance that will be busy for 2 s
    const own = createInvoker({ functions: { [slow.id]: slow }, maxInstancesPerFunction: 2, scaleUpDelayMs: 100, log: () => undefined });
    try {
      const first = ((await own.invoke(slow.id, { ms: 1 })).result as any).pid;
      const busy = own.invoke(slow.id, { ms: 2000 });
      // WHEN a short one arrives while it runs
      const second = (await own.invoke(slow.id, { ms: 1 })).result as any;
      // THEN a second process started once it had waited 100 ms (it, or the busy one once finished, served the call)
      expect(own.instanceCount(slow.id)).toBe(2);
      expect(((await busy).result as any).pid).toBe(first);
      expect(second.waited).toBe(1);
    } finally {
      await own.close();
    }
  });

  test('GIVEN invalid lifecycle options WHEN the invoker is created THEN it throws naming the option', () => {
    expect(() => createInvoker({ functions: {}, instanceIdleMs: 0 })).toThrow(/instanceIdleMs must be a number of milliseconds > 0, got 0/);
    expect(() => createInvoker({ functions: {}, surplusInstanceIdleMs: 0 })).toThrow(/surplusInstanceIdleMs must be a number of milliseconds > 0, got 0/);
    expect(() => createInvoker({ functions: {}, surplusInstanceIdleMs: Number.NaN })).toThrow(/surplusInstanceIdleMs must be a number of milliseconds > 0, got NaN/);
    expect(() => createInvoker({ functions: {}, scaleUpDelayMs: -1 })).toThrow(/scaleUpDelayMs must be a number of milliseconds ≥ 0, got -1/);
    expect(() => createInvoker({ functions: {}, scaleUpDelayMs: Number.NaN })).toThrow(/scaleUpDelayMs must be a number of milliseconds ≥ 0, got NaN/);
  });
});

describe('createInvoker: gatewayPlainHttp (the emulator port also speaks plain HTTP)', () => {
  /** A plain HTTP server standing in for the gateway, recording each request and each connection's first byte. */
  async function plainGateway() {
    const calls: Array<{ method: string; url: string; host: string; body: string }> = [];
    const firstBytes: number[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        calls.push({ method: req.method!, url: req.url!, host: String(req.headers.host), body: Buffer.concat(chunks).toString() });
        res.writeHead(200).end();
      });
    });
    let connections = 0;
    server.on('connection', (socket: net.Socket) => {
      connections += 1;
      socket.once('data', (d: Buffer) => firstBytes.push(d[0]));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const post = FUNCTIONS.find((f) => f.id === 'Fixture/Post')!;
    const port = (server.address() as net.AddressInfo).port;
    const own = createInvoker({
      functions: { [post.id]: post }, region: REGION, log: () => undefined,
      gatewayHosts: [`*.execute-api.${REGION}.amazonaws.com`], gatewayPort: port, gatewayPlainHttp: true,
    });
    return {
      port, calls, firstBytes,
      connections: () => connections,
      invoke: (event: unknown) => own.invoke(post.id, event),
      close: async () => {
        await own.close();
        await new Promise((r) => server.close(r));
      },
    };
  }

  test('GIVEN gatewayPlainHttp WHEN an unmodified handler posts to its https callback URL THEN the same request arrives over plain TCP', async () => {
    // GIVEN
    const gw = await plainGateway();
    try {
      // WHEN
      const outcomes = [
        await gw.invoke({ apiId: API_ID, stage: 'prod', connectionId: 'PlainAAAAAAAAAA=', data: 'one' }),
        await gw.invoke({ apiId: API_ID, stage: 'prod', connectionId: 'PlainBBBBBBBBBB=', data: 'two' }),
      ];
      // THEN the handler saw its https endpoint and a 200; the server got the HTTPS-shaped requests in plain text
      expect(outcomes.map((o) => o.result)).toEqual([
        { endpoint: `https://${API_ID}.execute-api.${REGION}.amazonaws.com/prod`, status: 200 },
        { endpoint: `https://${API_ID}.execute-api.${REGION}.amazonaws.com/prod`, status: 200 },
      ]);
      expect(gw.calls).toEqual([
        { method: 'POST', url: '/prod/@connections/PlainAAAAAAAAAA%3D', host: `${API_ID}.execute-api.${REGION}.amazonaws.com`, body: 'one' },
        { method: 'POST', url: '/prod/@connections/PlainBBBBBBBBBB%3D', host: `${API_ID}.execute-api.${REGION}.amazonaws.com`, body: 'two' },
      ]);
      expect(gw.firstBytes).toEqual(['P'.charCodeAt(0)]); // 'POST', not a TLS record (0x16)
      // and the second invocation's new client reused the first one's connection (one pool for the process)
      expect(gw.connections()).toBe(1);
    } finally {
      await gw.close();
    }
  });

  test('GIVEN gatewayPlainHttp WHEN a handler posts to https://{domainName}/{stage} (127.0.0.1:PORT, as AWS\'s chat sample builds it) THEN that connection is plain too, and another port is left alone', async () => {
    // GIVEN the event's domainName is the emulator's own address, as the gateway sets it
    const gw = await plainGateway();
    try {
      // WHEN
      const own = await gw.invoke({ requestContext: { domainName: `127.0.0.1:${gw.port}`, stage: 'local' }, connectionId: 'SelfAAAAAAAAAAA=', data: 'self' });
      const other = await gw.invoke({ requestContext: { domainName: '127.0.0.1:1', stage: 'local' }, connectionId: 'SelfBBBBBBBBBBB=', data: 'other' });
      // THEN the post reached the server in plain text (no TLS handshake with the emulator), Host unchanged
      expect(own.error).toBeUndefined();
      expect(gw.calls).toEqual([{ method: 'POST', url: '/local/@connections/SelfAAAAAAAAAAA%3D', host: `127.0.0.1:${gw.port}`, body: 'self' }]);
      expect(gw.firstBytes).toEqual(['P'.charCodeAt(0)]);
      // and a connection to another port of 127.0.0.1 is not redirected (it fails there, as it would without the emulator)
      expect(other.error?.errorMessage).toMatch(/ECONNREFUSED 127\.0\.0\.1:/);
      expect(gw.calls).toHaveLength(1);
    } finally {
      await gw.close();
    }
  });
});


(hasDynamoDbLocal || requireDynamoDbLocal ? describe : describe.skip)('AWS DynamoDB Local (scripts/fetch-dynamodb-local.sh)', () => {
  test('GIVEN DynamoDB Local WHEN tables are created through startLocalDynamo({endpoint}) THEN a put is found through the GSI', async () => {
    expect(hasDynamoDbLocal).toBe(true); // fails when WSGATE_REQUIRE_DYNAMODB_LOCAL=1 and the jar is absent
    const ddbLocal = await launchDynamoDbLocal();
    try {
      await ddbLocal.ready;
      const local = await startLocalDynamo({ endpoint: ddbLocal.endpoint });
      expect(await createTables(local.endpoint, [TABLE])).toEqual([TABLE.tableName]);
      expect(await createTables(local.endpoint, [TABLE])).toEqual([]);
      const client: DynamoDBClient = localDynamoClient(local.endpoint);
      await client.send(new PutItemCommand({ TableName: TABLE.tableName, Item: { pk: { S: 'conn#1' }, sk: { S: 'room#lobby' }, room: { S: 'lobby' }, connectionId: { S: '1' } } }));
      const { Items } = await client.send(new QueryCommand({ TableName: TABLE.tableName, IndexName: 'byRoom', KeyConditionExpression: 'room = :r', ExpressionAttributeValues: { ':r': { S: 'lobby' } } }));
      expect(Items).toEqual([{ pk: { S: 'conn#1' }, sk: { S: 'room#lobby' }, room: { S: 'lobby' }, connectionId: { S: '1' } }]);
      client.destroy();
      await local.close();
    } finally {
      ddbLocal.stop();
    }
  });
});
