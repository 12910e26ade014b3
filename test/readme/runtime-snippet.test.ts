/**
 * The README's runtime snippet (between `<!-- runtime-snippet:start -->` and `<!-- runtime-snippet:end -->`) is a
 * complete handler a user can copy: it type-checks against `wsgate/runtime` (mapped to lambda/runtime/index.ts)
 * with strict settings, and, bundled with esbuild like a user's function, it runs $connect, $default and
 * $disconnect against a real dynalite table and a real HTTP server answering like `@connections`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { ROOT, readmeSnippet, strictTypeCheck } from './support/readme-snippet';
import { FakeConnectionsApi, startFakeConnectionsApi } from '../lambda/support/fake-connections-api';
import { LocalDynamo, ROOM_INDEX, TEST_CREDENTIALS, startLocalDynamo } from '../lambda/support/local-dynamodb';

const WORK = join(ROOT, 'test', '.work', 'runtime-snippet');

const snippet = (): string => readmeSnippet('runtime-snippet');

let file: string;
beforeAll(() => {
  mkdirSync(WORK, { recursive: true });
  file = join(WORK, 'handler.ts');
  writeFileSync(file, snippet());
});

test('GIVEN the README runtime snippet WHEN type-checked against wsgate/runtime with strict settings THEN it compiles without a diagnostic', () => {
  // GIVEN the snippet, written to `file` before all tests
  // WHEN
  const check = strictTypeCheck(file, { 'wsgate/runtime': ['lambda/runtime/index.ts'] }, { noUnusedParameters: true });
  // THEN
  expect(check.statements).toBeGreaterThan(3);
  expect(check.diagnostics).toEqual([]);
});

describe('the README runtime snippet, bundled and run', () => {
  let dynamo: LocalDynamo;
  let api: FakeConnectionsApi;
  let handler: (event: unknown) => Promise<{ statusCode: number }>;
  const saved = { ...process.env };

  beforeAll(async () => {
    dynamo = await startLocalDynamo();
    api = await startFakeConnectionsApi();
    await dynamo.createConnectionsTable('snippet');
    // The environment the gateway sets on a function it wires, plus the SDK's settings for the local servers.
    Object.assign(process.env, {
      CONNECTIONS_TABLE: 'snippet',
      ROOM_INDEX,
      CALLBACK_URL: api.callbackUrl,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    });
    const out = join(WORK, 'bundle.cjs');
    buildSync({
      entryPoints: [file],
      outfile: out,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      external: ['@aws-sdk/*'],
      alias: { 'wsgate/runtime': join(ROOT, 'lambda', 'runtime', 'index.ts') },
      logLevel: 'silent',
    });
    handler = require(out).handler;
  });
  afterAll(async () => {
    process.env = saved;
    await dynamo.close();
    await api.stop();
  });

  const event = (routeKey: string, connectionId: string, body?: string) => ({
    requestContext: { routeKey, connectionId, connectedAt: 1_700_000_000_000, identity: { sourceIp: '198.51.100.1' }, authorizer: { principalId: `u-${connectionId}` } },
    ...(body === undefined ? {} : { body }),
  });

  test('GIVEN two clients WHEN they connect, subscribe, publish, ask who is there, err and say bye THEN each gets what the snippet promises', async () => {
    // GIVEN
    api.open('A=', 'B=');
    expect(await handler(event('$connect', 'A='))).toEqual({ statusCode: 200 });
    expect(await handler(event('$connect', 'B='))).toEqual({ statusCode: 200 });
    // WHEN
    for (const id of ['A=', 'B=']) await handler(event('$default', id, '{"type":"subscribe","room":"lobby"}'));
    await handler(event('$default', 'A=', '{"type":"publish","room":"lobby","text":"hi"}'));
    await handler(event('$default', 'B=', '{"type":"who","room":"lobby"}'));
    expect(await handler(event('$default', 'B=', '{"type":"subscribe","room":"no spaces"}'))).toEqual({ statusCode: 400 });
    await handler(event('$default', 'B=', '{"type":"bye"}'));
    expect(await handler(event('$disconnect', 'B='))).toEqual({ statusCode: 200 });
    // THEN
    const message = { type: 'message', room: 'lobby', from: 'u-A=', text: 'hi' };
    expect(api.received('A=')).toEqual([{ type: 'subscribed', room: 'lobby' }, message]);
    expect(api.received('B=')).toEqual([
      { type: 'subscribed', room: 'lobby' },
      message,
      { type: 'members', room: 'lobby', users: expect.arrayContaining(['u-A=', 'u-B=']) },
      { type: 'error', message: expect.stringMatching(/room "no spaces" is not a valid room name/) },
    ]);
    expect(api.deleted).toEqual(['B=']);
    expect((await dynamo.snapshot('snippet')).map((i) => `${i.pk} ${i.sk}`)).toEqual(['conn#A= meta', 'conn#A= room#lobby']);
  });
});
