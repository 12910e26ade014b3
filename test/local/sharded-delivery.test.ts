/**
 * Sharded delivery run by the emulator (issue 10 "the emulator runs it"): the fixture app (fixtures/sharded) is a
 * WebSocketGateway with `delivery` at small sizes, synthesized for real; `sendmessage` enqueues a broadcast job on
 * the local SQS, the SQS event source invokes the bundled delivery worker per shard, and real `ws` clients count
 * what they receive. Local IAM is on: every SQS, DynamoDB and `@connections` call is the functions' own, checked
 * against their roles. One emulator for the file; the queue's visibility timeout is 5 s in the fixture.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { App } from 'aws-cdk-lib';
import WebSocket from 'ws';
import { signDevToken } from '../../local/dev-token';
import { startEmulator, type RunningEmulator } from '../../local/emulator';
import { CRASH_AT_POST, MAX_RECEIVE_COUNT, SHARD_SIZE, SHARDED_TOKEN_AUDIENCE, SHARDED_TOKEN_ISSUER, ShardedStack } from './fixtures/sharded/sharded-stack';
import { invokeFunction, scanTable } from './support/emulator-kit';

const CLIENTS = 450;
const PAGE_SIZE = 100; // the worker's page (the unit of recorded progress)

let workDir: string;
let crashDir: string;
let emulator: RunningEmulator;
let sqs: SQSClient;
const functionOutput: Array<{ id: string; stream: string; line: string }> = [];
/** Per client: the texts of the chat messages it received. */
const clients: Array<{ socket: WebSocket; texts: string[] }> = [];
let queueUrl: string;
let dlqUrl: string;

function connect(url: string): Promise<{ socket: WebSocket; texts: string[] }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const client = { socket, texts: [] as string[] };
    socket.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString('utf8'));
      if (frame.type === 'message') client.texts.push(frame.text);
    });
    socket.once('open', () => resolve(client));
    socket.once('error', reject);
  });
}

/** Resolves when `probe()` holds, checked after each event loop turn (bounded: 60 s, for a loaded machine). */
async function until(probe: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function queueDepth(url: string): Promise<{ visible: number; inFlight: number }> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return { visible: Number(out.Attributes!.ApproximateNumberOfMessages), inFlight: Number(out.Attributes!.ApproximateNumberOfMessagesNotVisible) };
}

/** The worker's embedded-metric-format lines (one per shard run), parsed. */
function metricLines(): Array<Record<string, any>> {
  return functionOutput
    .filter((o) => o.id.includes('DeliveryWorker') && o.line.includes('"CloudWatchMetrics"'))
    .map((o) => JSON.parse(o.line.slice(o.line.indexOf('{'))));
}

/** Sends a broadcast from client 0 and waits until every shard of its job is done and the queue is empty. */
async function broadcast(text: string, expectedRecipients: (c: { texts: string[] }) => boolean = () => true): Promise<string> {
  const jobsBefore = new Set(metricLines().map((m) => m.jobId));
  clients[0].socket.send(JSON.stringify({ action: 'sendmessage', data: { text } }));
  await until(() => clients.filter(expectedRecipients).every((c) => c.texts.includes(text)), `every client to receive ${text}`);
  let jobId = '';
  await until(async () => {
    const job = metricLines().find((m) => !jobsBefore.has(m.jobId));
    if (!job) return false;
    jobId = job.jobId;
    const progress = (await scanTable(emulator)).filter((i) => i.pk === `job#${jobId}`);
    const depth = await queueDepth(queueUrl);
    return progress.length === job.shards && progress.every((p) => p.done === true) && depth.visible + depth.inFlight === 0;
  }, `the job of ${text} to finish`);
  return jobId;
}

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-sharded-'));
  crashDir = path.join(workDir, 'crash');
  fs.mkdirSync(crashDir);
  const assemblyDir = path.join(workDir, 'cdk.out');
  const app = new App({ outdir: assemblyDir });
  new ShardedStack(app, 'Sharded', { crashDir });
  app.synth();
  emulator = await startEmulator({ assemblyDir, port: 0, functionLog: (id, stream, line) => functionOutput.push({ id, stream, line }) });
  sqs = new SQSClient({ endpoint: emulator.sqsEndpoint, region: 'us-east-1', credentials: emulator.developerCredentials! });
  const queues = emulator.model.queues!;
  queueUrl = queues.find((q) => q.redrive)!.queueUrl;
  dlqUrl = queues.find((q) => !q.redrive)!.queueUrl;
  const token = await signDevToken({ user: 'fan', issuer: SHARDED_TOKEN_ISSUER, audience: SHARDED_TOKEN_AUDIENCE });
  const url = `${emulator.endpoints[0].websocketUrl}?token=${encodeURIComponent(token)}`;
  for (let i = 0; i < CLIENTS; i += 50) {
    clients.push(...(await Promise.all(Array.from({ length: Math.min(50, CLIENTS - i) }, () => connect(url)))));
  }
  // Two warm worker instances (the mapping's maximum concurrency): a cold start on a loaded machine can outlast the
  // fixture's short visibility timeout, and the shard would then be redelivered to a second worker, as on AWS.
  const worker = emulator.model.functions[emulator.model.eventSourceMappings![0].functionId];
  const warm = await Promise.all([1, 2].map(() => invokeFunction(emulator, worker.constructPath!, { Records: [] })));
  expect(warm.map((w) => w.body)).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
}, 120_000);

afterAll(async () => {
  // The emulator first: it closes the connections and runs their $disconnect before stopping its DynamoDB.
  sqs?.destroy();
  await emulator?.close();
  for (const c of clients) c.socket.terminate();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

describe('sharded delivery through the emulator', () => {
  test('GIVEN the fixture WHEN loaded THEN its delivery queue, dead-letter queue and the worker\'s SQS event source are run', () => {
    const [mapping] = emulator.model.eventSourceMappings!;
    expect(emulator.model.queues).toHaveLength(2);
    expect(mapping).toMatchObject({ batchSize: 1, reportBatchItemFailures: true, maximumConcurrency: 2, enabled: true });
    expect(emulator.model.functions[mapping.functionId].constructPath).toMatch(/DeliveryWorker/);
    expect(emulator.model.queues!.find((q) => q.redrive)!.redrive!.maxReceiveCount).toBe(MAX_RECEIVE_COUNT);
    expect(emulator.warnings.filter((w) => /event source|queue/i.test(w))).toEqual([]);
  });

  test('GIVEN 450 clients WHEN one broadcasts THEN the job is cut into shards and every client gets the message exactly once', async () => {
    // WHEN
    const jobId = await broadcast('hello-everyone');
    // THEN
    const runs = metricLines().filter((m) => m.jobId === jobId);
    expect(runs[0].shards).toBe(Math.ceil(CLIENTS / SHARD_SIZE));
    expect(runs.map((m) => m.status)).toEqual(Array(runs[0].shards).fill('done')); // one run per shard
    expect(runs.reduce((sum, m) => sum + m.Delivered, 0)).toBe(CLIENTS);
    const copies = clients.map((c) => c.texts.filter((t) => t === 'hello-everyone').length);
    expect(copies.filter((n) => n !== 1)).toEqual([]);
  }, 120_000);

  test('GIVEN a worker that crashes in the second page of a shard WHEN a broadcast runs THEN the shard is redelivered, resumes after its recorded page, and no client misses it', async () => {
    // GIVEN
    fs.writeFileSync(path.join(crashDir, 'armed'), '');
    // WHEN
    const jobId = await broadcast('after-a-crash');
    // THEN: the crash happened, the shard came back after the visibility timeout and resumed after page 1
    expect(fs.existsSync(path.join(crashDir, 'fired'))).toBe(true);
    const runs = metricLines().filter((m) => m.jobId === jobId);
    expect(runs).toHaveLength(runs[0].shards); // the crashed run wrote no metric line; every shard finished once
    const resumed = runs.filter((m) => m.Delivered !== m.jobShardDelivered);
    expect(resumed).toHaveLength(1);
    // the retry skipped the page recorded before the crash (a Scan page holds at most PAGE_SIZE recipients)
    const skipped = resumed[0].jobShardDelivered - resumed[0].Delivered;
    expect(skipped).toBeGreaterThan(0);
    expect(skipped).toBeLessThanOrEqual(PAGE_SIZE);
    const copies = clients.map((c) => c.texts.filter((t) => t === 'after-a-crash').length);
    expect(copies.filter((n) => n === 0)).toEqual([]);
    // duplicates only within the crashed page: at most the posts it had started before the crash
    expect(copies.filter((n) => n > 2)).toEqual([]);
    expect(copies.filter((n) => n === 2).length).toBeLessThanOrEqual(CRASH_AT_POST - 1 - skipped);
  }, 120_000);

  test('GIVEN stale connection records (gone without $disconnect) WHEN a broadcast reaches them THEN they are answered 410 and removed from the table', async () => {
    // GIVEN: 30 records of connections the gateway does not have
    const db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: emulator.dynamodbEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
    const tableName = emulator.model.tables[0].tableName;
    const stale = Array.from({ length: 30 }, (_, i) => `StaleConn${String(i).padStart(3, '0')}=`);
    const expiresAt = Math.floor(Date.now() / 1000) + 3600;
    for (const id of stale) {
      await db.send(new PutCommand({ TableName: tableName, Item: { pk: `conn#${id}`, sk: 'meta', connectionId: id, userId: 'ghost', connectedAt: Date.now(), expiresAt } }));
    }
    // WHEN
    const jobId = await broadcast('to-the-living');
    // THEN
    const runs = metricLines().filter((m) => m.jobId === jobId);
    expect(runs.reduce((sum, m) => sum + m.Gone, 0)).toBe(stale.length);
    expect(runs.reduce((sum, m) => sum + m.Delivered, 0)).toBe(CLIENTS);
    const left = (await scanTable(emulator)).filter((i) => String(i.connectionId).startsWith('StaleConn'));
    expect(left).toEqual([]);
    db.destroy();
  }, 120_000);

  test('GIVEN a message that is not a delivery shard WHEN the worker keeps failing it THEN after maxReceiveCount receives it is in the dead-letter queue (the alarm\'s metric)', async () => {
    // GIVEN
    expect(await queueDepth(dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
    // WHEN
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"not":"a shard"}' }));
    // THEN
    await until(async () => (await queueDepth(dlqUrl)).visible === 1, 'the poison message to reach the dead-letter queue');
    expect(await queueDepth(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    const refusals = functionOutput.filter((o) => o.id.includes('DeliveryWorker') && o.line.includes('shard_message_invalid'));
    expect(refusals).toHaveLength(MAX_RECEIVE_COUNT);
  }, 60_000);
});
