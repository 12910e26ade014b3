/**
 * ConnectionStore against a real dynalite (CONTRIBUTING.md item model, byRoom GSI), and Messenger against a real
 * HTTP server that answers like the `@connections` API (spec §5), through the real AWS SDK v3 clients.
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { ConnectionRecord, ConnectionStore } from '../../../lambda/runtime/connection-store';
import { createLogger } from '../../../lambda/runtime/log';
import { createManagementClient } from '../../../lambda/runtime/management-client';
import { MAX_POST_BYTES, MessageTooLargeError, Messenger } from '../../../lambda/runtime/messenger';
import { FakeConnectionsApi, startFakeConnectionsApi } from '../support/fake-connections-api';
import { ROOM_INDEX, TEST_CREDENTIALS, documentClientFor, useLocalDynamo } from '../support/local-dynamodb';
import { startUnprocessedItemsProxy } from '../support/unprocessed-items-proxy';

const NOW_MS = 1_800_000_000_000;
const NOW_S = NOW_MS / 1000;
const clock = () => NOW_MS;
const silent = createLogger({}, () => undefined);

const dynamo = useLocalDynamo();
let api: FakeConnectionsApi;
let tableCount = 0;

beforeAll(async () => {
  api = await startFakeConnectionsApi();
});
afterAll(async () => {
  await api.stop();
});

async function freshStore(pageSize?: number): Promise<{ store: ConnectionStore; table: string }> {
  const table = `connections-${++tableCount}`;
  await dynamo.createConnectionsTable(table);
  return { store: new ConnectionStore({ client: dynamo.doc, tableName: table, roomIndex: ROOM_INDEX, pageSize, clock }), table };
}

function connection(id: string, expiresAt = NOW_S + 600): ConnectionRecord {
  return { connectionId: id, userId: `user-${id}`, connectedAt: NOW_MS, sourceIp: '127.0.0.1', expiresAt };
}

async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[][]> {
  const out: T[][] = [];
  for await (const page of pages) out.push(page);
  return out;
}

describe('ConnectionStore', () => {
  test('GIVEN a connection put twice WHEN read THEN one item holds the latest values (idempotent upsert)', async () => {
    // GIVEN
    const { store, table } = await freshStore();
    await store.putConnection(connection('A='));
    await store.putConnection({ ...connection('A='), sourceIp: '10.0.0.1' });
    // WHEN
    const read = await store.getConnection('A=');
    // THEN
    expect(read).toEqual({ ...connection('A='), sourceIp: '10.0.0.1' });
    expect(await dynamo.snapshot(table)).toEqual([{ pk: 'conn#A=', sk: 'meta', ...connection('A='), sourceIp: '10.0.0.1' }]);
  });

  test('GIVEN an expired connection and membership (TTL not yet run) WHEN read THEN both are treated as absent', async () => {
    const { store } = await freshStore();
    await store.putConnection(connection('old', NOW_S - 1));
    await store.joinRoom({ connectionId: 'old', room: 'lobby', userId: 'u', joinedAt: NOW_MS, expiresAt: NOW_S - 1 });
    expect(await store.getConnection('old')).toBeUndefined();
    expect(await store.getMembership('old', 'lobby')).toBeUndefined();
    expect(await store.leaveRoom('old', 'lobby')).toBe(false);
  });

  test('GIVEN more connections than one Scan page WHEN iterated THEN every live connection comes once, page by page, expired rows skipped', async () => {
    // GIVEN 13 live + 4 expired connections, and memberships that the Scan must not return
    const { store } = await freshStore(3);
    const live = Array.from({ length: 13 }, (_, i) => `live-${i}`);
    for (const id of live) {
      await store.putConnection(connection(id));
      await store.joinRoom({ connectionId: id, room: 'lobby', userId: 'u', joinedAt: NOW_MS, expiresAt: NOW_S + 60 });
    }
    for (let i = 0; i < 4; i++) await store.putConnection(connection(`expired-${i}`, NOW_S - 10));
    // WHEN
    const pages = await collect(store.connections());
    // THEN
    const ids = pages.flat().map((c) => c.connectionId);
    expect(ids.sort()).toEqual([...live].sort());
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.every((p) => p.length <= 3)).toBe(true);
  });

  test('GIVEN a room with more members than one Query page WHEN listed THEN all live members of that room only', async () => {
    const { store } = await freshStore(2);
    const members = ['m1', 'm2', 'm3', 'm4', 'm5'];
    for (const id of members) await store.joinRoom({ connectionId: id, room: 'lobby', userId: `u-${id}`, joinedAt: NOW_MS, expiresAt: NOW_S + 60 });
    await store.joinRoom({ connectionId: 'gone', room: 'lobby', userId: 'x', joinedAt: NOW_MS, expiresAt: NOW_S - 60 });
    await store.joinRoom({ connectionId: 'other', room: 'kitchen', userId: 'y', joinedAt: NOW_MS, expiresAt: NOW_S + 60 });
    await store.putConnection(connection('m1'));

    const pages = await collect(store.roomMembers('lobby'));

    expect(pages.length).toBeGreaterThan(1);
    expect(pages.flat().map((m) => m.connectionId).sort()).toEqual(members);
    expect(pages.flat()[0]).toEqual({ connectionId: 'm1', room: 'lobby', userId: 'u-m1', expiresAt: NOW_S + 60 });
  });

  test('GIVEN a store without a room index WHEN a room is listed THEN a clear error', async () => {
    const store = new ConnectionStore({ client: dynamo.doc, tableName: 'any' });
    await expect(collect(store.roomMembers('lobby'))).rejects.toThrow(/without roomIndex \(ROOM_INDEX\)/);
  });

  test('GIVEN a connection in 30 rooms WHEN deleted THEN its item and every membership are gone (several pages and batches) and others stay', async () => {
    // GIVEN
    const { store, table } = await freshStore(7);
    await store.putConnection(connection('leaver'));
    await store.putConnection(connection('stayer'));
    for (let i = 0; i < 30; i++) {
      await store.joinRoom({ connectionId: 'leaver', room: `room-${i}`, userId: 'u', joinedAt: NOW_MS, expiresAt: NOW_S + 60 });
    }
    await store.joinRoom({ connectionId: 'stayer', room: 'room-0', userId: 'v', joinedAt: NOW_MS, expiresAt: NOW_S + 60 });
    // WHEN
    const deleted = await store.deleteConnection('leaver');
    // THEN
    expect(deleted).toBe(31);
    expect((await dynamo.snapshot(table)).map((i) => `${i.pk} ${i.sk}`)).toEqual(['conn#stayer meta', 'conn#stayer room#room-0']);
    expect((await collect(store.roomMembers('room-0'))).flat().map((m) => m.connectionId)).toEqual(['stayer']);
  });

  test('GIVEN DynamoDB returns UnprocessedItems twice WHEN a connection is deleted THEN the batch is retried until written', async () => {
    const { table } = await freshStore();
    const proxy = await startUnprocessedItemsProxy(dynamo.endpoint, 2);
    const waits: number[] = [];
    const store = new ConnectionStore({
      client: documentClientFor(proxy.endpoint),
      tableName: table,
      roomIndex: ROOM_INDEX,
      clock,
      sleep: async (ms) => void waits.push(ms),
    });
    try {
      await store.putConnection(connection('c1'));
      await store.joinRoom({ connectionId: 'c1', room: 'lobby', userId: 'u', joinedAt: NOW_MS, expiresAt: NOW_S + 60 });

      await store.deleteConnection('c1');

      expect(proxy.throttledBatches).toBe(2);
      expect(waits).toHaveLength(2);
      expect(waits[1]).toBeGreaterThan(waits[0]);
      expect(await dynamo.snapshot(table)).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  test('GIVEN DynamoDB never processes the batch WHEN a connection is deleted THEN a clear error after the bounded attempts', async () => {
    const { table } = await freshStore();
    const proxy = await startUnprocessedItemsProxy(dynamo.endpoint, 1000);
    const store = new ConnectionStore({
      client: documentClientFor(proxy.endpoint),
      tableName: table,
      clock,
      maxBatchAttempts: 3,
      sleep: async () => undefined,
    });
    try {
      await store.putConnection(connection('c1'));
      await expect(store.deleteConnection('c1')).rejects.toThrow(/could not delete 1 item\(s\) of connection c1: still unprocessed after 3 BatchWrite attempts/);
      expect(proxy.throttledBatches).toBe(3);
    } finally {
      await proxy.stop();
    }
  });
});

describe('Messenger', () => {
  let client: ApiGatewayManagementApiClient;
  beforeAll(() => {
    client = createManagementClient(api.callbackUrl, { region: 'us-east-1', credentials: TEST_CREDENTIALS });
  });
  afterAll(() => client.destroy());

  function messenger(store: ConnectionStore, extra: Partial<ConstructorParameters<typeof Messenger>[0]> = {}) {
    return new Messenger({
      client,
      removeConnection: (id) => store.deleteConnection(id),
      sleep: async () => undefined,
      log: silent,
      ...extra,
    });
  }

  test('GIVEN a broadcast where one connection is stale (410) WHEN fanned out THEN exactly that connection and its memberships are removed and the rest receive it', async () => {
    // GIVEN 25 open connections in a room, one stale one between them, and a sender that is open
    const { store, table } = await freshStore(4);
    const ids = Array.from({ length: 25 }, (_, i) => `fan-${i}`);
    api.open(...ids);
    for (const id of [...ids, 'stale']) {
      await store.putConnection(connection(id));
      await store.joinRoom({ connectionId: id, room: 'lobby', userId: 'u', joinedAt: NOW_MS, expiresAt: NOW_S + 60 });
    }
    const before = await dynamo.snapshot(table);
    // WHEN
    const pages = (async function* () {
      for await (const page of store.roomMembers('lobby')) yield page.map((m) => m.connectionId);
    })();
    const counts = await messenger(store, { concurrency: 5 }).fanOut(pages, '{"type":"message","text":"hi"}');
    // THEN
    expect(counts).toEqual({ delivered: 25, gone: 1, failed: 0 });
    for (const id of ids) expect(api.received(id)).toEqual([{ type: 'message', text: 'hi' }]);
    const after = await dynamo.snapshot(table);
    expect(after).toEqual(before.filter((item) => item.pk !== 'conn#stale'));
  });

  test('GIVEN a concurrency of 3 WHEN fanned out to 20 connections THEN never more than 3 posts are in flight', async () => {
    const fresh = await startFakeConnectionsApi('bounded', 5);
    const boundedClient = createManagementClient(fresh.callbackUrl, { region: 'us-east-1', credentials: TEST_CREDENTIALS });
    try {
      const ids = Array.from({ length: 20 }, (_, i) => `b-${i}`);
      fresh.open(...ids);
      const { store } = await freshStore();
      const counts = await messenger(store, { client: boundedClient, concurrency: 3 }).fanOut([ids.slice(0, 7), ids.slice(7)], 'x');
      expect(counts).toEqual({ delivered: 20, gone: 0, failed: 0 });
      expect(fresh.maxInFlight).toBeLessThanOrEqual(3);
      expect(fresh.maxInFlight).toBeGreaterThan(1);
    } finally {
      boundedClient.destroy();
      await fresh.stop();
    }
  });

  test('GIVEN a connection throttled twice (429) WHEN posted THEN it is retried with growing jittered backoff and delivered', async () => {
    const { store } = await freshStore();
    api.open('busy');
    api.failNext('busy', 429, 2);
    const waits: number[] = [];
    const outcome = await messenger(store, { sleep: async (ms) => void waits.push(ms), random: () => 0.5, retryBaseMs: 100 }).post('busy', '"once"');
    expect(outcome).toBe('delivered');
    expect(api.attempts.filter((a) => a.id === 'busy').map((a) => a.status)).toEqual([429, 429, 200]);
    expect(waits).toEqual([75, 150]);
    expect(api.received('busy')).toEqual(['once']);
  });

  test('GIVEN a connection throttled on every attempt WHEN fanned out THEN it counts as failed after maxAttempts and others are delivered', async () => {
    const { store } = await freshStore();
    api.open('jammed', 'fine');
    api.failNext('jammed', 429, 100);
    const counts = await messenger(store, { maxAttempts: 3 }).fanOut([['jammed', 'fine']], '"m"');
    expect(counts).toEqual({ delivered: 1, gone: 0, failed: 1 });
    expect(api.attempts.filter((a) => a.id === 'jammed')).toHaveLength(3);
    expect(api.received('fine')).toEqual(['m']);
  });

  test('GIVEN the socket is destroyed on the first request for a connection (keep-alive socket closed under it) WHEN posted THEN it is retried on a new socket and delivered once', async () => {
    // GIVEN
    const { store } = await freshStore();
    api.open('reset');
    api.failNext('reset', 'destroy', 1);
    const waits: number[] = [];
    // WHEN
    const outcome = await messenger(store, { sleep: async (ms) => void waits.push(ms) }).post('reset', '"after reset"');
    // THEN
    expect(outcome).toBe('delivered');
    expect(api.attempts.filter((a) => a.id === 'reset').map((a) => a.status)).toEqual([0, 200]);
    expect(waits).toHaveLength(1);
    expect(api.received('reset')).toEqual(['after reset']);
  });

  test('GIVEN the API answers 500 then 200 WHEN fanned out THEN the 500 is retried and every connection gets the frame', async () => {
    const { store } = await freshStore();
    api.open('flaky', 'steady');
    api.failNext('flaky', 500, 1);
    const counts = await messenger(store).fanOut([['flaky', 'steady']], '"m5"');
    expect(counts).toEqual({ delivered: 2, gone: 0, failed: 0 });
    expect(api.attempts.filter((a) => a.id === 'flaky').map((a) => a.status)).toEqual([500, 200]);
    expect(api.received('flaky')).toEqual(['m5']);
    expect(api.received('steady')).toEqual(['m5']);
  });

  test('GIVEN the API answers 500 or drops the socket on every attempt WHEN posted THEN it counts as failed after maxAttempts', async () => {
    const { store } = await freshStore();
    api.open('down', 'cut');
    api.failNext('down', 500, 100);
    api.failNext('cut', 'destroy', 100);
    const lines: string[] = [];
    const m = messenger(store, { maxAttempts: 3, log: createLogger({}, (l) => lines.push(l)) });
    expect(await m.post('down', '"x"')).toBe('failed');
    expect(await m.post('cut', '"x"')).toBe('failed');
    expect(api.attempts.filter((a) => a.id === 'down').map((a) => a.status)).toEqual([500, 500, 500]);
    expect(api.attempts.filter((a) => a.id === 'cut').map((a) => a.status)).toEqual([0, 0, 0]);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ event: 'post_failed', connectionId: 'down', attempts: 3, httpStatus: 500 }),
      expect.objectContaining({ event: 'post_failed', connectionId: 'cut', attempts: 3 }),
    ]);
  });

  test('GIVEN the API answers 403 WHEN posted THEN it is not retried and counts as failed', async () => {
    const { store } = await freshStore();
    api.open('denied');
    api.failNext('denied', 403, 100);
    expect(await messenger(store).post('denied', '"x"')).toBe('failed');
    expect(api.attempts.filter((a) => a.id === 'denied').map((a) => a.status)).toEqual([403]);
  });

  test('GIVEN the API answers 413 WHEN posted THEN a MessageTooLargeError, and in a fan-out it counts as failed', async () => {
    const { store } = await freshStore();
    api.open('small', 'ok413');
    api.failNext('small', 413, 2);
    await expect(messenger(store).post('small', '"x"')).rejects.toThrow(MessageTooLargeError);
    expect(await messenger(store).fanOut([['small', 'ok413']], '"x"')).toEqual({ delivered: 1, gone: 0, failed: 1 });
  });

  test('GIVEN data over the PostToConnection limit WHEN posted or fanned out THEN a clear error before any request', async () => {
    const { store } = await freshStore();
    const before = api.attempts.length;
    const big = 'x'.repeat(MAX_POST_BYTES + 1);
    await expect(messenger(store).post('anyone', big)).rejects.toThrow(/is 131073 bytes; PostToConnection accepts at most 131072 bytes/);
    await expect(messenger(store).fanOut([['anyone']], big)).rejects.toThrow(MessageTooLargeError);
    expect(api.attempts.length).toBe(before);
  });

  test('GIVEN the records of a stale connection cannot be removed WHEN posted THEN the outcome is still gone and a warning is logged', async () => {
    const lines: string[] = [];
    const m = new Messenger({
      client,
      removeConnection: async () => {
        throw new Error('table unavailable');
      },
      log: createLogger({}, (l) => lines.push(l)),
    });
    expect(await m.post('never-opened', '"x"')).toBe('gone');
    expect(lines.map((l) => JSON.parse(l).event)).toEqual(['stale_connection_not_removed']);
  });
});
