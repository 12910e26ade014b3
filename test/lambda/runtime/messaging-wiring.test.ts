/**
 * The bundled handlers' module-scope wiring (lambda/runtime/messaging-wiring.ts): a connection store on the table and
 * a messenger on the `@connections` endpoint removing gone connections, both built from the SDK's own configuration,
 * against a real dynalite table and a real HTTP server answering like the `@connections` API.
 */
import { createLogger } from '../../../lambda/runtime/log';
import { createMessagingWiring, MessagingWiringOptions } from '../../../lambda/runtime/messaging-wiring';
import { FakeConnectionsApi, startFakeConnectionsApi } from '../support/fake-connections-api';
import { ROOM_INDEX, TEST_CREDENTIALS, useLocalDynamo } from '../support/local-dynamodb';

const dynamo = useLocalDynamo();
let api: FakeConnectionsApi;
let tableCount = 0;
const saved = { ...process.env };

beforeAll(async () => {
  api = await startFakeConnectionsApi();
  // The SDK's own configuration, as a local run sets it (the wiring builds its clients from it).
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint, AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
  });
});
afterAll(async () => {
  process.env = saved;
  await api.stop();
});

async function wiring(extra: Partial<MessagingWiringOptions> = {}) {
  const tableName = `wiring-${++tableCount}`;
  await dynamo.createConnectionsTable(tableName);
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({}, (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  return { tableName, lines, ...createMessagingWiring({ tableName, callbackUrl: api.callbackUrl, log, ...extra }) };
}

async function members(w: Awaited<ReturnType<typeof wiring>>, room: string, n: number, on: FakeConnectionsApi = api): Promise<string[]> {
  const expiresAt = Math.floor(Date.now() / 1000) + 600;
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `Wr${tableCount}-${room}-${i}=`;
    on.open(id);
    await w.store.putConnection({ connectionId: id, userId: 'u', connectedAt: Date.now(), expiresAt });
    await w.store.joinRoom({ connectionId: id, room, userId: 'u', joinedAt: Date.now(), expiresAt });
    ids.push(id);
  }
  return ids;
}

describe('createMessagingWiring', () => {
  test('GIVEN a room index WHEN a room is posted to THEN its members get the frame, a gone one is removed from the table and logged to the given log', async () => {
    // GIVEN
    const w = await wiring({ roomIndex: ROOM_INDEX });
    const [a, gone] = await members(w, 'hall', 2);
    api.close(gone);
    // WHEN
    const ids = [];
    for await (const page of w.store.roomMembers('hall')) ids.push(...page.map((m) => m.connectionId));
    const counts = await w.messenger.fanOut([ids], '{"n":1}');
    // THEN
    expect(counts).toEqual({ delivered: 1, gone: 1, failed: 0 });
    expect(api.received(a)).toEqual([{ n: 1 }]);
    expect(await w.store.getConnection(gone)).toBeUndefined();
    expect(w.lines).toEqual([expect.objectContaining({ event: 'stale_connection_removed', connectionId: gone })]);
  });

  test('GIVEN no room index WHEN a room is listed THEN the store refuses', async () => {
    const w = await wiring();
    await expect(w.store.roomMembers('hall').next()).rejects.toThrow(/built without roomIndex/);
  });

  test('GIVEN fanoutConcurrency 1 WHEN 6 connections are posted to THEN never more than one post is in flight; without it several are', async () => {
    // GIVEN an @connections server of its own for each wiring (its in-flight maximum is this test's only)
    const [single, several] = [await startFakeConnectionsApi(), await startFakeConnectionsApi()];
    try {
      const one = await wiring({ fanoutConcurrency: 1, callbackUrl: single.callbackUrl });
      const many = await wiring({ callbackUrl: several.callbackUrl });
      // WHEN
      expect(await one.messenger.fanOut([await members(one, 'one', 6, single)], '"x"')).toEqual({ delivered: 6, gone: 0, failed: 0 });
      expect(await many.messenger.fanOut([await members(many, 'many', 6, several)], '"y"')).toEqual({ delivered: 6, gone: 0, failed: 0 });
      // THEN
      expect(single.maxInFlight).toBe(1);
      expect(several.maxInFlight).toBeGreaterThan(1);
    } finally {
      await single.stop();
      await several.stop();
    }
  });
});
