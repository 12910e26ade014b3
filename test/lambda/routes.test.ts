/**
 * The route handlers ($connect, $disconnect, $default, join, leave, sendmessage) driven end to end through their
 * factories with real clients: a real dynalite table and a real HTTP server answering like `@connections`
 * (spec §5). Then the real handler modules and bundles, wired from the environment.
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { ConnectionStore } from '../../lambda/runtime/connection-store';
import { createLogger } from '../../lambda/runtime/log';
import { createManagementClient } from '../../lambda/runtime/management-client';
import { Messenger } from '../../lambda/runtime/messenger';
import { ChatRouteDeps } from '../../lambda/chat/routes/chat-route';
import { createConnectHandler } from '../../lambda/gateway/routes/connect-route';
import { createDefaultHandler } from '../../lambda/gateway/routes/default-route';
import { createDisconnectHandler } from '../../lambda/gateway/routes/disconnect-route';
import { createJoinHandler } from '../../lambda/chat/routes/join-route';
import { createLeaveHandler } from '../../lambda/chat/routes/leave-route';
import { createSendMessageHandler } from '../../lambda/chat/routes/send-message-route';
import { FakeConnectionsApi, startFakeConnectionsApi } from './support/fake-connections-api';
import { INVALID_FRAMES } from './support/invalid-frames';
import { invokeBundle } from './support/invoke-bundle';
import { ROOM_INDEX, TEST_CREDENTIALS, closedPort, documentClientFor, useLocalDynamo } from './support/local-dynamodb';

const NOW_MS = 1_800_000_000_000;
const NOW_S = NOW_MS / 1000;
const TTL = 7500;
const ROUTE_KEYS = ['join', 'leave', 'sendmessage'];
const clock = () => NOW_MS;
const silent = createLogger({}, () => undefined);

const dynamo = useLocalDynamo();
let api: FakeConnectionsApi;
let client: ApiGatewayManagementApiClient;
let unreachableEndpoint: string;
let tableCount = 0;

beforeAll(async () => {
  api = await startFakeConnectionsApi();
  client = createManagementClient(api.callbackUrl, { region: 'us-east-1', credentials: TEST_CREDENTIALS });
  unreachableEndpoint = `http://127.0.0.1:${await closedPort()}`;
});
afterAll(async () => {
  client.destroy();
  await api.stop();
});

let idCount = 0;
/** Connection ids shaped like API Gateway's (spec §1: 16 chars, URL-safe base64, ends with `=`). */
function newId(): string {
  return `Id${String(++idCount).padStart(4, '0')}_x-AbCdEf`.slice(0, 15) + '=';
}

interface World {
  table: string;
  store: ConnectionStore;
  deps: ChatRouteDeps & { connectionTtlSeconds: number };
}

async function world(options: { pageSize?: number; endpoint?: string } = {}): Promise<World> {
  const table = `routes-${++tableCount}`;
  await dynamo.createConnectionsTable(table);
  const doc = options.endpoint ? documentClientFor(options.endpoint) : dynamo.doc;
  const store = new ConnectionStore({ client: doc, tableName: table, roomIndex: ROOM_INDEX, pageSize: options.pageSize, clock });
  const messenger = new Messenger({ client, removeConnection: (id) => store.deleteConnection(id), sleep: async () => undefined, log: silent });
  return { table, store, deps: { store, messenger, clock, log: silent, connectionTtlSeconds: TTL } };
}

function connectEvent(connectionId: string, opts: { principalId?: string; headers?: Record<string, string> } = {}) {
  return {
    headers: { Host: 'abc.execute-api.local', ...opts.headers },
    requestContext: {
      routeKey: '$connect',
      eventType: 'CONNECT',
      connectionId,
      connectedAt: NOW_MS - 5,
      identity: { sourceIp: '127.0.0.1' },
      ...(opts.principalId === undefined ? {} : { authorizer: { principalId: opts.principalId, integrationLatency: 3 } }),
    },
    isBase64Encoded: false,
  };
}

function messageEvent(connectionId: string, body: unknown, principalId: string | undefined = `user-${connectionId}`) {
  return {
    requestContext: {
      routeKey: 'join',
      eventType: 'MESSAGE',
      connectionId,
      identity: { sourceIp: '127.0.0.1' },
      ...(principalId ? { authorizer: { principalId } } : {}),
    },
    body,
    isBase64Encoded: false,
  };
}

/**
 * Whether an invalid frame is refused on `route` with the error the whole-frame parser gives: a body that is not a
 * JSON object, or a frame of that route's action with no other top-level field. (A route reads only "data", so a
 * frame whose only fault is its "action" or an extra top-level field is served.)
 */
function refusedOnRoute(body: unknown, route: string): boolean {
  let value: unknown;
  try {
    value = typeof body === 'string' ? JSON.parse(body) : undefined;
  } catch {
    return true;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return true;
  const obj = value as Record<string, unknown>;
  return obj.action === route && Object.keys(obj).every((k) => k === 'action' || k === 'data');
}

function disconnectEvent(connectionId: string) {
  return { requestContext: { routeKey: '$disconnect', eventType: 'DISCONNECT', connectionId, disconnectStatusCode: 1005 } };
}

/** Connects `n` clients (open on the fake API, recorded in the table) and returns their ids. */
async function connectClients(w: World, n: number): Promise<string[]> {
  const connect = createConnectHandler({ ...w.deps, subprotocols: [] });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = newId();
    api.open(id);
    expect(await connect(connectEvent(id, { principalId: `user-${id}` }))).toEqual({ statusCode: 200 });
    ids.push(id);
  }
  return ids;
}

describe('$connect (spec §2.1, §2.3)', () => {
  test('GIVEN an authorized connect WHEN handled THEN the connection item is recorded exactly as the item model says and nothing is posted', async () => {
    // GIVEN
    const w = await world();
    const id = newId();
    const posts = api.attempts.length;
    // WHEN
    const result = await createConnectHandler({ ...w.deps, subprotocols: [] })(connectEvent(id, { principalId: 'alice' }));
    // THEN
    expect(result).toEqual({ statusCode: 200 });
    expect(await dynamo.snapshot(w.table)).toEqual([
      { pk: `conn#${id}`, sk: 'meta', connectionId: id, userId: 'alice', connectedAt: NOW_MS - 5, sourceIp: '127.0.0.1', expiresAt: NOW_S + TTL },
    ]);
    // spec §2.1.5: never post from $connect
    expect(api.attempts.length).toBe(posts);
  });

  test('GIVEN an IAM-authorized connect (no authorizer; the signer in identity.userArn) WHEN handled THEN the signer\'s ARN is the recorded user; with neither THEN 403 and nothing is written', async () => {
    // GIVEN
    const w = await world();
    const connect = createConnectHandler({ ...w.deps, subprotocols: [] });
    const id = newId();
    const signer = 'arn:aws:sts::123456789012:assumed-role/Backend/worker-1';
    const event = connectEvent(id);
    (event.requestContext.identity as Record<string, unknown>).userArn = signer;
    // WHEN
    const result = await connect(event);
    // THEN
    expect(result).toEqual({ statusCode: 200 });
    expect(await dynamo.snapshot(w.table)).toEqual([expect.objectContaining({ connectionId: id, userId: signer })]);
    expect(await connect(connectEvent(newId()))).toEqual({ statusCode: 403, body: 'no authorized identity' });
    expect(await dynamo.snapshot(w.table)).toHaveLength(1);
  });

  test('GIVEN the same connect event twice WHEN handled THEN one item (idempotent upsert)', async () => {
    const w = await world();
    const connect = createConnectHandler({ ...w.deps, subprotocols: [] });
    const id = newId();
    await connect(connectEvent(id, { principalId: 'alice' }));
    await connect(connectEvent(id, { principalId: 'alice' }));
    expect(await dynamo.snapshot(w.table)).toHaveLength(1);
  });

  test.each([
    ['Sec-WebSocket-Protocol', 'chat.v1'],
    ['sec-websocket-protocol', 'foo, chat.v2, chat.v1'],
    ['SEC-WEBSOCKET-PROTOCOL', ' chat.v1 '],
  ])('GIVEN the client offers subprotocols in header %s WHEN connecting THEN the first supported offer is echoed', async (name, offer) => {
    const w = await world();
    const connect = createConnectHandler({ ...w.deps, subprotocols: ['chat.v2', 'chat.v1'] });
    const expected = offer.split(',').map((s) => s.trim()).find((p) => p === 'chat.v1' || p === 'chat.v2');
    const result = await connect(connectEvent(newId(), { principalId: 'a', headers: { [name]: offer } }));
    expect(result).toEqual({ statusCode: 200, headers: { 'Sec-WebSocket-Protocol': expected } });
    expect(await dynamo.snapshot(w.table)).toHaveLength(1);
  });

  test.each([
    ['no supported offer', ['chat.v1'], 'mqtt, graphql-ws'],
    ['SUBPROTOCOLS empty', [], 'chat.v1'],
  ])('GIVEN %s WHEN connecting THEN 400 and nothing is written', async (_n, supported, offer) => {
    const w = await world();
    const result = await createConnectHandler({ ...w.deps, subprotocols: supported })(
      connectEvent(newId(), { principalId: 'a', headers: { 'Sec-WebSocket-Protocol': offer } }),
    );
    expect(result.statusCode).toBe(400);
    expect(result.headers).toBeUndefined();
    expect(await dynamo.snapshot(w.table)).toEqual([]);
  });

  test('GIVEN a client that carries a token in Sec-WebSocket-Protocol WHEN refused THEN the log line counts the offers and never shows them', async () => {
    // GIVEN
    const w = await world();
    const lines: string[] = [];
    const secret = 'eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2ln';
    const connect = createConnectHandler({ ...w.deps, log: createLogger({}, (l) => lines.push(l)), subprotocols: ['chat.v1'] });
    // WHEN
    const result = await connect(connectEvent(newId(), { principalId: 'a', headers: { 'Sec-WebSocket-Protocol': `bearer, ${secret}` } }));
    // THEN
    expect(result.statusCode).toBe(400);
    const rejected = lines.map((l) => JSON.parse(l)).filter((l) => l.event === 'connect_rejected');
    expect(rejected).toEqual([expect.objectContaining({ reason: 'no supported subprotocol offered', offeredCount: 2 })]);
    expect(lines.join('\n')).not.toContain(secret);
    expect(lines.join('\n')).not.toContain('bearer');
  });

  test.each([
    ['no authorizer principal', connectEvent('NoPrincipal0000=')],
    ['no connectionId', { requestContext: { authorizer: { principalId: 'a' } } }],
    ['a null event', null],
    ['a string event', 'connect'],
  ])('GIVEN %s WHEN connecting THEN a 4xx answer, no throw, nothing written', async (_n, event) => {
    const w = await world();
    const result = await createConnectHandler({ ...w.deps, subprotocols: [] })(event);
    expect(result.statusCode).toBeGreaterThanOrEqual(400);
    expect(result.statusCode).toBeLessThan(500);
    expect(await dynamo.snapshot(w.table)).toEqual([]);
  });

  test('GIVEN DynamoDB is unreachable WHEN connecting THEN a 5xx answer and no item', async () => {
    const w = await world({ endpoint: unreachableEndpoint });
    const result = await createConnectHandler({ ...w.deps, subprotocols: [] })(connectEvent(newId(), { principalId: 'a' }));
    expect(result.statusCode).toBe(500);
    expect(await dynamo.snapshot(w.table)).toEqual([]);
  });
});

describe('$disconnect (spec §2.5)', () => {
  test('GIVEN a connection in two rooms WHEN it disconnects THEN its item and memberships are removed and others stay', async () => {
    const w = await world();
    const [leaver, stayer] = await connectClients(w, 2);
    const joinRoute = createJoinHandler(w.deps);
    for (const room of ['lobby', 'kitchen']) await joinRoute(messageEvent(leaver, JSON.stringify({ action: 'join', data: { room } })));
    await joinRoute(messageEvent(stayer, '{"action":"join","data":{"room":"lobby"}}'));

    expect(await createDisconnectHandler(w.deps)(disconnectEvent(leaver))).toEqual({ statusCode: 200 });

    expect((await dynamo.snapshot(w.table)).map((i) => i.sk)).toEqual(['meta', 'room#lobby']);
    expect((await dynamo.snapshot(w.table)).every((i) => i.connectionId === stayer)).toBe(true);
  });

  test('GIVEN DynamoDB is unreachable WHEN disconnecting THEN the failure is logged and answered, not thrown', async () => {
    const lines: string[] = [];
    const w = await world({ endpoint: unreachableEndpoint });
    const result = await createDisconnectHandler({ store: w.store, log: createLogger({}, (l) => lines.push(l)) })(disconnectEvent('Gone000000000A='));
    expect(result).toEqual({ statusCode: 500 });
    expect(lines.map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ level: 'error', event: 'disconnect_cleanup_failed', route: '$disconnect' })]);
  });

  test('GIVEN an event without a connectionId WHEN disconnecting THEN 400, no throw', async () => {
    const w = await world();
    expect(await createDisconnectHandler(w.deps)({})).toEqual({ statusCode: 400 });
  });
});

describe('$default (spec §3)', () => {
  test.each([
    ['not JSON', 'hello', /not valid JSON/],
    ['no action', '{"data":{}}', /no "action" field/],
    ['unknown action', '{"action":"dance"}', /unknown action "dance"/],
  ])('GIVEN a frame with %s WHEN it reaches $default THEN the sender gets an error frame naming the actions that exist', async (_n, body, pattern) => {
    const w = await world();
    const [sender] = await connectClients(w, 1);
    const before = await dynamo.snapshot(w.table);

    await createDefaultHandler({ messenger: w.deps.messenger, log: silent, routeKeys: ROUTE_KEYS })(messageEvent(sender, body));

    const received = api.received(sender) as { type: string; message: string }[];
    expect(received).toEqual([{ type: 'error', message: expect.stringMatching(pattern) }]);
    expect(received[0].message).toMatch(/the actions that exist are: join, leave, sendmessage/);
    expect(await dynamo.snapshot(w.table)).toEqual(before);
  });
});

describe('$default under another route selection expression', () => {
  test('GIVEN routes that are not the example\'s WHEN a message without "action" reaches $default THEN the error names the routes and does not ask for "action"', async () => {
    const w = await world();
    const [sender] = await connectClients(w, 1);
    await createDefaultHandler({ messenger: w.deps.messenger, log: silent, routeKeys: ['subscribe', 'say'] })(messageEvent(sender, '{"type":"dance"}'));
    expect(api.received(sender)).toEqual([{ type: 'error', message: 'the message matched no route; the routes that exist are: subscribe, say' }]);
  });
});

describe('join / leave / sendmessage (design.md protocol table)', () => {
  test('GIVEN a connected client WHEN it joins a room THEN a membership item is written and it gets {"type":"joined"}', async () => {
    const w = await world();
    const [id] = await connectClients(w, 1);

    expect(await createJoinHandler(w.deps)(messageEvent(id, '{"action":"join","data":{"room":"lobby"}}', 'alice'))).toEqual({ statusCode: 200 });

    expect(api.received(id)).toEqual([{ type: 'joined', room: 'lobby' }]);
    expect((await dynamo.snapshot(w.table)).find((i) => i.sk === 'room#lobby')).toEqual({
      pk: `conn#${id}`, sk: 'room#lobby', room: 'lobby', connectionId: id, userId: 'alice', joinedAt: NOW_MS, expiresAt: NOW_S + TTL,
    });
  });

  test('GIVEN a member WHEN it leaves THEN the membership is gone and it gets {"type":"left"}; leaving again is an error', async () => {
    const w = await world();
    const [id] = await connectClients(w, 1);
    await createJoinHandler(w.deps)(messageEvent(id, '{"action":"join","data":{"room":"lobby"}}'));
    const leave = createLeaveHandler(w.deps);

    await leave(messageEvent(id, '{"action":"leave","data":{"room":"lobby"}}'));
    await leave(messageEvent(id, '{"action":"leave","data":{"room":"lobby"}}'));

    expect(api.received(id)).toEqual([
      { type: 'joined', room: 'lobby' },
      { type: 'left', room: 'lobby' },
      { type: 'error', message: expect.stringMatching(/not a member of room "lobby"/) },
    ]);
    expect((await dynamo.snapshot(w.table)).map((i) => i.sk)).toEqual(['meta']);
  });

  test('GIVEN three members of a room and one outsider WHEN a member sends THEN every member (sender included) gets the message, the outsider nothing', async () => {
    // GIVEN
    const w = await world({ pageSize: 2 });
    const [a, b, c, outsider] = await connectClients(w, 4);
    const joinRoute = createJoinHandler(w.deps);
    for (const id of [a, b, c]) await joinRoute(messageEvent(id, '{"action":"join","data":{"room":"lobby"}}'));
    await joinRoute(messageEvent(outsider, '{"action":"join","data":{"room":"kitchen"}}'));
    // WHEN
    await createSendMessageHandler(w.deps)(messageEvent(a, '{"action":"sendmessage","data":{"room":"lobby","text":"hi all"}}', 'alice'));
    // THEN
    const expected = { type: 'message', room: 'lobby', from: 'alice', text: 'hi all', at: NOW_MS };
    for (const id of [a, b, c]) expect(api.received(id).slice(1)).toEqual([expected]);
    expect(api.received(outsider)).toEqual([{ type: 'joined', room: 'kitchen' }]);
  });

  test('GIVEN a sender who is not in the room WHEN it sends THEN it gets an error and the members get nothing', async () => {
    const w = await world();
    const [member, stranger] = await connectClients(w, 2);
    await createJoinHandler(w.deps)(messageEvent(member, '{"action":"join","data":{"room":"lobby"}}'));

    await createSendMessageHandler(w.deps)(messageEvent(stranger, '{"action":"sendmessage","data":{"room":"lobby","text":"psst"}}'));

    expect(api.received(stranger)).toEqual([{ type: 'error', message: expect.stringMatching(/not a member of room "lobby"; send \{"action":"join"/) }]);
    expect(api.received(member)).toEqual([{ type: 'joined', room: 'lobby' }]);
  });

  test('GIVEN more connections than a Scan page, one stale and one expired row WHEN a broadcast is sent THEN every live one gets "room":null and the stale one is removed', async () => {
    // GIVEN 7 open connections (pages of 2), one recorded but closed, one expired row
    const w = await world({ pageSize: 2 });
    const ids = await connectClients(w, 8);
    const stale = ids.pop()!;
    api.close(stale);
    await w.store.putConnection({ connectionId: 'Expired0000000A=', userId: 'old', connectedAt: 0, expiresAt: NOW_S - 1 });
    api.open('Expired0000000A=');
    // WHEN
    await createSendMessageHandler(w.deps)(messageEvent(ids[0], '{"action":"sendmessage","data":{"text":"to everyone"}}', 'bob'));
    // THEN
    for (const id of ids) expect(api.received(id)).toEqual([{ type: 'message', room: null, from: 'bob', text: 'to everyone', at: NOW_MS }]);
    expect(api.received('Expired0000000A=')).toEqual([]);
    expect((await dynamo.snapshot(w.table)).some((i) => i.connectionId === stale)).toBe(false);
    expect((await dynamo.snapshot(w.table)).filter((i) => ids.includes(String(i.connectionId)))).toHaveLength(7);
  });

  test('GIVEN a message is sent WHEN the handler logs THEN no log line contains the message text', async () => {
    const lines: string[] = [];
    const w = await world();
    const [id] = await connectClients(w, 1);
    const secret = 'my-very-private-words';
    await createSendMessageHandler({ ...w.deps, log: createLogger({}, (l) => lines.push(l)) })(
      messageEvent(id, JSON.stringify({ action: 'sendmessage', data: { text: secret } })),
    );
    expect(api.received(id)).toEqual([expect.objectContaining({ text: secret })]);
    expect(lines.map((l) => JSON.parse(l).event)).toEqual(['message_sent']);
    expect(lines.join('\n')).not.toContain(secret);
  });

  test('GIVEN an event without authorizer principal WHEN sending THEN "from" is the user recorded at $connect', async () => {
    const w = await world();
    const [id] = await connectClients(w, 1);
    await createSendMessageHandler(w.deps)(messageEvent(id, '{"action":"sendmessage","data":{"text":"x"}}', undefined));
    expect(api.received(id)).toEqual([expect.objectContaining({ type: 'message', from: `user-${id}` })]);
  });

  test('GIVEN DynamoDB is unreachable WHEN sending THEN the sender gets an error frame (not an Internal server error)', async () => {
    const w = await world({ endpoint: unreachableEndpoint });
    const id = newId();
    api.open(id);
    const result = await createSendMessageHandler(w.deps)(messageEvent(id, '{"action":"sendmessage","data":{"room":"lobby","text":"x"}}'));
    expect(result).toEqual({ statusCode: 500 });
    expect(api.received(id)).toEqual([{ type: 'error', message: expect.stringMatching(/"sendmessage" request could not be completed.*temporarily unavailable; try again/) }]);
  });

  test('GIVEN a custom route selection expression ($request.body.type) WHEN frames without "action" reach the chat routes THEN each route serves its own command from "data"', async () => {
    // GIVEN: two members of a room, frames in a protocol of the user's own ("type" selects the route, extra fields)
    const w = await world();
    const [alice, bob] = await connectClients(w, 2);
    const body = (type: string, data: unknown) => JSON.stringify({ type, data, id: 'm-1' });
    // WHEN
    for (const id of [alice, bob]) {
      expect(await createJoinHandler(w.deps)(messageEvent(id, body('subscribe', { room: 'lobby' })))).toEqual({ statusCode: 200 });
    }
    await createSendMessageHandler(w.deps)(messageEvent(alice, body('say', { room: 'lobby', text: 'custom' }), 'alice'));
    expect(await createLeaveHandler(w.deps)(messageEvent(bob, body('unsubscribe', { room: 'lobby' })))).toEqual({ statusCode: 200 });
    // THEN
    const message = { type: 'message', room: 'lobby', from: 'alice', text: 'custom', at: NOW_MS };
    expect(api.received(alice)).toEqual([{ type: 'joined', room: 'lobby' }, message]);
    expect(api.received(bob)).toEqual([{ type: 'joined', room: 'lobby' }, message, { type: 'left', room: 'lobby' }]);
    expect(await w.store.getMembership(bob, 'lobby')).toBeUndefined();
    expect(await w.store.getMembership(alice, 'lobby')).toMatchObject({ room: 'lobby' });
  });

  test('GIVEN a frame whose "action" names another route WHEN API Gateway routed it to join THEN join runs (the route decides, not the body)', async () => {
    const w = await world();
    const [id] = await connectClients(w, 1);
    expect(await createJoinHandler(w.deps)(messageEvent(id, '{"action":"leave","data":{"room":"lobby"}}'))).toEqual({ statusCode: 200 });
    expect(api.received(id)).toEqual([{ type: 'joined', room: 'lobby' }]);
    expect(await w.store.getMembership(id, 'lobby')).toMatchObject({ room: 'lobby', userId: `user-${id}` });
  });

  describe.each([
    ['join', createJoinHandler],
    ['leave', createLeaveHandler],
    ['sendmessage', createSendMessageHandler],
  ] as const)('every invalid frame kind on the %s route', (routeName, factory) => {
    let w: World;
    let sender: string;
    let member: string;
    let route: (event: unknown) => Promise<unknown>;
    beforeAll(async () => {
      w = await world();
      [sender, member] = await connectClients(w, 2);
      await createJoinHandler(w.deps)(messageEvent(member, '{"action":"join","data":{"room":"lobby"}}'));
      await createJoinHandler(w.deps)(messageEvent(sender, '{"action":"join","data":{"room":"lobby"}}'));
      route = factory(w.deps);
    });

    test.each(INVALID_FRAMES.filter(([, body]) => refusedOnRoute(body, routeName)))('GIVEN %s WHEN received THEN the sender gets an error frame and the table is unchanged', async (_n, body, pattern) => {
      const before = await dynamo.snapshot(w.table);
      const memberFrames = api.received(member).length;
      const senderFrames = api.received(sender).length;

      await route(messageEvent(sender, body));

      expect(api.received(sender).slice(senderFrames)).toEqual([{ type: 'error', message: expect.stringMatching(pattern) }]);
      expect(api.received(member)).toHaveLength(memberFrames);
      expect(await dynamo.snapshot(w.table)).toEqual(before);
    });
  });
});

describe('handler modules wired from the environment', () => {
  const saved = { ...process.env };
  const logLines: string[] = [];
  let table: string;
  beforeAll(async () => {
    table = `wired-${++tableCount}`;
    await dynamo.createConnectionsTable(table);
  });
  beforeEach(() => {
    Object.assign(process.env, {
      CONNECTIONS_TABLE: table,
      ROOM_INDEX,
      CALLBACK_URL: api.callbackUrl,
      SUBPROTOCOLS: 'chat.v1',
      ROUTE_KEYS: ROUTE_KEYS.join(','),
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    });
    jest.spyOn(process.stdout, 'write').mockImplementation((l) => (logLines.push(String(l)), true));
  });
  afterEach(() => {
    process.env = { ...saved };
    jest.restoreAllMocks();
  });

  type Handler = (event: unknown) => Promise<{ statusCode: number; headers?: Record<string, string> }>;
  /** The module of a bundled handler: the chat's routes under lambda/chat, the gateway's own under lambda/gateway. */
  const handlerModule = (name: string) =>
    ['join', 'leave', 'sendmessage'].includes(name) ? `../../lambda/chat/handlers/${name}` : `../../lambda/gateway/handlers/${name}`;

  function load(from: (name: string) => string): Record<string, Handler> {
    const handlers: Record<string, Handler> = {};
    jest.isolateModules(() => {
      for (const name of ['connect', 'disconnect', 'default', 'join', 'leave', 'sendmessage']) {
        handlers[name] = (require(from(name)) as { handler: Handler }).handler;
      }
    });
    return handlers;
  }

  /** The same journey through either wiring: the TypeScript modules in jest, or the built bundles in Node. */
  async function journey(invoke: (name: string, event: unknown) => Promise<unknown>): Promise<void> {
    const id = newId();
    api.open(id);
    expect(await invoke('connect', connectEvent(id, { principalId: 'carol', headers: { 'sec-websocket-protocol': 'chat.v1' } }))).toEqual({
      statusCode: 200,
      headers: { 'Sec-WebSocket-Protocol': 'chat.v1' },
    });
    await invoke('join', messageEvent(id, '{"action":"join","data":{"room":"lobby"}}', 'carol'));
    await invoke('sendmessage', messageEvent(id, '{"action":"sendmessage","data":{"room":"lobby","text":"wired"}}', 'carol'));
    await invoke('leave', messageEvent(id, '{"action":"leave","data":{"room":"lobby"}}', 'carol'));
    await invoke('default', messageEvent(id, 'not json', 'carol'));
    expect(api.received(id)).toEqual([
      { type: 'joined', room: 'lobby' },
      { type: 'message', room: 'lobby', from: 'carol', text: 'wired', at: expect.any(Number) },
      { type: 'left', room: 'lobby' },
      { type: 'error', message: expect.stringMatching(/not valid JSON.*the actions that exist are: join, leave, sendmessage/) },
    ]);
    await invoke('join', messageEvent(id, '{"action":"join","data":{"room":"kitchen"}}', 'carol'));
    expect(await invoke('disconnect', disconnectEvent(id))).toEqual({ statusCode: 200 });
    expect(await dynamo.snapshot(table)).toEqual([]);
    expect(logLines.filter((l) => l.includes('"level":"error"'))).toEqual([]);
  }

  test('GIVEN the TypeScript handler modules loaded with jest.isolateModules WHEN a client connects, joins, sends, leaves, errs and disconnects THEN each step works', async () => {
    const h = load(handlerModule);
    await journey((name, event) => h[name](event));
  });

  test('GIVEN the built bundles run in Node.js WHEN the same journey runs THEN each step works (run `npm run build:handlers` first)', async () => {
    const env = { ...process.env };
    await journey((name, event) => invokeBundle(name, event, env));
  });

  test('GIVEN CONNECTIONS_TABLE is missing WHEN a handler module loads THEN it fails with an error naming the variable', () => {
    delete process.env.CONNECTIONS_TABLE;
    expect(() => load(handlerModule)).toThrow(/CONNECTIONS_TABLE is not set/);
  });
});
