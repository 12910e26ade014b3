/**
 * Sharded delivery end to end: `sendToRoom` / `broadcast` of the runtime client enqueue a job and the worker's SQS
 * handler delivers it (each step also has its own test file: delivery-job, delivery-planner, delivery-enqueue,
 * delivery-worker),
 * against a real dynalite table, a real HTTP server answering like the `@connections` API, and the real `@aws-sdk/client-sqs` client.
 *
 * No real SQS runs here (no ElasticMQ): the queue is an HTTP server speaking the SQS JSON protocol for the one call
 * the sender makes (SendMessageBatch; test/lambda/support/fake-sqs-queue.ts). The tests hand the enqueued
 * messages to the worker's SQS handler as Lambda's event source mapping would, redelivering a record the handler
 * reported as a batch item failure.
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ConfigurationError, createGatewayClient, GatewayClientOptions } from '../../../lambda/runtime';
import { createLogger } from '../../../lambda/runtime/log';
import { decodeShardMessage } from '../../../lambda/runtime/delivery/job';
import { FakeConnectionsApi, startFakeConnectionsApi } from '../support/fake-connections-api';
import { framesTagged, openConnections, runWorker, shardRecord, WorkerSetup, workerSetup } from '../support/shard-runner';
import { FakeQueue, startFakeQueue } from '../support/fake-sqs-queue';
import { invokeBundle } from '../support/invoke-bundle';
import { ROOM_INDEX, TEST_CREDENTIALS, useLocalDynamo } from '../support/local-dynamodb';

const silent = createLogger({}, () => undefined);

const dynamo = useLocalDynamo();
let api: FakeConnectionsApi;
let queue: FakeQueue;
let idCount = 0;

beforeAll(async () => {
  api = await startFakeConnectionsApi('test', 0);
  queue = await startFakeQueue();
});
afterAll(async () => {
  await api.stop();
  await queue.stop();
});

function newId(): string {
  return `Dl${String(++idCount).padStart(6, '0')}-XyZ=`;
}

interface Setup extends WorkerSetup {
  gateway(extra?: Partial<GatewayClientOptions>): ReturnType<typeof createGatewayClient>;
}

async function setup(): Promise<Setup> {
  const s = await workerSetup(dynamo, api, 'delivery');
  return {
    ...s,
    gateway: (extra = {}) =>
      createGatewayClient({
        env: { CONNECTIONS_TABLE: s.table, ROOM_INDEX, CALLBACK_URL: api.callbackUrl, FANOUT_CONCURRENCY: '4', DELIVERY_QUEUE_URL: queue.url, SHARDED_ABOVE: '10', SHARD_SIZE: '7' },
        dynamoClient: s.doc,
        managementClient: s.management,
        sqsClient: queue.client,
        log: silent,
        retryBaseMs: 1,
        ...extra,
      }),
  };
}

/** `n` open connections, each recorded, all members of `room` when given. */
const connect = (s: Setup, n: number, room?: string): Promise<string[]> => openConnections(api, s.store, newId, n, room);
const record = shardRecord;
/** How many frames tagged `tag` each id received. */
const receivedCounts = (ids: readonly string[], tag: string): number[] => framesTagged(api, ids, tag);

function sum(metrics: Record<string, unknown>[], name: string): number {
  return metrics.reduce((n, m) => n + Number(m[name] ?? 0), 0);
}

// The job format, the shard planner, the enqueue step and the worker have their own test files: delivery-job.test.ts,
// delivery-planner.test.ts, delivery-enqueue.test.ts, delivery-worker.test.ts.

describe('sendToRoom and broadcast with a delivery queue', () => {
  test('GIVEN a room above the threshold WHEN sent to THEN shards are enqueued, and the workers deliver exactly once to every member and to no one else', async () => {
    // GIVEN
    const s = await setup();
    const members = await connect(s, 23, 'big');
    const outsiders = await connect(s, 4, 'other');
    queue.drain();
    // WHEN
    const counts = await s.gateway().sendToRoom('big', { tag: 'room-job' });
    const bodies = queue.drain();
    await runWorker(s.worker(), bodies);
    // THEN
    expect(counts).toEqual({ delivered: 0, gone: 0, failed: 0, queued: 23, jobId: expect.any(String), shards: 4 });
    expect(bodies.map((b) => decodeShardMessage(b).jobId)).toEqual(Array(4).fill(counts.jobId));
    expect(receivedCounts(members, 'room-job')).toEqual(Array(23).fill(1));
    expect(receivedCounts(outsiders, 'room-job')).toEqual([0, 0, 0, 0]);
    expect(sum(s.metrics, 'Delivered')).toBe(23);
    expect(s.metrics[0]).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: 'wsgate', Dimensions: [['DeliveryQueue']], Metrics: expect.arrayContaining([{ Name: 'Delivered', Unit: 'Count' }]) }] },
      DeliveryQueue: 'wsgate-delivery',
      jobId: counts.jobId,
      status: 'done',
    });
    expect(s.metrics).toHaveLength(4);
  });

  test('GIVEN a room at the threshold WHEN sent to THEN it is posted directly and nothing is enqueued', async () => {
    const s = await setup();
    const members = await connect(s, 10, 'small');
    queue.drain();
    const counts = await s.gateway().sendToRoom('small', { tag: 'direct' });
    expect(counts).toEqual({ delivered: 10, gone: 0, failed: 0 });
    expect(queue.drain()).toEqual([]);
    expect(receivedCounts(members, 'direct')).toEqual(Array(10).fill(1));
  });

  test('GIVEN 30 connections, 3 of them gone, WHEN broadcast THEN 5 segments deliver once to each live one and the gone ones are removed', async () => {
    // GIVEN
    const s = await setup();
    const ids = await connect(s, 30, 'lobby');
    const gone = ids.slice(0, 3);
    gone.forEach((id) => api.close(id));
    queue.drain();
    // WHEN
    const counts = await s.gateway().broadcast({ tag: 'bc' });
    await runWorker(s.worker(), queue.drain());
    // THEN
    expect(counts).toMatchObject({ queued: 30, shards: 5 });
    expect(receivedCounts(ids.slice(3), 'bc')).toEqual(Array(27).fill(1));
    expect(sum(s.metrics, 'Delivered')).toBe(27);
    expect(sum(s.metrics, 'Gone')).toBe(3);
    for (const id of gone) expect(await s.store.getConnection(id)).toBeUndefined();
    expect(await s.store.getConnection(ids[3])).toBeDefined();
  });

  test('GIVEN members throttled (429) twice WHEN the shard is worked THEN the posts are retried and every member gets it once', async () => {
    const s = await setup();
    const members = await connect(s, 12, 'busy');
    members.slice(0, 4).forEach((id) => api.failNext(id, 429, 2));
    queue.drain();
    await s.gateway().sendToRoom('busy', { tag: 'throttled' });
    await runWorker(s.worker(), queue.drain());
    expect(receivedCounts(members, 'throttled')).toEqual(Array(12).fill(1));
    expect(sum(s.metrics, 'Failed')).toBe(0);
  });

  test('GIVEN the queue refuses two entries once WHEN a job is enqueued THEN they are sent again; a 100 KB frame goes 2 per batch (256 KiB per request)', async () => {
    const s = await setup();
    await connect(s, 40, 'wide');
    queue.drain();
    queue.batches.length = 0;
    queue.refuseNext(2);
    const counts = await s.gateway().sendToRoom('wide', { tag: 'x', pad: 'p'.repeat(100_000) });
    const bodies = queue.drain();
    expect(counts.shards).toBe(6);
    expect(bodies.map((b) => decodeShardMessage(b).index).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(queue.batches.every((b) => b.bytes <= 256 * 1024 && b.entries <= 2)).toBe(true);
  });

  test('GIVEN the queue keeps refusing an entry WHEN a job is enqueued THEN the send rejects naming how many shards are not on the queue', async () => {
    expect.assertions(2);
    const s = await setup();
    await connect(s, 12, 'refused');
    queue.drain();
    queue.refuseNext(100);
    await expect(s.gateway().sendToRoom('refused', 'x')).rejects.toThrow(/could not enqueue 2 delivery shard\(s\) on http:\/\/127\.0\.0\.1:\d+\/123456789012\/wsgate-delivery after 4 attempts/);
    queue.refuseNext(0);
    expect(queue.drain()).toEqual([]);
  });

  test('GIVEN an invalid DELIVERY_QUEUE_URL or SHARDED_ABOVE WHEN sending to a room THEN a ConfigurationError names the variable', async () => {
    expect.assertions(2);
    const s = await setup();
    const env = { CONNECTIONS_TABLE: s.table, ROOM_INDEX, CALLBACK_URL: api.callbackUrl };
    await expect(s.gateway({ env: { ...env, DELIVERY_QUEUE_URL: 'not a url' } }).sendToRoom('r', 'x')).rejects.toThrow(ConfigurationError);
    await expect(s.gateway({ env: { ...env, DELIVERY_QUEUE_URL: queue.url, SHARDED_ABOVE: '-1' } }).sendToRoom('r', 'x')).rejects.toThrow(/SHARDED_ABOVE is "-1"/);
  });
});

describe('a broadcast to a few thousand connections', () => {
  test('GIVEN 2,400 connections WHEN broadcast with shards of 600 and the 4 shards worked at once THEN every connection gets it exactly once', async () => {
    // GIVEN 2,400 recorded, open connections (written 25 at a time)
    const s = await setup();
    const expiresAt = Math.floor(Date.now() / 1000) + 600;
    const ids = Array.from({ length: 2400 }, () => newId());
    api.open(...ids);
    for (let i = 0; i < ids.length; i += 25) {
      const items = ids.slice(i, i + 25).map((id) => ({ PutRequest: { Item: { pk: `conn#${id}`, sk: 'meta', connectionId: id, userId: 'u', connectedAt: 1, expiresAt } } }));
      await s.doc.send(new BatchWriteCommand({ RequestItems: { [s.table]: items } }));
    }
    queue.drain();
    const env = { CONNECTIONS_TABLE: s.table, ROOM_INDEX, CALLBACK_URL: api.callbackUrl, DELIVERY_QUEUE_URL: queue.url, SHARDED_ABOVE: '1000', SHARD_SIZE: '600' };
    // WHEN
    const counts = await s.gateway({ env }).broadcast({ tag: 'thousands' });
    const bodies = queue.drain();
    const handler = s.worker({ pageSize: 100 });
    const results = await Promise.all(bodies.map((body) => handler({ Records: [record(body)] })));
    // THEN
    expect(counts).toMatchObject({ queued: 2400, shards: 4 });
    expect(results).toEqual(Array(4).fill({ batchItemFailures: [] }));
    const received = receivedCounts(ids, 'thousands');
    expect(received.filter((n) => n !== 1)).toEqual([]);
    expect(sum(s.metrics, 'Delivered')).toBe(2400);
    expect(s.metrics.map((m) => m.shard).sort()).toEqual([0, 1, 2, 3]);
  });
});

describe('the built bundles (run `npm run build:handlers` first)', () => {
  test('GIVEN sendmessage and delivery-worker bundles with the delivery settings WHEN a member sends to a room of 15 THEN the job is enqueued and the worker bundle delivers it once to each member', async () => {
    // GIVEN the environment the gateway sets, the SDK pointed at the local table and queue
    const s = await setup();
    const members = await connect(s, 15, 'hall');
    queue.drain();
    const env = {
      ...process.env,
      CONNECTIONS_TABLE: s.table, ROOM_INDEX, CALLBACK_URL: api.callbackUrl, FANOUT_CONCURRENCY: '4',
      DELIVERY_QUEUE_URL: queue.url, SHARDED_ABOVE: '10', SHARD_SIZE: '6',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint, AWS_ENDPOINT_URL_SQS: queue.url.replace(/\/123456789012\/.*$/, ''),
      AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    };
    const sendEvent = {
      requestContext: { routeKey: 'sendmessage', eventType: 'MESSAGE', connectionId: members[0], identity: { sourceIp: '127.0.0.1' }, authorizer: { principalId: 'carol' } },
      body: '{"action":"sendmessage","data":{"room":"hall","text":"to all fifteen"}}',
      isBase64Encoded: false,
    };
    // WHEN
    expect(await invokeBundle('sendmessage', sendEvent, env)).toEqual({ statusCode: 200 });
    const bodies = queue.drain();
    for (const body of bodies) {
      expect(await invokeBundle('delivery-worker', { Records: [record(body)] }, env)).toEqual({ batchItemFailures: [] });
    }
    // THEN
    expect(bodies).toHaveLength(3);
    expect(members.map((id) => api.received(id).filter((f) => (f as { text?: string }).text === 'to all fifteen').length)).toEqual(Array(15).fill(1));
  });
});
