/**
 * The delivery worker (lambda/runtime/delivery/worker.ts): its SQS handler posting one shard of a delivery job page by
 * page, recording progress under job#<id>, resuming a redelivered shard, pausing before the function's timeout, and
 * writing one embedded-metric-format line per run, against a real dynalite table and a real HTTP server answering
 * like the `@connections` API (test/lambda/support/), through the real AWS SDK clients. The shard messages are
 * built with the job format's own encoder and handed to the handler as Lambda's event source mapping would,
 * redelivering a record the handler reported as a batch item failure.
 */
import { GetCommand, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { encodeShardMessage, ShardMessage } from '../../../lambda/runtime/delivery/job';
import { planBroadcast } from '../../../lambda/runtime/delivery/planner';
import {
  createDeliveryWorkerHandler, metricsLine, processShard, ShardRecord,
} from '../../../lambda/runtime/delivery/worker';
import { FakeConnectionsApi, startFakeConnectionsApi } from '../support/fake-connections-api';
import { framesTagged, openConnections, runWorker, shardRecord, WorkerSetup, workerSetup } from '../support/shard-runner';
import { ROOM_INDEX, useLocalDynamo } from '../support/local-dynamodb';

const dynamo = useLocalDynamo();
let api: FakeConnectionsApi;
let jobCount = 0;
let idCount = 0;

beforeAll(async () => {
  api = await startFakeConnectionsApi('test', 0);
});
afterAll(async () => {
  await api.stop();
});

function newId(): string {
  return `Wk${String(++idCount).padStart(6, '0')}-XyZ=`;
}

type Setup = WorkerSetup;
const setup = (): Promise<Setup> => workerSetup(dynamo, api, 'worker');

/** `n` open connections, each recorded, all members of `room` when given. */
const connect = (s: Setup, n: number, room?: string): Promise<string[]> => openConnections(api, s.store, newId, n, room);
const record = shardRecord;
/** How many frames tagged `tag` each id received. */
const receivedCounts = (ids: readonly string[], tag: string): number[] => framesTagged(api, ids, tag);

describe('delivery worker', () => {
  test('GIVEN a worker that fails writing its third page of progress WHEN the shard is redelivered THEN it resumes: only that page is posted twice', async () => {
    // GIVEN a shard of 20 members read 5 per page
    const s = await setup();
    const members = (await connect(s, 20, 'crash')).sort();
    const body = encodeShardMessage({ v: 1, jobId: 'crash-job', index: 0, shards: 1, data: JSON.stringify({ tag: 'crash' }), shard: { kind: 'room', room: 'crash' } });
    const send = s.doc.send.bind(s.doc);
    let progressWrites = 0;
    const spy = jest.spyOn(s.doc, 'send').mockImplementation(((command: unknown) => {
      if (command instanceof PutCommand && String(command.input.Item?.pk).startsWith('job#') && ++progressWrites === 3) {
        return Promise.reject(new Error('simulated crash before the progress write'));
      }
      return send(command as never);
    }) as never);
    // WHEN
    const receives = await runWorker(s.worker(), [body]);
    spy.mockRestore();
    // THEN the first receive failed, the second resumed after page 2
    expect(receives).toBe(2);
    expect(s.errors.map((e) => e.event)).toEqual(['shard_failed']);
    expect(receivedCounts(members, 'crash')).toEqual([...Array(10).fill(1), ...Array(5).fill(2), ...Array(5).fill(1)]);
    expect(s.metrics.map((m) => m.Delivered)).toEqual([10]);
    expect(s.metrics[0]).toMatchObject({ jobShardDelivered: 20 });
  });

  test('GIVEN a worker running out of time WHEN it pauses after each page THEN it releases the message, the shard is redelivered until done, each member posted once', async () => {
    const s = await setup();
    const members = await connect(s, 12, 'slow');
    const body = encodeShardMessage({ v: 1, jobId: 'slow-job', index: 0, shards: 1, data: JSON.stringify({ tag: 'slow' }), shard: { kind: 'room', room: 'slow' } });
    const released: string[] = [];
    let failRelease = true;
    const releaseForRetry = async (r: ShardRecord) => {
      released.push(r.messageId);
      if (failRelease) {
        failRelease = false;
        throw new Error('SQS unavailable');
      }
    };
    const receives = await runWorker(s.worker({ shouldPause: () => true, releaseForRetry }), [body]);
    expect(receives).toBe(3);
    expect(released).toHaveLength(2);
    expect(s.metrics.map((m) => m.status)).toEqual(['paused', 'paused', 'done']);
    expect(receivedCounts(members, 'slow')).toEqual(Array(12).fill(1));
  });

  test('GIVEN a shard already done WHEN its message is delivered again THEN nothing is posted; a poison message is reported failed every time', async () => {
    const s = await setup();
    const members = await connect(s, 6, 'again');
    const body = encodeShardMessage({ v: 1, jobId: 'again-job', index: 0, shards: 1, data: JSON.stringify({ tag: 'again' }), shard: { kind: 'room', room: 'again' } });
    const handler = s.worker();
    await runWorker(handler, [body, body]);
    expect(receivedCounts(members, 'again')).toEqual(Array(6).fill(1));
    expect(s.metrics.map((m) => m.status)).toEqual(['done', 'skipped']);
    const poison = record('{"v":1,"jobId":"p"}');
    expect(await handler({ Records: [poison, record(body)] })).toEqual({ batchItemFailures: [{ itemIdentifier: poison.messageId }] });
    expect(s.errors.map((e) => e.event)).toEqual(['shard_message_invalid']);
  });

  test('GIVEN progress items WHEN written THEN they live under job#<id> with a TTL and carry no room attribute (never in the room index)', async () => {
    const s = await setup();
    await connect(s, 3, 'ttl');
    const body = encodeShardMessage({ v: 1, jobId: 'ttl-job', index: 0, shards: 1, data: '"x"', shard: { kind: 'room', room: 'ttl' } });
    await runWorker(s.worker(), [body]);
    const items = (await dynamo.snapshot(s.table)).filter((i) => String(i.pk).startsWith('job#'));
    const now = Math.floor(Date.now() / 1000);
    expect(items).toEqual([{ pk: 'job#ttl-job', sk: 'shard#0', delivered: 3, gone: 0, failed: 0, done: true, shards: 1, expiresAt: expect.any(Number) }]);
    expect(Number(items[0].expiresAt) - now).toBeGreaterThan(23 * 3600);
    const broadcast = await planBroadcast({ client: s.doc, tableName: s.table, shardedAbove: 10, shardSize: 7, clock: Date.now });
    expect(broadcast.kind === 'direct' && broadcast.connectionIds.length).toBe(3);
  });
});

describe('delivery worker: reads, progress items, metrics and the handler in detail', () => {
  const shardOf = (shard: ShardMessage['shard'], jobId = `job-${++jobCount}`, data = '{"tag":"d"}'): ShardMessage => ({ v: 1, jobId, index: 0, shards: 1, data, shard });
  /** Commands the document client sent, by class. */
  function spySends(s: Setup): { gets: Record<string, unknown>[]; puts: Record<string, unknown>[]; reads: Record<string, unknown>[] } {
    const out = { gets: [] as Record<string, unknown>[], puts: [] as Record<string, unknown>[], reads: [] as Record<string, unknown>[] };
    const send = s.doc.send.bind(s.doc);
    jest.spyOn(s.doc, 'send').mockImplementation(((command: unknown) => {
      const input = (command as { input: Record<string, unknown> }).input;
      if (command instanceof GetCommand) out.gets.push(input);
      else if (command instanceof PutCommand) out.puts.push(input);
      else if (command instanceof QueryCommand || command instanceof ScanCommand) out.reads.push(input);
      return send(command as never);
    }) as never);
    return out;
  }
  afterEach(() => jest.restoreAllMocks());

  test('GIVEN a room shard of 12 read 5 per page WHEN processed THEN progress is read consistently, written after each page with the next key, and the last write is done without a cursor', async () => {
    // GIVEN a fixed clock (the progress TTL is exact)
    const s = await setup();
    await connect(s, 12, 'pages');
    const now = Date.now();
    const sent = spySends(s);
    const message = shardOf({ kind: 'room', room: 'pages' }, 'pages-job');
    // WHEN
    const result = await processShard({ ...s.options, clock: () => now }, message);
    // THEN
    expect(result).toEqual({ status: 'done', run: { delivered: 12, gone: 0, failed: 0 }, total: { delivered: 12, gone: 0, failed: 0 } });
    expect(sent.gets).toEqual([{ TableName: s.table, Key: { pk: 'job#pages-job', sk: 'shard#0' }, ConsistentRead: true }]);
    const expiresAt = Math.floor(now / 1000) + 24 * 3600;
    expect(sent.puts.map((p) => p.Item)).toEqual([
      { pk: 'job#pages-job', sk: 'shard#0', cursor: expect.any(String), delivered: 5, gone: 0, failed: 0, done: false, shards: 1, expiresAt },
      { pk: 'job#pages-job', sk: 'shard#0', cursor: expect.any(String), delivered: 10, gone: 0, failed: 0, done: false, shards: 1, expiresAt },
      { pk: 'job#pages-job', sk: 'shard#0', delivered: 12, gone: 0, failed: 0, done: true, shards: 1, expiresAt },
    ]);
    // the cursor is the room index key the next page starts after
    const cursor = JSON.parse(String((sent.puts[0].Item as Record<string, unknown>).cursor)) as Record<string, unknown>;
    expect(Object.keys(cursor).sort()).toEqual(['connectionId', 'pk', 'room', 'sk']);
    expect(sent.reads[1].ExclusiveStartKey).toEqual(cursor);
    expect(sent.reads.map((r) => [r.IndexName, r.Limit, r.ProjectionExpression, r.FilterExpression])).toEqual(sent.reads.map(() => [ROOM_INDEX, 5, 'connectionId', 'expiresAt >= :now']));
  });

  test('GIVEN a shard of two pages with a gone and a failing member in each WHEN processed THEN run, total and the progress item count each outcome', async () => {
    // GIVEN 10 members read 5 per page; in each page one is gone and one answers 403 (not retried)
    const s = await setup();
    const ids = (await connect(s, 10, 'mixed')).sort();
    for (const page of [ids.slice(0, 5), ids.slice(5)]) {
      api.close(page[0]);
      api.failNext(page[1], 403, 1);
    }
    // WHEN
    const result = await processShard(s.options, shardOf({ kind: 'room', room: 'mixed' }, 'mixed-job'));
    // THEN
    const counts = { delivered: 6, gone: 2, failed: 2 };
    expect(result).toEqual({ status: 'done', run: counts, total: counts });
    const progress = (await dynamo.snapshot(s.table)).filter((i) => i.pk === 'job#mixed-job');
    expect(progress).toEqual([expect.objectContaining({ ...counts, done: true })]);
  });

  test('GIVEN no pageSize WHEN a shard is read THEN pages of 100 are asked for', async () => {
    const s = await setup();
    await connect(s, 2, 'hundred');
    const sent = spySends(s);
    const { pageSize: _ignored, ...withoutPageSize } = s.options;
    await processShard(withoutPageSize, shardOf({ kind: 'room', room: 'hundred' }));
    expect(sent.reads.map((r) => r.Limit)).toEqual([100]);
  });

  test('GIVEN a room shard with bounds WHEN processed THEN only the members after `after` and up to `until` (inclusive) get the frame', async () => {
    // GIVEN 8 members in connection id order
    const s = await setup();
    const ids = (await connect(s, 8, 'ranged')).sort();
    // WHEN: three shards cut at ids[2] and ids[5]
    const shards: ShardMessage['shard'][] = [
      { kind: 'room', room: 'ranged', until: ids[2] },
      { kind: 'room', room: 'ranged', after: ids[2], until: ids[5] },
      { kind: 'room', room: 'ranged', after: ids[5] },
    ];
    const results = [];
    for (const [i, shard] of shards.entries()) results.push(await processShard(s.options, { ...shardOf(shard, 'ranged-job', JSON.stringify({ tag: `s${i}` })), index: i, shards: 3 }));
    // THEN
    expect(results.map((r) => r.run.delivered)).toEqual([3, 3, 2]);
    expect(ids.map((id) => api.received(id).map((f) => (f as { tag: string }).tag))).toEqual([['s0'], ['s0'], ['s0'], ['s1'], ['s1'], ['s1'], ['s2'], ['s2']]);
  });

  test('GIVEN members and connections whose TTL passed, or is this second WHEN a room and a broadcast shard are processed THEN expired ones are skipped, this second is still live', async () => {
    // GIVEN
    const s = await setup();
    const now = Date.now();
    const nowS = Math.floor(now / 1000);
    const [live] = await connect(s, 1, 'ttl');
    const [edge, expired] = [newId(), newId()];
    api.open(edge, expired);
    for (const [id, expiresAt] of [[edge, nowS], [expired, nowS - 1]] as const) {
      await s.store.putConnection({ connectionId: id, userId: 'u', connectedAt: now, expiresAt });
      await s.store.joinRoom({ connectionId: id, room: 'ttl', userId: 'u', joinedAt: now, expiresAt });
    }
    // WHEN
    const room = await processShard({ ...s.options, clock: () => now }, shardOf({ kind: 'room', room: 'ttl' }, 'ttl-room', '{"tag":"room"}'));
    const all = await processShard({ ...s.options, clock: () => now }, shardOf({ kind: 'broadcast', segment: 0, totalSegments: 1 }, 'ttl-all', '{"tag":"all"}'));
    // THEN: the broadcast reads only connection records (sk = meta), never memberships or progress items
    expect(room.run).toEqual({ delivered: 2, gone: 0, failed: 0 });
    expect(all.run).toEqual({ delivered: 2, gone: 0, failed: 0 });
    expect(receivedCounts([live, edge, expired], 'room')).toEqual([1, 1, 0]);
    expect(receivedCounts([live, edge, expired], 'all')).toEqual([1, 1, 0]);
  });

  test('GIVEN 9 connections WHEN broadcast as 3 Scan segments THEN each connection gets the frame from exactly one segment', async () => {
    const s = await setup();
    const ids = await connect(s, 9, 'seg');
    const sent = spySends(s);
    const runs = [];
    for (let segment = 0; segment < 3; segment++) {
      runs.push(await processShard(s.options, { ...shardOf({ kind: 'broadcast', segment, totalSegments: 3 }, 'seg-job', '{"tag":"seg"}'), index: segment, shards: 3 }));
    }
    expect(runs.reduce((n, r) => n + r.run.delivered, 0)).toBe(9);
    expect(receivedCounts(ids, 'seg')).toEqual(Array(9).fill(1));
    expect(sent.reads.filter((r) => r.ExclusiveStartKey === undefined).map((r) => [r.Segment, r.TotalSegments])).toEqual([[0, 3], [1, 3], [2, 3]]);
  });

  test('GIVEN progress items written by another writer WHEN the shard is processed THEN a missing count is 0, a cursor resumes, and only done === true skips', async () => {
    // GIVEN 6 members; progress after the first 3 with only `delivered` recorded
    const s = await setup();
    const ids = (await connect(s, 6, 'resume')).sort();
    const cursor = { room: 'resume', connectionId: ids[2], pk: `conn#${ids[2]}`, sk: 'room#resume' };
    await s.doc.send(new PutCommand({ TableName: s.table, Item: { pk: 'job#resume-job', sk: 'shard#0', cursor: JSON.stringify(cursor), delivered: 3, done: 'yes' } }));
    await s.doc.send(new PutCommand({ TableName: s.table, Item: { pk: 'job#done-job', sk: 'shard#0', delivered: 7, gone: 1, failed: 2, done: true } }));
    // WHEN
    const resumed = await processShard(s.options, shardOf({ kind: 'room', room: 'resume' }, 'resume-job', '{"tag":"r"}'));
    const skipped = await processShard(s.options, shardOf({ kind: 'room', room: 'resume' }, 'done-job', '{"tag":"never"}'));
    // THEN
    expect(resumed).toEqual({ status: 'done', run: { delivered: 3, gone: 0, failed: 0 }, total: { delivered: 6, gone: 0, failed: 0 } });
    expect(receivedCounts(ids, 'r')).toEqual([0, 0, 0, 1, 1, 1]);
    expect(skipped).toEqual({ status: 'skipped', run: { delivered: 0, gone: 0, failed: 0 }, total: { delivered: 7, gone: 1, failed: 2 } });
    expect(receivedCounts(ids, 'never')).toEqual(Array(6).fill(0));
  });

  test('GIVEN a pause requested before the first page WHEN processed THEN one page is still posted (a redelivered shard always moves on)', async () => {
    const s = await setup();
    await connect(s, 7, 'onepage');
    const result = await processShard({ ...s.options, shouldPause: () => true }, shardOf({ kind: 'room', room: 'onepage' }));
    expect(result).toEqual({ status: 'paused', run: { delivered: 5, gone: 0, failed: 0 }, total: { delivered: 5, gone: 0, failed: 0 } });
  });

  test('GIVEN a run WHEN its metrics line is made THEN it is the embedded-metric-format object with this run\'s counts and the shard\'s totals', () => {
    const message: ShardMessage = { v: 1, jobId: 'm-job', index: 2, shards: 4, data: 'x', shard: { kind: 'broadcast', segment: 2, totalSegments: 4 } };
    const line = metricsLine('my-queue', message, { status: 'paused', run: { delivered: 1, gone: 2, failed: 3 }, total: { delivered: 4, gone: 5, failed: 6 } }, 1_700_000_000_123);
    expect(JSON.parse(line)).toStrictEqual({
      _aws: {
        Timestamp: 1_700_000_000_123,
        CloudWatchMetrics: [{
          Namespace: 'wsgate',
          Dimensions: [['DeliveryQueue']],
          Metrics: [{ Name: 'Delivered', Unit: 'Count' }, { Name: 'Gone', Unit: 'Count' }, { Name: 'Failed', Unit: 'Count' }],
        }],
      },
      DeliveryQueue: 'my-queue',
      jobId: 'm-job',
      shard: 2,
      shards: 4,
      status: 'paused',
      Delivered: 1,
      Gone: 2,
      Failed: 3,
      jobShardDelivered: 4,
      jobShardGone: 5,
      jobShardFailed: 6,
    });
  });

  test.each([
    [undefined, 'unknown'],
    ['arn:aws:sqs:us-east-1:123456789012:', 'unknown'],
    ['arn:aws:sqs:eu-west-1:123456789012:orders-delivery', 'orders-delivery'],
  ])('GIVEN a record with eventSourceARN %s WHEN worked THEN the metrics name the queue %s', async (arn, name) => {
    const s = await setup();
    await connect(s, 1, 'named');
    const body = encodeShardMessage(shardOf({ kind: 'room', room: 'named' }));
    expect(await s.worker()({ Records: [{ messageId: 'n-1', body, ...(arn !== undefined ? { eventSourceARN: arn } : {}) }] })).toEqual({ batchItemFailures: [] });
    expect(s.metrics.map((m) => m.DeliveryQueue)).toEqual([name]);
  });

  test('GIVEN no metrics sink WHEN a shard is worked THEN the metrics line is written to stdout', async () => {
    const s = await setup();
    await connect(s, 1, 'stdout');
    const { metricsSink: _ignored, ...options } = s.options;
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    await createDeliveryWorkerHandler(options)({ Records: [record(encodeShardMessage(shardOf({ kind: 'room', room: 'stdout' }, 'stdout-job')))] });
    const lines = out.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('stdout-job'));
    out.mockRestore();
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('}\n')).toBe(true);
    expect(JSON.parse(lines[0])).toMatchObject({ jobId: 'stdout-job', status: 'done', Delivered: 1 });
  });

  test.each([
    [9_999, 'paused'],
    [10_000, 'done'],
  ])('GIVEN %i ms left in the invocation WHEN a shard of two pages is worked THEN the run ends %s (the margin is 10,000 ms)', async (left, status) => {
    const s = await setup();
    await connect(s, 7, `time${left}`);
    const r = record(encodeShardMessage(shardOf({ kind: 'room', room: `time${left}` })));
    const released: string[] = [];
    const out = await s.worker({ releaseForRetry: async (rec) => void released.push(rec.messageId) })({ Records: [r] }, { getRemainingTimeInMillis: () => left });
    expect(s.metrics.map((m) => [m.status, m.Delivered])).toEqual([[status, status === 'paused' ? 5 : 7]]);
    expect(out).toEqual({ batchItemFailures: status === 'paused' ? [{ itemIdentifier: r.messageId }] : [] });
    expect(released).toEqual(status === 'paused' ? [r.messageId] : []);
  });

  test('GIVEN a shouldPause option and a context WHEN worked THEN the option decides; without either the shard runs to the end', async () => {
    const s = await setup();
    await connect(s, 7, 'option');
    const body = encodeShardMessage(shardOf({ kind: 'room', room: 'option' }, 'option-job'));
    await s.worker({ shouldPause: () => false })({ Records: [record(body)] }, { getRemainingTimeInMillis: () => 0 });
    await s.worker()({ Records: [record(encodeShardMessage(shardOf({ kind: 'room', room: 'option' }, 'plain-job')))] }, {});
    expect(s.metrics.map((m) => [m.jobId, m.status, m.Delivered])).toEqual([['option-job', 'done', 7], ['plain-job', 'done', 7]]);
  });

  test('GIVEN a paused shard whose release fails WHEN worked THEN the failure is logged as a warning and the record is still reported failed; without releaseForRetry nothing is released', async () => {
    const s = await setup();
    await connect(s, 7, 'release');
    const r = record(encodeShardMessage(shardOf({ kind: 'room', room: 'release' })));
    const failing = s.worker({ shouldPause: () => true, releaseForRetry: async () => Promise.reject(Object.assign(new Error('SQS down'), { name: 'ServiceUnavailable' })) });
    expect(await failing({ Records: [r] })).toEqual({ batchItemFailures: [{ itemIdentifier: r.messageId }] });
    expect(s.lines.filter((l) => l.event === 'shard_release_failed')).toEqual([
      expect.objectContaining({ level: 'warn', messageId: r.messageId, error: 'ServiceUnavailable', errorMessage: 'SQS down' }),
    ]);
    const r2 = record(encodeShardMessage(shardOf({ kind: 'room', room: 'release' }, 'no-release-job')));
    expect(await s.worker({ shouldPause: () => true })({ Records: [r2] })).toEqual({ batchItemFailures: [{ itemIdentifier: r2.messageId }] });
  });

  test('GIVEN a batch of an invalid record, a failing shard and a good shard WHEN worked THEN each failure is logged with what it was and only those two are reported', async () => {
    // GIVEN a shard on a room index that does not exist (the Query fails), between a poison message and a good shard
    const s = await setup();
    await connect(s, 2, 'batch');
    const poison = record('not json');
    const failing = record(encodeShardMessage({ ...shardOf({ kind: 'room', room: 'batch' }, 'bad-index-job'), index: 3, shards: 4 }));
    const good = record(encodeShardMessage(shardOf({ kind: 'room', room: 'batch' }, 'good-job')));
    const handler = s.worker();
    const badIndex = s.worker({ roomIndex: 'noSuchIndex' });
    // WHEN
    const first = await handler({ Records: [poison, good] });
    const second = await badIndex({ Records: [failing] });
    // THEN
    expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: poison.messageId }] });
    expect(second).toEqual({ batchItemFailures: [{ itemIdentifier: failing.messageId }] });
    expect(s.errors).toEqual([
      expect.objectContaining({ event: 'shard_message_invalid', messageId: poison.messageId, error: 'InvalidShardMessageError', errorMessage: expect.stringMatching(/not JSON/) }),
      expect.objectContaining({ event: 'shard_failed', messageId: failing.messageId, jobId: 'bad-index-job', shard: 3, error: expect.any(String), errorMessage: expect.any(String) }),
    ]);
    expect(s.metrics.map((m) => m.jobId)).toEqual(['good-job']);
  });
});
