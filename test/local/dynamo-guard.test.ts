/**
 * local/runtime/dynamo-guard.ts (and dynamo-guard-module.ts, which finds or bundles it): a function's DynamoDB calls
 * IAM-checked inside its own process. Real parts throughout: dynalite, the SDK, the emulator's IamAuthority and proxy,
 * and, at the end, real function processes started by the invoker with the guard module `npm run build:handlers`
 * bundled (scripts/build-local-guard.mjs).
 * Requests the guard must not forward are sent with `proxy` pointing at a port nothing listens on: a call that
 * succeeds there cannot have gone through the proxy.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DEVELOPER_CREDENTIALS, IamAuthority, identityFromConfig } from '../../local/iam/credentials';
import type { FunctionModel } from '../../local/model';
import { parseGuardConfig, startDynamoGuard, type DynamoGuardConfig, type RunningGuard } from '../../local/runtime/dynamo-guard';
import { dynamoGuardModule, freshBundle } from '../../local/runtime/dynamo-guard-module';
import { createInvoker, type LocalInvoker } from '../../local/runtime/invoker';
import { startDynamoIamProxy, type DynamoIamProxy } from '../../local/services/dynamo-iam-proxy';
import { startLocalDynamo, type LocalDynamo } from '../../local/services/local-dynamo';
import { closedPort } from '../lambda/support/local-dynamodb';

const ACCOUNT = '123456789012';
const ARN = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table`;
const HANDLERS = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-guard-handlers-'));
fs.cpSync(path.join(__dirname, 'fixtures', 'handlers'), HANDLERS, { recursive: true });

function readerFunction(id: string, handler: string): FunctionModel {
  return {
    id: `S/${id}`, stackName: 'S', logicalId: id, functionName: `S-${id}-1`, handler, runtime: 'nodejs22.x', codeDir: HANDLERS,
    environment: { TABLE_NAME: 'Things' }, timeoutSeconds: 10, memorySize: 128, accountId: ACCOUNT,
    role: {
      id: `S/${id}Role`, roleName: `S-${id}Role-1`, arn: `arn:aws:iam::${ACCOUNT}:role/S-${id}Role-1`, managedPolicyArns: [], warnings: [],
      policies: [{ name: `S/${id}Policy`, document: { Statement: [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: `${ARN}/Things` }] } }],
    },
  } as FunctionModel;
}

const READER = readerFunction('Reader', 'aws-services.putAndGet');
const ENV_READER = readerFunction('EnvReader', 'cjs.handler');
const ESM_READER = readerFunction('EsmReader', 'http-hook.handler');

/** A loopback endpoint with nothing listening on it. */
async function deadEndpoint(): Promise<string> {
  return `http://127.0.0.1:${await closedPort()}`;
}

let dynamo: LocalDynamo;
let iam: IamAuthority;
let proxy: DynamoIamProxy;
const emulatorLog: string[] = [];

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  iam = new IamAuthority({ functions: { [READER.id]: READER, [ENV_READER.id]: ENV_READER, [ESM_READER.id]: ESM_READER }, accountId: ACCOUNT, log: (l) => emulatorLog.push(`proxy ${l}`) });
  proxy = await startDynamoIamProxy({ target: dynamo.endpoint, iam });
  const admin = adminClient();
  await admin.send(new CreateTableCommand({ TableName: 'Things', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }], AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }));
  await admin.send(new PutItemCommand({ TableName: 'Things', Item: { pk: { S: 'a' }, sk: { S: 'meta' }, note: { S: 'seeded' } } }));
  admin.destroy();
});

afterAll(async () => {
  await proxy?.close();
  await dynamo?.close();
  fs.rmSync(HANDLERS, { recursive: true, force: true });
});

function adminClient(): DynamoDBClient {
  return new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
}

function clientOf(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: 'us-east-1', maxAttempts: 1, credentials });
}

function readerCredentials(): { accessKeyId: string; secretAccessKey: string; sessionToken: string } {
  const env = iam.credentialsFor(READER.id)!;
  return { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN };
}

describe('startDynamoGuard (in one process, against dynalite)', () => {
  let guard: RunningGuard;
  let unreachableProxyGuard: RunningGuard;
  const guardLog: string[] = [];

  beforeAll(async () => {
    const identity = iam.identityConfigFor(READER.id)!;
    guard = await startDynamoGuard({ target: dynamo.endpoint, proxy: proxy.endpoint, identity }, (l) => guardLog.push(l));
    unreachableProxyGuard = await startDynamoGuard({ target: dynamo.endpoint, proxy: await deadEndpoint(), identity }, (l) => guardLog.push(l));
  });
  afterAll(async () => {
    await guard?.close();
    await unreachableProxyGuard?.close();
  });
  beforeEach(() => {
    guardLog.length = 0;
    emulatorLog.length = 0;
  });

  test('GIVEN the function\'s own key and a role allowed GetItem WHEN it gets THEN the item comes straight from DynamoDB (the proxy is unreachable)', async () => {
    const client = clientOf(unreachableProxyGuard.endpoint, readerCredentials());
    const { Item } = await client.send(new GetItemCommand({ TableName: 'Things', Key: { pk: { S: 'a' }, sk: { S: 'meta' } } }));
    expect(Item?.note).toEqual({ S: 'seeded' });
    client.destroy();
    expect(guardLog).toEqual([]);
  });

  test('GIVEN the same role WHEN it puts THEN AccessDeniedException with AWS\'s text, the refusal line goes to the guard\'s log, and nothing is written', async () => {
    const client = clientOf(unreachableProxyGuard.endpoint, readerCredentials());
    await expect(client.send(new PutItemCommand({ TableName: 'Things', Item: { pk: { S: 'b' }, sk: { S: 'meta' } } }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
      message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/S-ReaderRole-1/S-Reader-1 is not authorized to perform: dynamodb:PutItem on resource: ${ARN}/Things because no identity-based policy allows the dynamodb:PutItem action`,
    });
    client.destroy();
    expect(guardLog).toEqual([expect.stringMatching(/^IAM: function S\/Reader \(role S-ReaderRole-1\) refused dynamodb:PutItem on .*statement S\/ReaderPolicy#0 allows dynamodb:GetItem on that resource, but not dynamodb:PutItem\)$/)]);
    expect(emulatorLog).toEqual([]);
    const admin = adminClient();
    expect((await admin.send(new GetItemCommand({ TableName: 'Things', Key: { pk: { S: 'b' }, sk: { S: 'meta' } } }))).Item).toBeUndefined();
    admin.destroy();
  });

  test('GIVEN the function\'s key with a wrong secret or session token WHEN calling THEN the guard itself refuses, as DynamoDB would', async () => {
    const own = readerCredentials();
    const forgedSecret = clientOf(unreachableProxyGuard.endpoint, { ...own, secretAccessKey: 'not-the-secret' });
    await expect(forgedSecret.send(new GetItemCommand({ TableName: 'Things', Key: { pk: { S: 'a' }, sk: { S: 'meta' } } }))).rejects.toMatchObject({
      name: 'InvalidSignatureException', $metadata: { httpStatusCode: 400 },
    });
    forgedSecret.destroy();
    const forgedToken = clientOf(unreachableProxyGuard.endpoint, { ...own, sessionToken: 'forged' });
    await expect(forgedToken.send(new GetItemCommand({ TableName: 'Things', Key: { pk: { S: 'a' }, sk: { S: 'meta' } } }))).rejects.toMatchObject({
      name: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.',
    });
    forgedToken.destroy();
  });

  test('GIVEN a request signed with another key (the developer key) WHEN sent to the guard THEN it is passed to the emulator\'s proxy, which checks and answers it', async () => {
    // WHEN through the guard whose proxy is the real one: the developer key is allowed everything there
    const developer = clientOf(guard.endpoint, DEVELOPER_CREDENTIALS);
    const { Item } = await developer.send(new GetItemCommand({ TableName: 'Things', Key: { pk: { S: 'a' }, sk: { S: 'meta' } } }));
    expect(Item?.note).toEqual({ S: 'seeded' });
    developer.destroy();
    // and through the guard whose proxy does not answer: the same request fails naming that endpoint (it was forwarded)
    const stranded = clientOf(unreachableProxyGuard.endpoint, DEVELOPER_CREDENTIALS);
    await expect(stranded.send(new GetItemCommand({ TableName: 'Things', Key: { pk: { S: 'a' }, sk: { S: 'meta' } } }))).rejects.toMatchObject({
      name: 'InternalServerError', message: expect.stringMatching(/^The local DynamoDB at http:\/\/127\.0\.0\.1:\d+ did not answer: /),
    });
    stranded.destroy();
    // an unknown key gets the proxy's answer too
    const stranger = clientOf(guard.endpoint, { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' });
    await expect(stranger.send(new GetItemCommand({ TableName: 'Things', Key: { pk: { S: 'a' }, sk: { S: 'meta' } } }))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    stranger.destroy();
  });
});

describe('parseGuardConfig and identityFromConfig', () => {
  test('GIVEN text that is not a configuration WHEN parsed THEN a one-line reason naming the variable', () => {
    expect(() => parseGuardConfig('{nope')).toThrow(/^WSGATE_DYNAMO_GUARD is not JSON: /);
    expect(() => parseGuardConfig('null')).toThrow('WSGATE_DYNAMO_GUARD lacks target, proxy, identity.accessKeyId, identity.secretAccessKey');
    expect(() => parseGuardConfig(JSON.stringify({ target: 'http://127.0.0.1:1', proxy: 'http://127.0.0.1:2', identity: { accessKeyId: 'A' } })))
      .toThrow('WSGATE_DYNAMO_GUARD lacks identity.secretAccessKey');
  });

  test('GIVEN a function\'s configuration WHEN it crosses JSON and is rebuilt THEN the identity decides as the emulator\'s does', () => {
    const config: DynamoGuardConfig = { target: 'http://127.0.0.1:1', proxy: 'http://127.0.0.1:2', identity: iam.identityConfigFor(READER.id)! };
    const rebuilt = identityFromConfig(parseGuardConfig(JSON.stringify(config)).identity);
    expect(rebuilt).toMatchObject({ accessKeyId: readerCredentials().accessKeyId, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/S-ReaderRole-1/S-Reader-1`, label: 'function S/Reader (role S-ReaderRole-1)' });
    expect(rebuilt.policy!.evaluate('dynamodb:GetItem', `${ARN}/Things`).allowed).toBe(true);
    expect(rebuilt.policy!.evaluate('dynamodb:PutItem', `${ARN}/Things`).allowed).toBe(false);
    expect(rebuilt.boundary).toBeUndefined();
    expect(iam.identityConfigFor('S/Unknown')).toBeUndefined();
  });
});

describe('dynamoGuardModule / freshBundle (which file a function process loads)', () => {
  test('GIVEN the sources (ts-jest) after npm run build:handlers WHEN asked THEN the bundle under .wsgate/local, which exports the guard', () => {
    const module = dynamoGuardModule();
    expect(module).toMatch(/[/\\]\.wsgate[/\\]local[/\\]dynamo-guard\.cjs$/);
    expect(Object.keys(require(module!))).toEqual(expect.arrayContaining(['startDynamoGuard', 'parseGuardConfig']));
  });

  test('GIVEN a bundle and its inputs WHEN an input is newer, or the list is missing THEN it is not used', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-guard-bundle-'));
    try {
      const input = path.join(dir, 'input.ts');
      const bundle = path.join(dir, 'bundle.cjs');
      fs.writeFileSync(input, '');
      fs.writeFileSync(bundle, '');
      fs.utimesSync(input, new Date(1_000_000), new Date(1_000_000));
      expect(freshBundle(bundle)).toBeUndefined(); // no list of inputs
      fs.writeFileSync(`${bundle}.inputs.json`, JSON.stringify([input]));
      expect(freshBundle(bundle)).toBe(bundle);
      fs.utimesSync(input, new Date(), new Date(Date.now() + 60_000)); // edited after the build
      expect(freshBundle(bundle)).toBeUndefined();
      fs.rmSync(input);
      expect(freshBundle(bundle)).toBeUndefined(); // an input that is gone
      expect(freshBundle(path.join(dir, 'absent.cjs'))).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('function processes with the guard (createInvoker dynamoGuard, the bundle of the sources)', () => {
  let invoker: LocalInvoker;
  const functionLog: string[] = [];
  const serviceLog: string[] = [];

  beforeAll(async () => {
    const module = dynamoGuardModule();
    if (!module) throw new Error('no fresh .wsgate/local/dynamo-guard.cjs: run npm run build:handlers (npm test does) first');
    invoker = createInvoker({
      functions: { [READER.id]: READER, [ENV_READER.id]: ENV_READER, [ESM_READER.id]: ESM_READER },
      dynamodb: proxy.endpoint,
      credentialsFor: (id) => iam.credentialsFor(id),
      dynamoGuard: { module, target: dynamo.endpoint, identityFor: (id) => iam.identityConfigFor(id) },
      serviceLog: (line) => serviceLog.push(line),
      log: (id, _stream, line) => functionLog.push(`${id}: ${line}`),
    });
  });
  afterAll(async () => {
    await invoker?.close();
  });

  test('GIVEN a function with the guard WHEN its handler reads its environment THEN DynamoDB is a port of its own process and the guard\'s variables are gone', async () => {
    const outcome = await invoker.invoke(ENV_READER.id, {});
    const env = (outcome.result as { env: Record<string, string> }).env;
    expect(env.AWS_ENDPOINT_URL_DYNAMODB).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(env.AWS_ENDPOINT_URL_DYNAMODB).not.toBe(proxy.endpoint);
    expect(Object.keys(env).filter((k) => k.startsWith('WSGATE_DYNAMO_GUARD'))).toEqual([]);
  });

  test('GIVEN an ES module handler WHEN it imports node:http and reads an allowed item THEN both imports see the request hook and the read succeeds', async () => {
    const outcome = await invoker.invoke(ESM_READER.id, {});
    expect(outcome.result).toEqual({ named: 'hooked', viaDefault: 'hooked', note: 'seeded' });
    expect(serviceLog).toEqual([]);
  });

  test('GIVEN the reader role WHEN its handler puts THEN the SDK error names the missing grant and the refusal reaches the emulator\'s log from the function process', async () => {
    emulatorLog.length = 0;
    const outcome = await invoker.invoke(READER.id, { pk: 'c', note: 'x' });
    expect(outcome.error).toMatchObject({ errorType: 'AccessDeniedException', errorMessage: expect.stringContaining('is not authorized to perform: dynamodb:PutItem') });
    expect(serviceLog).toEqual([expect.stringMatching(/^IAM: function S\/Reader \(role S-ReaderRole-1\) refused dynamodb:PutItem on /)]);
    // checked in the function's process: the emulator's proxy saw no refusal
    expect(emulatorLog).toEqual([]);
  });

  test('GIVEN a guard module that cannot be loaded WHEN the function runs THEN it says so in its log and its calls are checked by the proxy instead', async () => {
    const broken = createInvoker({
      functions: { [READER.id]: READER },
      dynamodb: proxy.endpoint,
      credentialsFor: (id) => iam.credentialsFor(id),
      dynamoGuard: { module: path.join(HANDLERS, 'no-such-guard.cjs'), target: dynamo.endpoint, identityFor: (id) => iam.identityConfigFor(id) },
      log: (id, _stream, line) => functionLog.push(`${id}: ${line}`),
    });
    try {
      emulatorLog.length = 0;
      const outcome = await broken.invoke(READER.id, { pk: 'd', note: 'x' });
      expect(outcome.error).toMatchObject({ errorType: 'AccessDeniedException' });
      expect(functionLog).toContainEqual(expect.stringMatching(/^S\/Reader: wsgate: the in-process DynamoDB checks did not start \(Cannot find module .*no-such-guard\.cjs.*\); DynamoDB calls go through the emulator's proxy$/));
      expect(emulatorLog).toEqual([expect.stringMatching(/^proxy IAM: function S\/Reader .* refused dynamodb:PutItem/)]);
    } finally {
      await broken.close();
    }
  });
});
