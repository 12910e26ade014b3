/**
 * The shard planner (lambda/runtime/delivery/planner.ts) against a real dynalite table: one keys-only pass over a
 * room (the room index) or over every connection (a Scan for the meta items) that returns the ids for a direct
 * send up to the threshold, and above it key ranges of `shardSize` members (room) or Scan segments (broadcast).
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConnectionStore } from '../../../lambda/runtime/connection-store';
import { MAX_TOTAL_SEGMENTS, planBroadcast, planRoom, PlannerOptions } from '../../../lambda/runtime/delivery/planner';
import { ROOM_INDEX, documentClientFor, useLocalDynamo } from '../support/local-dynamodb';

const dynamo = useLocalDynamo();
let tableCount = 0;
let idCount = 0;


interface Setup {
  readonly doc: DynamoDBDocumentClient;
  readonly store: ConnectionStore;
  planner(extra?: Partial<PlannerOptions>): PlannerOptions;
}

/** A fresh connections table; the planner reads it 4 items a page, threshold 10, shards of 7. */
async function setup(): Promise<Setup> {
  const table = `planner-${++tableCount}`;
  await dynamo.createConnectionsTable(table);
  const doc = documentClientFor(dynamo.endpoint);
  const store = new ConnectionStore({ client: doc, tableName: table, roomIndex: ROOM_INDEX });
  return {
    doc,
    store,
    planner: (extra = {}) => ({ client: doc, tableName: table, roomIndex: ROOM_INDEX, shardedAbove: 10, shardSize: 7, pageSize: 4, clock: Date.now, ...extra }),
  };
}

function newId(): string {
  return `Pl${String(++idCount).padStart(6, '0')}-XyZ=`;
}

/** `n` connections, each recorded, all members of `room` when given; `expiresAt` defaults to 10 minutes ahead. */
async function connect(s: Setup, n: number, room?: string, expiresAt = Math.floor(Date.now() / 1000) + 600): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = newId();
    await s.store.putConnection({ connectionId: id, userId: `u-${id}`, connectedAt: Date.now(), expiresAt });
    if (room) await s.store.joinRoom({ connectionId: id, room, userId: `u-${id}`, joinedAt: Date.now(), expiresAt });
    ids.push(id);
  }
  return ids;
}

describe('shard planner', () => {
  test('GIVEN a room of 25 members and a threshold of 10 WHEN planned with shards of 7 THEN 4 key ranges cover the room, the last open-ended', async () => {
    // GIVEN
    const s = await setup();
    const ids = (await connect(s, 25, 'big')).sort();
    await connect(s, 3, 'other');
    // WHEN
    const plan = await planRoom(s.planner(), 'big');
    // THEN (strictly: the first range has no `after` field and the last no `until`, not fields set to undefined)
    expect(plan).toStrictEqual({
      kind: 'sharded',
      recipients: 25,
      shards: [
        { kind: 'room', room: 'big', until: ids[6] },
        { kind: 'room', room: 'big', after: ids[6], until: ids[13] },
        { kind: 'room', room: 'big', after: ids[13], until: ids[20] },
        { kind: 'room', room: 'big', after: ids[20] },
      ],
    });
  });

  test('GIVEN audiences at the threshold WHEN planned THEN they are delivered directly with their ids; 21 members make 3 shards, not an empty 4th', async () => {
    const s = await setup();
    const room = (await connect(s, 10, 'ten')).sort();
    expect(await planRoom(s.planner(), 'ten')).toEqual({ kind: 'direct', connectionIds: room });
    expect(await planRoom(s.planner(), 'empty')).toEqual({ kind: 'direct', connectionIds: [] });
    const broadcast = await planBroadcast(s.planner());
    expect(broadcast.kind === 'direct' && [...broadcast.connectionIds].sort()).toEqual(room);
    const s21 = await setup();
    await connect(s21, 21, 'r');
    const plan = await planRoom(s21.planner(), 'r');
    expect(plan.kind === 'sharded' && plan.shards.length).toBe(3);
    expect(plan.kind === 'sharded' && plan.shards[2]).toEqual({ kind: 'room', room: 'r', after: expect.any(String) });
  });

  test('GIVEN 30 connections with memberships WHEN a broadcast is planned THEN it is ceil(30 / 7) = 5 Scan segments', async () => {
    const s = await setup();
    await connect(s, 30, 'lobby');
    const plan = await planBroadcast(s.planner());
    expect(plan).toEqual({
      kind: 'sharded',
      recipients: 30,
      shards: [0, 1, 2, 3, 4].map((segment) => ({ kind: 'broadcast', segment, totalSegments: 5 })),
    });
  });
});

// Behaviours mutation testing (npm run mutate -- delivery-planner) showed no test pinned down.
describe('shard planner: bounds, expiry and configuration', () => {
  test('GIVEN 11 members, one over the threshold WHEN planned THEN sharded: a range of 7 and the open-ended rest', async () => {
    // GIVEN
    const s = await setup();
    const ids = (await connect(s, 11, 'eleven')).sort();
    // WHEN / THEN
    expect(await planRoom(s.planner(), 'eleven')).toEqual({
      kind: 'sharded', recipients: 11, shards: [{ kind: 'room', room: 'eleven', until: ids[6] }, { kind: 'room', room: 'eleven', after: ids[6] }],
    });
    expect(await planBroadcast(s.planner())).toEqual({
      kind: 'sharded', recipients: 11, shards: [{ kind: 'broadcast', segment: 0, totalSegments: 2 }, { kind: 'broadcast', segment: 1, totalSegments: 2 }],
    });
  });

  test('GIVEN 14 connections, twice the shard size WHEN planned THEN 2 room ranges and 2 Scan segments, no empty third', async () => {
    const s = await setup();
    const ids = (await connect(s, 14, 'fourteen')).sort();
    expect(await planRoom(s.planner(), 'fourteen')).toEqual({
      kind: 'sharded', recipients: 14, shards: [{ kind: 'room', room: 'fourteen', until: ids[6] }, { kind: 'room', room: 'fourteen', after: ids[6] }],
    });
    const broadcast = await planBroadcast(s.planner());
    expect(broadcast.kind === 'sharded' && broadcast.shards.length).toBe(2);
  });

  test('GIVEN members expiring this second and one second ago WHEN planned THEN the live ones are counted, the expired are not', async () => {
    // GIVEN a fixed clock
    const now = Date.UTC(2026, 11, 1, 12, 0, 0, 900);
    const s = await setup();
    const live = await connect(s, 2, 'ttl', Math.floor(now / 1000));
    await connect(s, 3, 'ttl', Math.floor(now / 1000) - 1);
    // WHEN / THEN
    const options = s.planner({ clock: () => now });
    expect(await planRoom(options, 'ttl')).toEqual({ kind: 'direct', connectionIds: live.sort() });
    const broadcast = await planBroadcast(options);
    expect(broadcast.kind === 'direct' && [...broadcast.connectionIds].sort()).toEqual(live);
  });

  test('GIVEN a threshold of 0 and DynamoDB\'s own page size WHEN planned THEN any audience is sharded, an empty one is direct', async () => {
    const s = await setup();
    const ids = await connect(s, 3, 'three');
    const options = s.planner({ shardedAbove: 0, shardSize: 2, pageSize: undefined });
    expect(await planRoom(options, 'three')).toEqual({
      kind: 'sharded', recipients: 3, shards: [{ kind: 'room', room: 'three', until: ids.sort()[1] }, { kind: 'room', room: 'three', after: ids[1] }],
    });
    expect(await planRoom(options, 'nobody')).toEqual({ kind: 'direct', connectionIds: [] });
    // one shard for the whole room: no bounds at all (no `after` field, not one set to undefined)
    expect(await planRoom({ ...options, shardSize: 10 }, 'three')).toStrictEqual({ kind: 'sharded', recipients: 3, shards: [{ kind: 'room', room: 'three' }] });
    expect(await planBroadcast(options)).toMatchObject({ kind: 'sharded', recipients: 3, shards: [{ segment: 0, totalSegments: 2 }, { segment: 1, totalSegments: 2 }] });
    expect(MAX_TOTAL_SEGMENTS).toBe(1_000_000);
  });

  test('GIVEN no room index WHEN a room is planned THEN it is refused naming ROOM_INDEX; a broadcast needs none', async () => {
    const s = await setup();
    await connect(s, 1);
    await expect(planRoom(s.planner({ roomIndex: undefined }), 'lobby')).rejects.toThrow(/^the shard planner needs the room index \(ROOM_INDEX\) to plan a room send$/);
    expect(await planBroadcast(s.planner({ roomIndex: undefined }))).toMatchObject({ kind: 'direct', connectionIds: [expect.any(String)] });
  });
});
