/**
 * ConnectionStore (lambda/runtime/connection-store.ts) against a real dynalite: the boundaries the broader tests in
 * store-and-messenger.test.ts leave open — the 25-item BatchWrite split, an item that expires exactly now, the
 * UnprocessedItems retry schedule. The document client's `send` is wrapped to record each BatchWrite (it still
 * goes to dynalite). Comments name the mutant each test was written to kill ("kills: ...").
 */
import { BatchWriteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConnectionRecord, ConnectionStore, ConnectionStoreOptions } from '../../../lambda/runtime/connection-store';
import { ROOM_INDEX, documentClientFor, useLocalDynamo } from '../support/local-dynamodb';
import { startUnprocessedItemsProxy } from '../support/unprocessed-items-proxy';

const NOW_MS = 1_800_000_000_000;
const NOW_S = NOW_MS / 1000;

const dynamo = useLocalDynamo();
let tableCount = 0;

/** The document client with every BatchWrite's request count recorded on its way to dynalite. */
function recording(client: DynamoDBDocumentClient): { client: DynamoDBDocumentClient; batches: number[] } {
  const batches: number[] = [];
  const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
  const wrapped = Object.create(client) as DynamoDBDocumentClient;
  (wrapped as unknown as { send: (command: unknown) => Promise<unknown> }).send = (command) => {
    if (command instanceof BatchWriteCommand) {
      for (const requests of Object.values(command.input.RequestItems ?? {})) batches.push(requests.length);
    }
    return send(command);
  };
  return { client: wrapped, batches };
}

async function freshTable(): Promise<string> {
  const table = `store-${++tableCount}`;
  await dynamo.createConnectionsTable(table);
  return table;
}

async function freshStore(extra: Partial<ConnectionStoreOptions> = {}): Promise<{ store: ConnectionStore; table: string; batches: number[] }> {
  const table = await freshTable();
  const { client, batches } = recording(dynamo.doc);
  const store = new ConnectionStore({ client, tableName: table, roomIndex: ROOM_INDEX, clock: () => NOW_MS, ...extra });
  return { store, table, batches };
}

const connection = (id: string, expiresAt = NOW_S + 600): ConnectionRecord => ({ connectionId: id, userId: `user-${id}`, connectedAt: NOW_MS, expiresAt });
const member = (id: string, room: string, expiresAt = NOW_S + 600) => ({ connectionId: id, room, userId: `user-${id}`, joinedAt: NOW_MS, expiresAt });

async function all<T>(pages: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(...page);
  return out;
}

describe('ConnectionStore.deleteConnection: the 25-item BatchWrite split', () => {
  test.each([
    [24, [25]],
    [25, [25, 1]],
    [49, [25, 25]],
    [50, [25, 25, 1]],
  ])('GIVEN a connection with %i memberships (plus its own item) WHEN deleted THEN BatchWrites of %j and every item gone', async (rooms, expected) => {
    // GIVEN
    const { store, table, batches } = await freshStore();
    await store.putConnection(connection('leaver'));
    for (let i = 0; i < rooms; i++) await store.joinRoom(member('leaver', `room-${i}`));
    await store.putConnection(connection('stayer'));
    // WHEN
    const deleted = await store.deleteConnection('leaver');
    // THEN (kills: BATCH_WRITE_LIMIT arithmetic `i += 25` / `slice(i, i + 25)` changed, `i < length` → `<=`
    // (an empty BatchWrite is refused by DynamoDB), `deleted += keys.length` → `-=`)
    expect(batches).toEqual(expected);
    expect(deleted).toBe(rooms + 1);
    expect((await dynamo.snapshot(table)).map((item) => `${item.pk} ${item.sk}`)).toEqual(['conn#stayer meta']);
  });

  test('GIVEN a connection with no items WHEN deleted THEN no BatchWrite and 0', async () => {
    const { store, batches } = await freshStore();
    // kills: the loop bound `<` → `<=` (a BatchWrite of zero requests)
    expect(await store.deleteConnection('nobody')).toBe(0);
    expect(batches).toEqual([]);
  });

  test('GIVEN Query pages of 10 items WHEN a connection with 30 items is deleted THEN one BatchWrite per page and all 30 counted', async () => {
    const { store, table, batches } = await freshStore({ pageSize: 10 });
    await store.putConnection(connection('leaver'));
    for (let i = 0; i < 29; i++) await store.joinRoom(member('leaver', `r-${i}`));
    // kills: `deleted += keys.length` → `deleted = keys.length`, the page loop following LastEvaluatedKey removed
    expect(await store.deleteConnection('leaver')).toBe(30);
    expect(batches).toEqual([10, 10, 10]);
    expect(await dynamo.snapshot(table)).toEqual([]);
  });
});

describe('ConnectionStore: an item that expires exactly now', () => {
  test('GIVEN a connection and a membership whose expiresAt is the current second WHEN read THEN both are still live', async () => {
    // GIVEN expiresAt === now (in epoch seconds): DynamoDB's TTL deletes items whose time is in the past
    const { store } = await freshStore();
    await store.putConnection(connection('edge', NOW_S));
    await store.joinRoom(member('edge', 'lobby', NOW_S));
    // WHEN / THEN (kills: isExpired `<` → `<=`, the filters' `expiresAt >= :now` → `>`)
    expect(await store.getConnection('edge')).toEqual(connection('edge', NOW_S));
    expect(await store.getMembership('edge', 'lobby')).toEqual(member('edge', 'lobby', NOW_S));
    expect((await all(store.roomMembers('lobby'))).map((m) => m.connectionId)).toEqual(['edge']);
    expect((await all(store.connections())).map((c) => c.connectionId)).toEqual(['edge']);
    expect(await store.leaveRoom('edge', 'lobby')).toBe(true);
  });

  test('GIVEN items whose expiresAt is one second ago WHEN read THEN every read treats them as absent', async () => {
    const { store } = await freshStore();
    await store.putConnection(connection('past', NOW_S - 1));
    await store.joinRoom(member('past', 'lobby', NOW_S - 1));
    // kills: isExpired → false, the filters removed
    expect(await store.getConnection('past')).toBeUndefined();
    expect(await store.getMembership('past', 'lobby')).toBeUndefined();
    expect(await all(store.roomMembers('lobby'))).toEqual([]);
    expect(await all(store.connections())).toEqual([]);
    expect(await store.leaveRoom('past', 'lobby')).toBe(false);
  });

  test('GIVEN an item without a numeric expiresAt WHEN read THEN it is live (only a number in the past expires it)', async () => {
    const { store, table } = await freshStore();
    await dynamo.doc.send(
      new PutCommand({
        TableName: table,
        Item: { pk: 'conn#legacy', sk: 'meta', connectionId: 'legacy', userId: 'u', connectedAt: NOW_MS, expiresAt: 'never' },
      }),
    );
    // kills: `typeof item.expiresAt === 'number' &&` → `||` (which makes it expired); `→ true` survives here ('never' < now
    // is false anyway) and is killed by the numeric-string test at the end of this file
    expect((await store.getConnection('legacy'))?.connectionId).toBe('legacy');
  });

  test('GIVEN a connection with a source IP and one without WHEN read THEN the field is kept or left out', async () => {
    const { store } = await freshStore();
    await store.putConnection({ ...connection('ip'), sourceIp: '10.0.0.1' });
    await store.putConnection(connection('noip'));
    // kills: the `typeof item.sourceIp === 'string'` spread turned always/never
    expect(await store.getConnection('ip')).toEqual({ ...connection('ip'), sourceIp: '10.0.0.1' });
    expect(Object.keys((await store.getConnection('noip')) ?? {})).not.toContain('sourceIp');
  });
});

describe('ConnectionStore: the UnprocessedItems retry schedule', () => {
  async function throttledStore(throttleFirst: number, extra: Partial<ConnectionStoreOptions> = {}) {
    const table = await freshTable();
    const proxy = await startUnprocessedItemsProxy(dynamo.endpoint, throttleFirst);
    const waits: number[] = [];
    const store = new ConnectionStore({
      client: documentClientFor(proxy.endpoint),
      tableName: table,
      clock: () => NOW_MS,
      sleep: async (ms) => void waits.push(ms),
      ...extra,
    });
    return { store, table, proxy, waits };
  }

  test('GIVEN DynamoDB never processes the batch WHEN deleted with the defaults THEN 6 attempts, waits of 50, 100, 200, 400, 800 ms, then a clear error', async () => {
    const { store, proxy, waits } = await throttledStore(1000);
    try {
      await store.putConnection(connection('c1'));
      // WHEN / THEN (kills: default maxBatchAttempts 6 and batchRetryBaseMs 50 changed, `2 ** (attempt - 1)` →
      // `2 ** (attempt + 1)` / `2 * …`, `attempt >= max` → `>`)
      await expect(store.deleteConnection('c1')).rejects.toThrow(/could not delete 1 item\(s\) of connection c1: still unprocessed after 6 BatchWrite attempts/);
      expect(proxy.throttledBatches).toBe(6);
      expect(waits).toEqual([50, 100, 200, 400, 800]);
    } finally {
      await proxy.stop();
    }
  });

  test('GIVEN two unprocessed answers and a base of 10 ms WHEN deleted THEN waits of 10 and 20 ms and the items are gone', async () => {
    const { store, table, proxy, waits } = await throttledStore(2, { batchRetryBaseMs: 10 });
    try {
      await store.putConnection(connection('c1'));
      await store.joinRoom(member('c1', 'lobby'));
      // kills: the option ignored, `pending.length === 0` → `!== 0` / false (it would retry after success)
      expect(await store.deleteConnection('c1')).toBe(2);
      expect(waits).toEqual([10, 20]);
      expect(proxy.throttledBatches).toBe(2);
      expect(await dynamo.snapshot(table)).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  test('GIVEN maxBatchAttempts 1 WHEN the batch is unprocessed once THEN the error comes without any wait', async () => {
    const { store, proxy, waits } = await throttledStore(1, { maxBatchAttempts: 1 });
    try {
      await store.putConnection(connection('c1'));
      await expect(store.deleteConnection('c1')).rejects.toThrow(/still unprocessed after 1 BatchWrite attempts/);
      expect(waits).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });
});

// Behaviours mutation testing (npm run mutate -- connection-store) showed no test of this module's own pinned down.
describe('ConnectionStore: consistent reads, absent items, empty pages and string TTLs', () => {
  /** The document client with every command's name and input recorded on its way to dynalite. */
  function commands(client: DynamoDBDocumentClient): { client: DynamoDBDocumentClient; sent: { name: string; input: Record<string, unknown> }[] } {
    const sent: { name: string; input: Record<string, unknown> }[] = [];
    const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
    const wrapped = Object.create(client) as DynamoDBDocumentClient;
    (wrapped as unknown as { send: (command: unknown) => Promise<unknown> }).send = (command) => {
      const c = command as { constructor: { name: string }; input: Record<string, unknown> };
      sent.push({ name: c.constructor.name, input: c.input });
      return send(command);
    };
    return { client: wrapped, sent };
  }

  test('GIVEN a connection with a membership WHEN it is read, its membership read and it is deleted THEN every read is strongly consistent', async () => {
    // GIVEN ($disconnect can follow $connect within milliseconds: an eventually consistent read could miss the item)
    const table = await freshTable();
    const { client, sent } = commands(dynamo.doc);
    const store = new ConnectionStore({ client, tableName: table, roomIndex: ROOM_INDEX, clock: () => NOW_MS });
    await store.putConnection(connection('c1'));
    await store.joinRoom(member('c1', 'lobby'));
    sent.length = 0;
    // WHEN
    await store.getConnection('c1');
    await store.getMembership('c1', 'lobby');
    await store.deleteConnection('c1');
    // THEN
    expect(sent.filter((c) => c.name !== 'BatchWriteCommand').map((c) => [c.name, c.input.ConsistentRead])).toEqual([
      ['GetCommand', true], ['GetCommand', true], ['QueryCommand', true],
    ]);
  });

  test('GIVEN no membership WHEN leaving the room THEN false, no error', async () => {
    const { store } = await freshStore();
    await store.putConnection(connection('solo'));
    expect(await store.leaveRoom('solo', 'lobby')).toBe(false);
    expect(await store.leaveRoom('nobody', 'lobby')).toBe(false);
  });

  test('GIVEN an empty room, no connections, and pages whose items are all expired WHEN listed THEN no empty page is yielded', async () => {
    // GIVEN pages of 2 items: the first two members (and connections) expired, the third live
    const { store } = await freshStore({ pageSize: 2 });
    const empty = await freshStore();
    expect(await all(empty.store.roomMembers('lobby'))).toEqual([]);
    const pagesOf = async <T>(it: AsyncIterable<T[]>): Promise<T[][]> => {
      const pages: T[][] = [];
      for await (const page of it) pages.push(page);
      return pages;
    };
    expect(await pagesOf(empty.store.roomMembers('lobby'))).toEqual([]);
    expect(await pagesOf(empty.store.connections())).toEqual([]);
    for (const id of ['a1', 'a2']) {
      await store.putConnection(connection(id, NOW_S - 1));
      await store.joinRoom(member(id, 'lobby', NOW_S - 1));
    }
    await store.putConnection(connection('a3'));
    await store.joinRoom(member('a3', 'lobby'));
    // WHEN / THEN
    const members = await pagesOf(store.roomMembers('lobby'));
    expect(members.every((page) => page.length > 0)).toBe(true);
    expect(members.flat().map((m) => m.connectionId)).toEqual(['a3']);
    const connections = await pagesOf(store.connections());
    expect(connections.every((page) => page.length > 0)).toBe(true);
    expect(connections.flat().map((c) => c.connectionId)).toEqual(['a3']);
  });

  test('GIVEN an item whose expiresAt is a numeric string in the past WHEN read THEN it is live (DynamoDB TTL only honours Numbers)', async () => {
    const { store, table } = await freshStore();
    await dynamo.doc.send(
      new PutCommand({ TableName: table, Item: { pk: 'conn#str', sk: 'meta', connectionId: 'str', userId: 'u', connectedAt: NOW_MS, expiresAt: '1000' } }),
    );
    expect((await store.getConnection('str'))?.connectionId).toBe('str');
  });
});
