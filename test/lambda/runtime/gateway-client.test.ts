/**
 * The public runtime's client (lambda/runtime/gateway-client.ts, `createGatewayClient` of `wsgate/runtime`) against a
 * real dynalite table and a real HTTP server answering like the `@connections` API, through the real AWS SDK v3
 * clients. Every method; typed errors thrown before any AWS call (proved by counting the calls and the requests).
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
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
import { FakeConnectionsApi, startFakeConnectionsApi } from '../support/fake-connections-api';
import { LocalDynamo, ROOM_INDEX, TEST_CREDENTIALS, documentClientFor, startLocalDynamo } from '../support/local-dynamodb';

const silent = createLogger({}, () => undefined);

let dynamo: LocalDynamo;
let api: FakeConnectionsApi;
let tableCount = 0;
let idCount = 0;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  api = await startFakeConnectionsApi();
});
afterAll(async () => {
  await dynamo.close();
  await api.stop();
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
  return { gateway, table, doc, management, awsCalls: () => docSend.mock.calls.length + managementSend.mock.calls.length };
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
