/**
 * The public runtime's client (lambda/runtime/gateway-client.ts, `createGatewayClient` of `wsgate/runtime`) against a
 * real dynalite table and a real HTTP server answering like the `@connections` API, through the real AWS SDK v3
 * clients. Every method; typed errors thrown before any AWS call (proved by counting the calls and the requests).
 */
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import {
  ConfigurationError,
  ConnectionGoneError,
  GatewayClient,
  GatewayClientOptions,
  InvalidArgumentError,
  LIMITS,
  MessageTooLargeError,
  WsgateError,
  createGatewayClient,
} from '../../../lambda/runtime';
import { createLogger } from '../../../lambda/runtime/log';
import { createManagementClient } from '../../../lambda/runtime/management-client';
import * as sleepModule from '../../../lambda/runtime/sleep';
import { decodeShardMessage } from '../../../lambda/runtime/delivery/job';
import { FakeConnectionsApi, startFakeConnectionsApi } from '../support/fake-connections-api';
import { FakeQueue, startFakeQueue } from '../support/fake-sqs-queue';
import { ROOM_INDEX, TEST_CREDENTIALS, documentClientFor, useLocalDynamo } from '../support/local-dynamodb';

const silent = createLogger({}, () => undefined);

const dynamo = useLocalDynamo();
let api: FakeConnectionsApi;
let queue: FakeQueue;
let tableCount = 0;
let idCount = 0;

beforeAll(async () => {
  api = await startFakeConnectionsApi();
  queue = await startFakeQueue();
});
afterAll(async () => {
  await api.stop();
  await queue.stop();
});

function newId(): string {
  return `Gc${String(++idCount).padStart(5, '0')}-AbCdEfG`.slice(0, 15) + '=';
}

interface Setup {
  readonly gateway: GatewayClient;
  readonly table: string;
  readonly doc: DynamoDBDocumentClient;
  readonly management: ApiGatewayManagementApiClient;
  /** AWS calls made through either client so far. */
  awsCalls(): number;
  /** Inputs of the Query and Scan commands sent so far (`kind` tells them apart). */
  reads(): { kind: 'query' | 'scan'; input: Record<string, unknown> }[];
}

/** A fresh table and a client wired like a function the gateway wired (settings from the environment). */
async function setup(extra: Partial<GatewayClientOptions> = {}, env?: Record<string, string | undefined>): Promise<Setup> {
  const table = `gateway-client-${++tableCount}`;
  await dynamo.createConnectionsTable(table);
  const doc = documentClientFor(dynamo.endpoint);
  const management = createManagementClient(api.callbackUrl, { region: 'us-east-1', credentials: TEST_CREDENTIALS });
  const docSend = jest.spyOn(doc, 'send');
  const managementSend = jest.spyOn(management, 'send');
  const gateway = createGatewayClient({
    env: env ?? { CONNECTIONS_TABLE: table, ROOM_INDEX, CALLBACK_URL: api.callbackUrl, CONNECTION_TTL_SECONDS: '600', FANOUT_CONCURRENCY: '3' },
    dynamoClient: doc,
    managementClient: management,
    log: silent,
    retryBaseMs: 1,
    ...extra,
  });
  type Read = { kind: 'query' | 'scan'; input: Record<string, unknown> };
  const reads = (): Read[] =>
    docSend.mock.calls.flatMap(([command]): Read[] =>
      command instanceof QueryCommand ? [{ kind: 'query', input: command.input as Record<string, unknown> }]
        : command instanceof ScanCommand ? [{ kind: 'scan', input: command.input as Record<string, unknown> }] : []);
  return { gateway, table, doc, management, awsCalls: () => docSend.mock.calls.length + managementSend.mock.calls.length, reads };
}

function connectEvent(connectionId: string, authorizer: Record<string, unknown> | null = { principalId: `user-${connectionId}` }) {
  return {
    headers: { Host: 'abc.execute-api.local' },
    requestContext: {
      routeKey: '$connect',
      eventType: 'CONNECT',
      connectionId,
      connectedAt: 1_700_000_000_000,
      identity: { sourceIp: '192.0.2.7' },
      ...(authorizer ? { authorizer } : {}),
    },
    isBase64Encoded: false,
  };
}

/** Records `n` connections that are open on the fake `@connections` API. */
async function connect(s: Setup, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = newId();
    api.open(id);
    await s.gateway.recordConnection(connectEvent(id));
    ids.push(id);
  }
  return ids;
}

describe('createGatewayClient: connections and rooms', () => {
  test('GIVEN a $connect event WHEN recorded THEN the item holds id, principal, source IP, connection time and a TTL from CONNECTION_TTL_SECONDS', async () => {
    // GIVEN
    const s = await setup();
    const id = newId();
    const before = Math.floor(Date.now() / 1000);
    // WHEN
    const record = await s.gateway.recordConnection(connectEvent(id));
    const after = Math.floor(Date.now() / 1000);
    // THEN
    expect(record).toEqual({ connectionId: id, userId: `user-${id}`, connectedAt: 1_700_000_000_000, sourceIp: '192.0.2.7', expiresAt: expect.any(Number) });
    expect(record.expiresAt).toBeGreaterThanOrEqual(before + 600);
    expect(record.expiresAt).toBeLessThanOrEqual(after + 600);
    expect(await s.gateway.getConnection(id)).toEqual(record);
    expect(await dynamo.snapshot(s.table)).toEqual([{ pk: `conn#${id}`, sk: 'meta', ...record }]);
  });

  test('GIVEN a userId and a ttlSeconds WHEN recorded THEN they win over the principal and the configured TTL', async () => {
    const s = await setup();
    const id = newId();
    const before = Math.floor(Date.now() / 1000);
    const record = await s.gateway.recordConnection(connectEvent(id), { userId: 'dana', ttlSeconds: 60 });
    expect(record.userId).toBe('dana');
    expect(record.expiresAt - before).toBeGreaterThanOrEqual(60);
    expect(record.expiresAt - before).toBeLessThan(600);
  });

  test('GIVEN no CONNECTION_TTL_SECONDS WHEN recorded THEN the default TTL (2 hours plus 5 minutes) applies', async () => {
    const table = `gateway-client-${++tableCount}`;
    await dynamo.createConnectionsTable(table);
    const s = await setup({}, { CONNECTIONS_TABLE: table });
    const before = Math.floor(Date.now() / 1000);
    const record = await s.gateway.recordConnection(connectEvent(newId()));
    expect(record.expiresAt - before).toBeGreaterThanOrEqual(LIMITS.defaultConnectionTtlSeconds);
    expect(record.expiresAt - before).toBeLessThan(LIMITS.defaultConnectionTtlSeconds + 60);
  });

  test('GIVEN a connection in two rooms WHEN members are listed, it leaves one and is removed THEN each answer and the table say so', async () => {
    // GIVEN
    const s = await setup();
    const [a, b] = await connect(s, 2);
    const joined = await s.gateway.joinRoom(a, 'lobby');
    await s.gateway.joinRoom(a, 'kitchen');
    await s.gateway.joinRoom(b, 'lobby', { userId: 'bee' });
    // WHEN / THEN
    expect(joined).toEqual({ connectionId: a, room: 'lobby', userId: `user-${a}`, joinedAt: expect.any(Number), expiresAt: expect.any(Number) });
    expect((await s.gateway.roomMembers('lobby')).map((m) => [m.connectionId, m.userId]).sort()).toEqual(
      [
        [a, `user-${a}`],
        [b, 'bee'],
      ].sort(),
    );
    expect(await s.gateway.leaveRoom(a, 'lobby')).toBe(true);
    expect(await s.gateway.leaveRoom(a, 'lobby')).toBe(false);
    expect((await s.gateway.roomMembers('lobby')).map((m) => m.connectionId)).toEqual([b]);
    expect(await s.gateway.removeConnection(a)).toBe(2); // the record and the kitchen membership
    expect(await s.gateway.getConnection(a)).toBeUndefined();
    expect(await s.gateway.roomMembers('kitchen')).toEqual([]);
    expect((await dynamo.snapshot(s.table)).map((i) => i.pk)).toEqual([`conn#${b}`, `conn#${b}`]);
  });

  test('GIVEN a connection that was never recorded WHEN it joins without a userId THEN a ConnectionGoneError and nothing is written', async () => {
    const s = await setup();
    const id = newId();
    await expect(s.gateway.joinRoom(id, 'lobby')).rejects.toThrow(ConnectionGoneError);
    await expect(s.gateway.joinRoom(id, 'lobby')).rejects.toThrow(/is not recorded/);
    expect(await dynamo.snapshot(s.table)).toEqual([]);
  });

  test('GIVEN a room of more members than a Query page WHEN listed THEN every member is returned', async () => {
    const s = await setup({ pageSize: 2 });
    const ids = await connect(s, 5);
    for (const id of ids) await s.gateway.joinRoom(id, 'big');
    expect((await s.gateway.roomMembers('big')).map((m) => m.connectionId).sort()).toEqual([...ids].sort());
  });
});

describe('createGatewayClient: sending and closing', () => {
  test('GIVEN an open connection and a gone one WHEN sent to THEN delivered (objects as JSON) and gone, whose records are removed', async () => {
    // GIVEN
    const s = await setup();
    const [open, stale] = await connect(s, 2);
    await s.gateway.joinRoom(stale, 'lobby');
    api.close(stale);
    // WHEN / THEN
    expect(await s.gateway.send(open, { type: 'hello', n: 1 })).toBe('delivered');
    expect(await s.gateway.send(open, '{"raw":"a string is sent as it is"}')).toBe('delivered');
    expect(await s.gateway.send(stale, 'x')).toBe('gone');
    expect(api.received(open)).toEqual([{ type: 'hello', n: 1 }, { raw: 'a string is sent as it is' }]);
    expect((await dynamo.snapshot(s.table)).map((i) => i.pk)).toEqual([`conn#${open}`]);
  });

  test('GIVEN members of a room, one gone and one throttled once, and an outsider WHEN sent to the room THEN counts say so, the gone one is removed, the outsider gets nothing', async () => {
    // GIVEN
    const s = await setup();
    const [a, b, gone, throttled, outsider] = await connect(s, 5);
    for (const id of [a, b, gone, throttled]) await s.gateway.joinRoom(id, 'lobby');
    await s.gateway.joinRoom(outsider, 'kitchen');
    api.close(gone);
    api.failNext(throttled, 429, 1);
    // WHEN
    const counts = await s.gateway.sendToRoom('lobby', { type: 'news' });
    // THEN
    expect(counts).toEqual({ delivered: 3, gone: 1, failed: 0 });
    for (const id of [a, b, throttled]) expect(api.received(id)).toEqual([{ type: 'news' }]);
    expect(api.received(outsider)).toEqual([]);
    expect(await s.gateway.getConnection(gone)).toBeUndefined();
    expect((await s.gateway.roomMembers('lobby')).map((m) => m.connectionId).sort()).toEqual([a, b, throttled].sort());
  });

  test('GIVEN more connections than a Scan page, one of them gone WHEN broadcast THEN every live one gets it, page by page, and the gone one is removed', async () => {
    // GIVEN: pages of 2 items over 7 connections (plus their memberships)
    const s = await setup({ pageSize: 2 });
    const ids = await connect(s, 7);
    await s.gateway.joinRoom(ids[0], 'lobby');
    api.close(ids[6]);
    // WHEN
    const counts = await s.gateway.broadcast({ type: 'all' });
    // THEN
    expect(counts).toEqual({ delivered: 6, gone: 1, failed: 0 });
    for (const id of ids.slice(0, 6)) expect(api.received(id)).toEqual([{ type: 'all' }]);
    expect(await s.gateway.getConnection(ids[6])).toBeUndefined();
    expect(api.maxInFlight).toBeLessThanOrEqual(20);
  });

  test('GIVEN an open connection WHEN closed from the server THEN DeleteConnection ran; closing it again resolves as already gone', async () => {
    const s = await setup();
    const [id] = await connect(s, 1);
    expect(await s.gateway.close(id)).toBe('closed');
    expect(api.deleted).toContain(id);
    expect(await s.gateway.close(id)).toBe('gone');
  });

  test('GIVEN a plain DynamoDB client WHEN given as dynamoClient THEN it is wrapped in a document client and works', async () => {
    const table = `gateway-client-${++tableCount}`;
    await dynamo.createConnectionsTable(table);
    const raw = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS });
    const gateway = createGatewayClient({ tableName: table, dynamoClient: raw, env: {} });
    const id = newId();
    await gateway.recordConnection(connectEvent(id));
    expect(await gateway.getConnection(id)).toMatchObject({ connectionId: id, userId: `user-${id}` });
    raw.destroy();
  });
});

describe('createGatewayClient: typed errors before any AWS call', () => {
  const big = 'x'.repeat(LIMITS.maxPostBytes + 1);

  test.each([
    ['getConnection with an empty id', (g: GatewayClient) => g.getConnection(''), InvalidArgumentError, /connectionId must be a non-empty string/],
    ['removeConnection with a non-string id', (g: GatewayClient) => g.removeConnection(7 as unknown as string), InvalidArgumentError, /connectionId/],
    ['joinRoom with a bad room name', (g: GatewayClient) => g.joinRoom('A=', 'the lobby'), InvalidArgumentError, /room "the lobby" is not a valid room name/],
    ['joinRoom with a 65-character room', (g: GatewayClient) => g.joinRoom('A=', 'r'.repeat(65)), InvalidArgumentError, /not a valid room name/],
    ['joinRoom with an empty userId', (g: GatewayClient) => g.joinRoom('A=', 'lobby', { userId: '' }), InvalidArgumentError, /userId/],
    ['leaveRoom with an empty id', (g: GatewayClient) => g.leaveRoom('', 'lobby'), InvalidArgumentError, /connectionId/],
    ['roomMembers of a bad room', (g: GatewayClient) => g.roomMembers('a/b'), InvalidArgumentError, /not a valid room name/],
    ['send with an empty id', (g: GatewayClient) => g.send('', 'x'), InvalidArgumentError, /connectionId/],
    ['send of 131073 bytes', (g: GatewayClient) => g.send('A=', big), MessageTooLargeError, /131073 bytes; PostToConnection accepts at most 131072/],
    ['send of undefined', (g: GatewayClient) => g.send('A=', undefined as unknown as string), InvalidArgumentError, /data must be a string or an object/],
    ['sendToRoom of a bad room', (g: GatewayClient) => g.sendToRoom('', 'x'), InvalidArgumentError, /not a valid room name/],
    ['sendToRoom of an object over the limit', (g: GatewayClient) => g.sendToRoom('lobby', { big }), MessageTooLargeError, /PostToConnection accepts at most/],
    ['broadcast over the limit', (g: GatewayClient) => g.broadcast(big), MessageTooLargeError, /131073 bytes/],
    ['close with an empty id', (g: GatewayClient) => g.close(''), InvalidArgumentError, /connectionId/],
    ['recordConnection of a non-WebSocket event', (g: GatewayClient) => g.recordConnection({}), InvalidArgumentError, /no requestContext.connectionId/],
    ['recordConnection without principal or userId', (g: GatewayClient) => g.recordConnection(connectEvent('A=', null)), InvalidArgumentError, /principalId.*pass \{ userId \}/],
    ['recordConnection with a TTL of 0', (g: GatewayClient) => g.recordConnection(connectEvent('A='), { ttlSeconds: 0 }), InvalidArgumentError, /ttlSeconds must be a whole number/],
  ] as const)('GIVEN %s WHEN called THEN it rejects with the typed error and no AWS request was made', async (_n, call, type, pattern) => {
    // GIVEN
    const s = await setup();
    const requestsBefore = api.requestCount;
    // WHEN
    const outcome = call(s.gateway);
    // THEN
    await expect(outcome).rejects.toThrow(type);
    await expect(outcome).rejects.toThrow(pattern);
    await expect(outcome).rejects.toBeInstanceOf(WsgateError);
    expect(s.awsCalls()).toBe(0);
    expect(api.requestCount).toBe(requestsBefore);
    expect(await dynamo.snapshot(s.table)).toEqual([]);
  });

  test.each([
    ['getConnection', 'CONNECTIONS_TABLE', (g: GatewayClient) => g.getConnection('A=')],
    ['recordConnection', 'CONNECTIONS_TABLE', (g: GatewayClient) => g.recordConnection(connectEvent('A='))],
    ['roomMembers', 'ROOM_INDEX', (g: GatewayClient) => g.roomMembers('lobby')],
    ['sendToRoom', 'ROOM_INDEX', (g: GatewayClient) => g.sendToRoom('lobby', 'x')],
    ['send', 'CALLBACK_URL', (g: GatewayClient) => g.send('A=', 'x')],
    ['close', 'CALLBACK_URL', (g: GatewayClient) => g.close('A=')],
  ] as const)('GIVEN a function that was never wired to the gateway WHEN %s is called THEN a ConfigurationError names %s and no request was made', async (_m, variable, call) => {
    // GIVEN: only the variables other than the one under test
    const env: Record<string, string> = { CONNECTIONS_TABLE: 'T', ROOM_INDEX, CALLBACK_URL: api.callbackUrl };
    delete env[variable];
    const doc = documentClientFor(dynamo.endpoint);
    const docSend = jest.spyOn(doc, 'send');
    const gateway = createGatewayClient({ env, dynamoClient: doc, log: silent });
    const requestsBefore = api.requestCount;
    // WHEN
    const outcome = call(gateway);
    // THEN
    await expect(outcome).rejects.toThrow(ConfigurationError);
    await expect(outcome).rejects.toThrow(new RegExp(`${variable} is not set.*wire this function to the gateway`));
    await expect(outcome).rejects.toMatchObject({ code: 'CONFIGURATION' });
    expect(docSend).not.toHaveBeenCalled();
    expect(api.requestCount).toBe(requestsBefore);
  });

  test('GIVEN an invalid FANOUT_CONCURRENCY WHEN broadcasting THEN a ConfigurationError names it before any request', async () => {
    const s = await setup({}, { CONNECTIONS_TABLE: 'T', CALLBACK_URL: api.callbackUrl, FANOUT_CONCURRENCY: '0' });
    await expect(s.gateway.broadcast('x')).rejects.toThrow(/FANOUT_CONCURRENCY is "0"; expected a whole number from 1 to 1000/);
    expect(s.awsCalls()).toBe(0);
  });

  test('GIVEN an invalid option in place of a variable WHEN it is needed THEN a ConfigurationError names the option', async () => {
    const s = await setup({ connectionTtlSeconds: -5 });
    await expect(s.gateway.recordConnection(connectEvent('A='))).rejects.toThrow(/option connectionTtlSeconds \(in place of CONNECTION_TTL_SECONDS\) is invalid/);
    expect(s.awsCalls()).toBe(0);
  });

  test('GIVEN an empty environment WHEN the client is created THEN it does not throw (settings are read on first use)', () => {
    expect(() => createGatewayClient({ env: {} })).not.toThrow();
  });
});

describe('createGatewayClient: argument checks, descriptions, gone answers, options and sharded sends in detail', () => {
  const ROOM_RULE = 'is not a valid room name; expected 1 to 64 characters of letters, digits, ".", "_" or "-"';
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const maxTtl = LIMITS.maxConnectionTtlSeconds;
  const circular: Record<string, unknown> = {};
  circular.self = circular;

  test.each([
    ['a numeric room', (g: GatewayClient) => g.joinRoom('A=', 7 as unknown as string), `room 7 ${ROOM_RULE}`],
    ['a null room', (g: GatewayClient) => g.leaveRoom('A=', null as unknown as string), `room null ${ROOM_RULE}`],
    ['an object as room', (g: GatewayClient) => g.sendToRoom({} as unknown as string, 'x'), `room an object ${ROOM_RULE}`],
    ['a room of 70 characters (cut at 64)', (g: GatewayClient) => g.roomMembers('r'.repeat(70)), `room "${'r'.repeat(64)}"… ${ROOM_RULE}`],
    ['an invalid room of exactly 64 characters (shown whole)', (g: GatewayClient) => g.joinRoom('A=', `a b${'c'.repeat(61)}`), `room "a b${'c'.repeat(61)}" ${ROOM_RULE}`],
    ['a numeric userId', (g: GatewayClient) => g.joinRoom('A=', 'lobby', { userId: 5 as unknown as string }), 'userId must be a non-empty string, got 5'],
    ['a null userId', (g: GatewayClient) => g.recordConnection(connectEvent('A='), { userId: null as unknown as string }), 'userId must be a non-empty string, got null'],
    ['an undefined connection id', (g: GatewayClient) => g.getConnection(undefined as unknown as string), 'connectionId must be a non-empty string, got undefined'],
    ['an object as connection id', (g: GatewayClient) => g.removeConnection({} as unknown as string), 'connectionId must be a non-empty string, got an object'],
    ['a TTL of 1.5 s', (g: GatewayClient) => g.recordConnection(connectEvent('A='), { ttlSeconds: 1.5 }), `ttlSeconds must be a whole number of seconds from 1 to ${maxTtl}, got 1.5`],
    ['a TTL given as text', (g: GatewayClient) => g.recordConnection(connectEvent('A='), { ttlSeconds: '60' as unknown as number }), `ttlSeconds must be a whole number of seconds from 1 to ${maxTtl}, got "60"`],
    ['a TTL one over the maximum', (g: GatewayClient) => g.recordConnection(connectEvent('A='), { ttlSeconds: maxTtl + 1 }), `ttlSeconds must be a whole number of seconds from 1 to ${maxTtl}, got ${maxTtl + 1}`],
    ['a number as data', (g: GatewayClient) => g.send('A=', 42 as unknown as string), 'data must be a string or an object, got 42'],
    ['null as data', (g: GatewayClient) => g.send('A=', null as unknown as string), 'data must be a string or an object, got null'],
    ['null as data to a room', (g: GatewayClient) => g.sendToRoom('lobby', null as unknown as string), 'data must be a string or an object, got null'],
    ['a circular object as data', (g: GatewayClient) => g.broadcast(circular), 'data could not be turned into JSON: Converting circular structure to JSON'],
  ] as const)('GIVEN %s WHEN called THEN an InvalidArgumentError says exactly what was wrong, before any AWS call', async (_n, call, message) => {
    // GIVEN a client that would shard any audience (so a missed check would reach the planner or the queue)
    const s = await setup({ deliveryQueueUrl: queue.url, sqsClient: queue.client, shardedAbove: 0 });
    const queueRequests = queue.requestCount;
    const requestsBefore = api.requestCount;
    // WHEN
    const outcome = call(s.gateway);
    // THEN
    await expect(outcome).rejects.toThrow(InvalidArgumentError);
    await expect(outcome).rejects.toThrow(new RegExp(`^${escape(message)}`));
    expect(s.awsCalls()).toBe(0);
    expect(api.requestCount).toBe(requestsBefore);
    expect(queue.requestCount).toBe(queueRequests);
  });

  test.each([
    ['sendToRoom', (g: GatewayClient, data: string) => g.sendToRoom('lobby', data)],
    ['broadcast', (g: GatewayClient, data: string) => g.broadcast(data)],
  ] as const)('GIVEN a delivery queue WHEN %s is given 131,073 bytes THEN a MessageTooLargeError before the audience is read or a job enqueued', async (_m, call) => {
    // GIVEN: the messenger's own size check is never reached on this path (the planner reads first)
    const s = await setup({ deliveryQueueUrl: queue.url, sqsClient: queue.client, shardedAbove: 0 });
    const queueRequests = queue.requestCount;
    // WHEN
    const outcome = call(s.gateway, 'é'.repeat(65_536) + 'x');
    // THEN
    await expect(outcome).rejects.toThrow(MessageTooLargeError);
    await expect(outcome).rejects.toThrow(/^the message is 131073 bytes; PostToConnection accepts at most 131072 bytes$/);
    expect(s.awsCalls()).toBe(0);
    expect(queue.requestCount).toBe(queueRequests);
  });

  test('GIVEN data of exactly 131,072 bytes WHEN sent THEN it is delivered', async () => {
    const s = await setup();
    const [id] = await connect(s, 1);
    const text = JSON.stringify('x'.repeat(LIMITS.maxPostBytes - 2));
    expect(Buffer.byteLength(text)).toBe(LIMITS.maxPostBytes);
    expect(await s.gateway.send(id, text)).toBe('delivered');
    expect(api.received(id)).toEqual(['x'.repeat(LIMITS.maxPostBytes - 2)]);
  });

  test('GIVEN TTLs of 1 s and of the maximum WHEN recorded THEN both are accepted and set expiresAt', async () => {
    const s = await setup();
    const before = Math.floor(Date.now() / 1000);
    const short = await s.gateway.recordConnection(connectEvent(newId()), { ttlSeconds: 1 });
    const long = await s.gateway.recordConnection(connectEvent(newId()), { ttlSeconds: maxTtl });
    const after = Math.floor(Date.now() / 1000);
    expect(short.expiresAt).toBeGreaterThanOrEqual(before + 1);
    expect(short.expiresAt).toBeLessThanOrEqual(after + 1);
    expect(long.expiresAt).toBeGreaterThanOrEqual(before + maxTtl);
    expect(long.expiresAt).toBeLessThanOrEqual(after + maxTtl);
  });

  test('GIVEN DeleteConnection answers of each kind WHEN closing THEN Gone/NotFound by name or 410/404 by status are "gone", anything else rejects', async () => {
    // GIVEN a server answering DeleteConnection with the status and x-amzn-ErrorType scripted per connection id
    const answers: Record<string, [number, string]> = {
      'GoneByName=': [400, 'GoneException'],
      'NotFoundByName=': [400, 'NotFoundException'],
      'By410=': [410, 'BadRequestException'],
      'By404=': [404, 'BadRequestException'],
      'Forbidden=': [403, 'ForbiddenException'],
      'BadRequest=': [400, 'BadRequestException'],
    };
    const server = createServer((req, res) => {
      const id = decodeURIComponent(String(req.url).split('/').pop() ?? '');
      const [status, type] = answers[id] ?? [500, 'InternalServerErrorException'];
      req.resume();
      res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-ErrorType': type }).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const management = createManagementClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}/test`, { region: 'us-east-1', credentials: TEST_CREDENTIALS });
    const gateway = createGatewayClient({ env: {}, callbackUrl: 'https://unused.example/test', managementClient: management, log: silent });
    try {
      // WHEN / THEN
      for (const id of ['GoneByName=', 'NotFoundByName=', 'By410=', 'By404=']) expect([id, await gateway.close(id)]).toEqual([id, 'gone']);
      await expect(gateway.close('Forbidden=')).rejects.toMatchObject({ name: 'ForbiddenException', $metadata: { httpStatusCode: 403 } });
      await expect(gateway.close('BadRequest=')).rejects.toMatchObject({ name: 'BadRequestException', $metadata: { httpStatusCode: 400 } });
    } finally {
      management.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('GIVEN a client failing with an error that has no $metadata WHEN closing THEN that error rejects unchanged', async () => {
    // GIVEN a real client whose first middleware throws a plain Error (as a credentials or signing failure does)
    const management = createManagementClient(api.callbackUrl, { region: 'us-east-1', credentials: TEST_CREDENTIALS });
    management.middlewareStack.add(() => async () => {
      throw new Error('no credentials in this test');
    }, { step: 'initialize' });
    const gateway = createGatewayClient({ env: { CALLBACK_URL: api.callbackUrl }, managementClient: management, log: silent });
    // WHEN / THEN
    await expect(gateway.close('A=')).rejects.toThrow(/^no credentials in this test$/);
  });

  test('GIVEN pageSize WHEN rooms are listed and broadcast THEN every Query and Scan asks for that many items; without it none sets Limit', async () => {
    // GIVEN
    const paged = await setup({ pageSize: 2 });
    const plain = await setup();
    for (const s of [paged, plain]) {
      const ids = await connect(s, 3);
      for (const id of ids) await s.gateway.joinRoom(id, 'lobby');
      // WHEN
      expect(await s.gateway.roomMembers('lobby')).toHaveLength(3);
      expect(await s.gateway.broadcast('x')).toEqual({ delivered: 3, gone: 0, failed: 0 });
    }
    // THEN
    expect(paged.reads().length).toBeGreaterThan(2);
    expect(new Set(paged.reads().map((r) => r.kind))).toEqual(new Set(['query', 'scan']));
    expect(paged.reads().map((r) => r.input.Limit)).toEqual(paged.reads().map(() => 2));
    expect(plain.reads().map((r) => r.input.Limit)).toEqual(plain.reads().map(() => undefined));
  });

  test('GIVEN maxSendAttempts 2 WHEN a post is throttled twice THEN it fails after 2 attempts; by default 3 throttles are retried (4 attempts)', async () => {
    const two = await setup({ maxSendAttempts: 2 });
    const byDefault = await setup();
    const [a] = await connect(two, 1);
    const [b] = await connect(byDefault, 1);
    api.failNext(a, 429, 2);
    api.failNext(b, 429, 3);
    expect(await two.gateway.send(a, 'x')).toBe('failed');
    expect(await byDefault.gateway.send(b, '"y"')).toBe('delivered');
    expect(api.attempts.filter((t) => t.id === a).map((t) => t.status)).toEqual([429, 429]);
    expect(api.attempts.filter((t) => t.id === b).map((t) => t.status)).toEqual([429, 429, 429, 200]);
  });

  test('GIVEN retryBaseMs 40 WHEN a post is throttled once THEN the one backoff asked for is between 20 and 40 ms (half fixed, half jitter)', async () => {
    // GIVEN: the waits are observed as the values handed to the runtime's sleep() (still waited for), not measured
    const s = await setup({ retryBaseMs: 40 });
    const [id] = await connect(s, 1);
    api.failNext(id, 429, 1);
    const sleeps = jest.spyOn(sleepModule, 'sleep');
    try {
      // WHEN
      expect(await s.gateway.send(id, '"z"')).toBe('delivered');
      // THEN
      const waits = sleeps.mock.calls.map((c) => c[0]);
      expect(waits).toHaveLength(1);
      expect(waits[0]).toBeGreaterThanOrEqual(20);
      expect(waits[0]).toBeLessThanOrEqual(40);
    } finally {
      sleeps.mockRestore();
    }
  });

  test('GIVEN a log WHEN a post fails THEN the failure is written to it; without one the line goes to stdout as component wsgate-runtime', async () => {
    // GIVEN
    const lines: Record<string, unknown>[] = [];
    const s = await setup({ log: createLogger({ mine: true }, (line) => lines.push(JSON.parse(line) as Record<string, unknown>)) });
    const [id] = await connect(s, 1);
    api.failNext(id, 403, 2);
    // WHEN
    expect(await s.gateway.send(id, 'x')).toBe('failed');
    // THEN
    expect(lines).toEqual([expect.objectContaining({ level: 'warn', event: 'post_failed', connectionId: id, mine: true, httpStatus: 403 })]);
    // GIVEN / WHEN without a log option
    const table = `gateway-client-${++tableCount}`;
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const gateway = createGatewayClient({
        env: { CONNECTIONS_TABLE: table, CALLBACK_URL: api.callbackUrl },
        dynamoClient: documentClientFor(dynamo.endpoint),
        managementClient: s.management,
      });
      expect(await gateway.send(id, 'x')).toBe('failed');
      // THEN
      const written = out.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('post_failed'));
      expect(written.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
        expect.objectContaining({ level: 'warn', event: 'post_failed', component: 'wsgate-runtime', connectionId: id }),
      ]);
    } finally {
      out.mockRestore();
    }
  });

  test('GIVEN a setting read once WHEN its variable changes afterwards THEN the client keeps the value it read first', async () => {
    const table = `gateway-client-${++tableCount}`;
    await dynamo.createConnectionsTable(table);
    const env: Record<string, string> = { CONNECTIONS_TABLE: table, CONNECTION_TTL_SECONDS: '600' };
    const s = await setup({}, env);
    const first = await s.gateway.recordConnection(connectEvent(newId()));
    env.CONNECTION_TTL_SECONDS = '60';
    const before = Math.floor(Date.now() / 1000);
    const second = await s.gateway.recordConnection(connectEvent(newId()));
    expect(second.expiresAt - before).toBeGreaterThanOrEqual(600);
    expect(second.expiresAt - first.expiresAt).toBeGreaterThanOrEqual(0);
  });

  test('GIVEN no clients given WHEN used THEN the DynamoDB and @connections clients are built from the SDK configuration and the callback URL', async () => {
    // GIVEN the SDK's own configuration pointing at the local table (as AWS_ENDPOINT_URL_DYNAMODB does for a local run)
    const table = `gateway-client-${++tableCount}`;
    await dynamo.createConnectionsTable(table);
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint, AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    });
    try {
      const gateway = createGatewayClient({ env: { CONNECTIONS_TABLE: table, ROOM_INDEX, CALLBACK_URL: api.callbackUrl }, log: silent });
      const id = newId();
      api.open(id);
      // WHEN
      await gateway.recordConnection(connectEvent(id));
      await gateway.joinRoom(id, 'lobby');
      // THEN
      expect(await gateway.sendToRoom('lobby', { hi: 1 })).toEqual({ delivered: 1, gone: 0, failed: 0 });
      expect(api.received(id)).toEqual([{ hi: 1 }]);
      expect(await gateway.close(id)).toBe('closed');
    } finally {
      process.env = saved;
    }
  });

  test('GIVEN a plain DynamoDB client WHEN every table operation runs through it THEN it works as the document client does', async () => {
    const table = `gateway-client-${++tableCount}`;
    await dynamo.createConnectionsTable(table);
    const raw = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS });
    const management = createManagementClient(api.callbackUrl, { region: 'us-east-1', credentials: TEST_CREDENTIALS });
    const gateway = createGatewayClient({ tableName: table, roomIndex: ROOM_INDEX, callbackUrl: api.callbackUrl, dynamoClient: raw, managementClient: management, env: {}, log: silent, pageSize: 1 });
    const [a, b] = [newId(), newId()];
    api.open(a, b);
    const event = connectEvent(a);
    delete (event.requestContext as { identity?: unknown }).identity;
    await gateway.recordConnection(event);
    await gateway.recordConnection(connectEvent(b));
    await gateway.joinRoom(a, 'lobby');
    expect((await gateway.roomMembers('lobby')).map((m) => m.connectionId)).toEqual([a]);
    expect(await gateway.broadcast({ n: 2 })).toEqual({ delivered: 2, gone: 0, failed: 0 });
    expect(await gateway.leaveRoom(a, 'lobby')).toBe(true);
    expect(await gateway.removeConnection(a)).toBe(1);
    expect(await gateway.getConnection(b)).toMatchObject({ connectionId: b });
    raw.destroy();
  });

  describe('with a delivery queue', () => {
    test('GIVEN a room above shardedAbove WHEN sent to THEN one job of ceil(n / shardSize) shards is enqueued, logged, and nothing is posted here', async () => {
      // GIVEN 5 members, sharded above 2, 2 per shard, read 2 per page
      const lines: Record<string, unknown>[] = [];
      const s = await setup({
        deliveryQueueUrl: queue.url, sqsClient: queue.client, shardedAbove: 2, shardSize: 2, pageSize: 2,
        log: createLogger({}, (line) => lines.push(JSON.parse(line) as Record<string, unknown>)),
      });
      const members = await connect(s, 5);
      for (const id of members) await s.gateway.joinRoom(id, 'big');
      queue.drain();
      const postsBefore = api.attempts.length;
      // WHEN
      const counts = await s.gateway.sendToRoom('big', { tag: 'job' });
      // THEN
      expect(counts).toEqual({ delivered: 0, gone: 0, failed: 0, queued: 5, jobId: expect.any(String), shards: 3 });
      const messages = queue.drain().map((b) => decodeShardMessage(b));
      expect(messages.map((m) => [m.jobId, m.index, m.shards, m.data, m.shard.kind])).toEqual([0, 1, 2].map((i) => [counts.jobId, i, 3, '{"tag":"job"}', 'room']));
      expect(lines.filter((l) => l.event === 'delivery_job_enqueued')).toEqual([
        expect.objectContaining({ level: 'info', jobId: counts.jobId, shards: 3, recipients: 5 }),
      ]);
      const plannerReads = s.reads().filter((r) => r.input.ProjectionExpression === 'connectionId');
      expect(plannerReads.length).toBeGreaterThan(1);
      expect(plannerReads.map((r) => [r.kind, r.input.TableName, r.input.IndexName, r.input.Limit])).toEqual(plannerReads.map(() => ['query', s.table, ROOM_INDEX, 2]));
      expect(api.attempts.length).toBe(postsBefore);
    });

    test('GIVEN every connection above shardedAbove WHEN broadcast THEN Scan segments are enqueued', async () => {
      const s = await setup({ deliveryQueueUrl: queue.url, sqsClient: queue.client, shardedAbove: 2, shardSize: 2 });
      await connect(s, 3);
      queue.drain();
      const counts = await s.gateway.broadcast('all');
      expect(counts).toMatchObject({ delivered: 0, queued: 3, shards: 2 });
      expect(queue.drain().map((b) => decodeShardMessage(b).shard)).toEqual([
        { kind: 'broadcast', segment: 0, totalSegments: 2 },
        { kind: 'broadcast', segment: 1, totalSegments: 2 },
      ]);
      const plannerReads = s.reads().filter((r) => r.input.ProjectionExpression === 'connectionId');
      expect(plannerReads.map((r) => [r.kind, r.input.TableName, r.input.Limit])).toEqual([['scan', s.table, undefined]]);
    });

    test('GIVEN an audience at shardedAbove WHEN sent to a room and broadcast THEN this function posts to it directly and enqueues nothing', async () => {
      const s = await setup({ deliveryQueueUrl: queue.url, sqsClient: queue.client, shardedAbove: 3 });
      const ids = await connect(s, 3);
      for (const id of ids) await s.gateway.joinRoom(id, 'small');
      const queueRequests = queue.requestCount;
      expect(await s.gateway.sendToRoom('small', { tag: 'direct' })).toEqual({ delivered: 3, gone: 0, failed: 0 });
      expect(await s.gateway.broadcast({ tag: 'direct-all' })).toEqual({ delivered: 3, gone: 0, failed: 0 });
      for (const id of ids) expect(api.received(id)).toEqual([{ tag: 'direct' }, { tag: 'direct-all' }]);
      expect(queue.requestCount).toBe(queueRequests);
    });

    test('GIVEN shardedAbove but no delivery queue WHEN a large room is sent to and broadcast THEN this function posts to everyone itself', async () => {
      const sqsSend = jest.spyOn(queue.client, 'send');
      try {
        const s = await setup({ shardedAbove: 1, shardSize: 1, sqsClient: queue.client });
        const ids = await connect(s, 3);
        for (const id of ids) await s.gateway.joinRoom(id, 'wide');
        expect(await s.gateway.sendToRoom('wide', { tag: 'self' })).toEqual({ delivered: 3, gone: 0, failed: 0 });
        expect(await s.gateway.broadcast({ tag: 'self-all' })).toEqual({ delivered: 3, gone: 0, failed: 0 });
        for (const id of ids) expect(api.received(id)).toEqual([{ tag: 'self' }, { tag: 'self-all' }]);
        expect(sqsSend).not.toHaveBeenCalled();
      } finally {
        sqsSend.mockRestore();
      }
    });
  });
});
