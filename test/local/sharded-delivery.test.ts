/**
 * Sharded delivery run by the emulator (issue 10 "the emulator runs it"): the fixture app (fixtures/sharded) is a
 * WebSocketGateway with `delivery` at small sizes, synthesized for real; `sendmessage` enqueues a broadcast job on
 * the local SQS, the SQS event source invokes the bundled delivery worker per shard, and real `ws` clients count
 * what they receive. Local IAM is on: every SQS, DynamoDB and `@connections` call is the functions' own, checked
 * against their roles (a second emulator on the same assembly runs with it off, under the simulated @connections rate).
 * The template's visibility timeout (6 minutes) is set per test on the local queue: 60 s where a shard must not be
 * received twice, 5 s where the test waits for a redelivery (a crashed worker, a poison message).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetQueueAttributesCommand, SendMessageCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { App } from 'aws-cdk-lib';
import WebSocket from 'ws';
import { signDevToken } from '../../local/dev-token';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../local/emulator';
import { CRASH_AT_POST, MAX_RECEIVE_COUNT, SHARD_SIZE, SHARDED_TOKEN_AUDIENCE, SHARDED_TOKEN_ISSUER, ShardedStack } from './fixtures/sharded/sharded-stack';
import { invokeFunction, scanTable } from './support/emulator-kit';

const CLIENTS = 450;
const PAGE_SIZE = 100; // the worker's page (the unit of recorded progress)
const THROTTLED_CLIENTS = 100;
/** The worker's 20 posts in flight (one shard), each held LATENCY_MS, ask for at most 50/s: below RATE, once it is free. */
const RATE = 100;
const BURST = 5;
const LATENCY_MS = 400;
/** Requests in flight of the other caller: 150/s offered, over RATE. */
const HOG_CONCURRENCY = 60;

let workDir: string;
let crashDir: string;
let assemblyDir: string;

/** Resolves when `probe()` holds, checked every 50 ms (bounded: 60 s, for a loaded machine). */
async function until(probe: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One emulator on the fixture's assembly, its clients (each keeping the texts of the chat messages it received). */
class LocalRun {
  emulator!: RunningEmulator;
  sqs!: SQSClient;
  readonly output: Array<{ id: string; stream: string; line: string }> = [];
  readonly clients: Array<{ socket: WebSocket; texts: string[] }> = [];
  queueUrl = '';
  dlqUrl = '';

  async start(clientCount: number, options: Partial<EmulatorOptions> = {}): Promise<void> {
    this.emulator = await startEmulator({ assemblyDir, port: 0, functionLog: (id, stream, line) => this.output.push({ id, stream, line }), ...options });
    this.sqs = new SQSClient({ endpoint: this.emulator.sqsEndpoint, region: 'us-east-1', credentials: this.emulator.developerCredentials ?? { accessKeyId: 'local', secretAccessKey: 'local' } });
    const queues = this.emulator.model.queues!;
    this.queueUrl = queues.find((q) => q.redrive)!.queueUrl;
    this.dlqUrl = queues.find((q) => !q.redrive)!.queueUrl;
    const token = await signDevToken({ user: 'fan', issuer: SHARDED_TOKEN_ISSUER, audience: SHARDED_TOKEN_AUDIENCE });
    const url = `${this.emulator.endpoints[0].websocketUrl}?token=${encodeURIComponent(token)}`;
    for (let i = 0; i < clientCount; i += 100) {
      this.clients.push(...(await Promise.all(Array.from({ length: Math.min(100, clientCount - i) }, () => this.connect(url)))));
    }
    // Two warm worker instances (the mapping's maximum concurrency): a cold start on a loaded machine can outlast the
    // short visibility timeout of the crash and poison tests, and the shard would then be redelivered to a second worker, as on AWS.
    const worker = this.emulator.model.functions[this.emulator.model.eventSourceMappings![0].functionId];
    const warm = await Promise.all([1, 2].map(() => invokeFunction(this.emulator, worker.constructPath!, { Records: [] })));
    expect(warm.map((w) => w.body)).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
  }

  private connect(url: string): Promise<{ socket: WebSocket; texts: string[] }> {
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

  async queueDepth(url: string): Promise<{ visible: number; inFlight: number }> {
    const out = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    return { visible: Number(out.Attributes!.ApproximateNumberOfMessages), inFlight: Number(out.Attributes!.ApproximateNumberOfMessagesNotVisible) };
  }

  /** The worker's embedded-metric-format lines (one per shard run), parsed. */
  metricLines(): Array<Record<string, any>> {
    return this.output
      .filter((o) => o.id.includes('DeliveryWorker') && o.line.includes('"CloudWatchMetrics"'))
      .map((o) => JSON.parse(o.line.slice(o.line.indexOf('{'))));
  }

  /** SetQueueAttributes VisibilityTimeout of the delivery queue (the template's is 6 minutes). */
  async visibilityTimeout(seconds: number): Promise<void> {
    await this.sqs.send(new SetQueueAttributesCommand({ QueueUrl: this.queueUrl, Attributes: { VisibilityTimeout: String(seconds) } }));
  }

  /** How many copies of `text` each client received. */
  copies(text: string): number[] {
    return this.clients.map((c) => c.texts.filter((t) => t === text).length);
  }

  /** Sends a broadcast from client 0 and waits until every client has it, every shard of its job is done and the queue is empty. */
  async broadcast(text: string): Promise<Array<Record<string, any>>> {
    const jobsBefore = new Set(this.metricLines().map((m) => m.jobId));
    this.clients[0].socket.send(JSON.stringify({ action: 'sendmessage', data: { text } }));
    await until(() => this.clients.every((c) => c.texts.includes(text)), `every client to receive ${text}`);
    let jobId = '';
    await until(async () => {
      const job = this.metricLines().find((m) => !jobsBefore.has(m.jobId));
      if (!job) return false;
      jobId = job.jobId;
      const done = new Set(this.metricLines().filter((m) => m.jobId === jobId && m.status === 'done').map((m) => m.shard));
      if (done.size < job.shards) return false;
      const depth = await this.queueDepth(this.queueUrl);
      return depth.visible + depth.inFlight === 0;
    }, `the job of ${text} to finish`);
    const progress = (await scanTable(this.emulator)).filter((i) => i.pk === `job#${jobId}`);
    expect(progress.map((p) => p.done)).toEqual(Array(progress.length).fill(true));
    return this.metricLines().filter((m) => m.jobId === jobId);
  }

  async close(): Promise<void> {
    // The emulator first: it closes the connections and runs their $disconnect before stopping its DynamoDB.
    this.sqs?.destroy();
    await this.emulator?.close();
    for (const c of this.clients) c.socket.terminate();
  }
}

beforeAll(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-sharded-'));
  crashDir = path.join(workDir, 'crash');
  fs.mkdirSync(crashDir);
  assemblyDir = path.join(workDir, 'cdk.out');
  const app = new App({ outdir: assemblyDir });
  new ShardedStack(app, 'Sharded', { crashDir });
  app.synth();
});

afterAll(() => {
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

describe('sharded delivery through the emulator', () => {
  const run = new LocalRun();
  let emulator: RunningEmulator;
  beforeAll(async () => {
    await run.start(CLIENTS);
    emulator = run.emulator;
  }, 120_000);
  afterAll(() => run.close());

  test('GIVEN the fixture WHEN loaded THEN its delivery queue, dead-letter queue and the worker\'s SQS event source are run', () => {
    const [mapping] = emulator.model.eventSourceMappings!;
    expect(emulator.model.queues).toHaveLength(2);
    expect(mapping).toMatchObject({ batchSize: 1, reportBatchItemFailures: true, maximumConcurrency: 2, enabled: true });
    expect(emulator.model.functions[mapping.functionId].constructPath).toMatch(/DeliveryWorker/);
    expect(emulator.model.queues!.find((q) => q.redrive)!.redrive!.maxReceiveCount).toBe(MAX_RECEIVE_COUNT);
    expect(emulator.warnings.filter((w) => /event source|queue/i.test(w))).toEqual([]);
  });

  test('GIVEN 450 clients WHEN one broadcasts THEN the job is cut into shards and every client gets the message exactly once', async () => {
    // GIVEN: AWS's long visibility timeout (a shard slowed by the loaded machine is not received twice)
    await run.visibilityTimeout(60);
    // WHEN
    const runs = await run.broadcast('hello-everyone');
    // THEN
    expect(runs[0].shards).toBe(Math.ceil(CLIENTS / SHARD_SIZE));
    expect(runs.map((m) => m.status)).toEqual(Array(runs[0].shards).fill('done')); // one run per shard
    expect(runs.reduce((sum, m) => sum + m.Delivered, 0)).toBe(CLIENTS);
    expect(run.copies('hello-everyone').filter((n) => n !== 1)).toEqual([]);
    expect(fs.existsSync(path.join(crashDir, 'throttled'))).toBe(false); // no simulated rate limit here: no 429
  }, 120_000);

  test('GIVEN a worker that crashes in the second page of a shard WHEN a broadcast runs THEN the shard is redelivered, resumes after its recorded page, and no client misses it', async () => {
    // GIVEN: a short visibility timeout (5 s), so the crashed shard comes back soon
    await run.visibilityTimeout(5);
    fs.writeFileSync(path.join(crashDir, 'armed'), '');
    // WHEN
    const runs = await run.broadcast('after-a-crash');
    // THEN: the crash happened, the shard came back after the visibility timeout and resumed after page 1
    expect(fs.existsSync(path.join(crashDir, 'fired'))).toBe(true);
    expect(runs).toHaveLength(runs[0].shards); // the crashed run wrote no metric line; every shard finished once
    const resumed = runs.filter((m) => m.Delivered !== m.jobShardDelivered);
    expect(resumed).toHaveLength(1);
    // the retry skipped the page recorded before the crash (a Scan page holds at most PAGE_SIZE recipients)
    const skipped = resumed[0].jobShardDelivered - resumed[0].Delivered;
    expect(skipped).toBeGreaterThan(0);
    expect(skipped).toBeLessThanOrEqual(PAGE_SIZE);
    const copies = run.copies('after-a-crash');
    expect(copies.filter((n) => n === 0)).toEqual([]);
    // duplicates only within the crashed page: at most the posts it had started before the crash
    expect(copies.filter((n) => n > 2)).toEqual([]);
    expect(copies.filter((n) => n === 2).length).toBeLessThanOrEqual(CRASH_AT_POST - 1 - skipped);
  }, 120_000);

  test('GIVEN stale connection records (gone without $disconnect) WHEN a broadcast reaches them THEN they are answered 410 and removed from the table', async () => {
    // GIVEN: 30 records of connections the gateway does not have (and a long visibility timeout, as in (a))
    await run.visibilityTimeout(60);
    const db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: emulator.dynamodbEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
    const tableName = emulator.model.tables[0].tableName;
    const stale = Array.from({ length: 30 }, (_, i) => `StaleConn${String(i).padStart(3, '0')}=`);
    const expiresAt = Math.floor(Date.now() / 1000) + 3600;
    for (const id of stale) {
      await db.send(new PutCommand({ TableName: tableName, Item: { pk: `conn#${id}`, sk: 'meta', connectionId: id, userId: 'ghost', connectedAt: Date.now(), expiresAt } }));
    }
    // WHEN
    const runs = await run.broadcast('to-the-living');
    // THEN
    expect(runs.reduce((sum, m) => sum + m.Gone, 0)).toBe(stale.length);
    expect(runs.reduce((sum, m) => sum + m.Delivered, 0)).toBe(CLIENTS);
    const left = (await scanTable(emulator)).filter((i) => String(i.connectionId).startsWith('StaleConn'));
    // (a failed cleanup is logged by the worker: shown here when it happens)
    const cleanupFailures = run.output.filter((o) => o.id.includes('DeliveryWorker') && o.line.includes('stale_connection_not_removed')).map((o) => o.line);
    expect({ left, cleanupFailures }).toEqual({ left: [], cleanupFailures: [] });
    db.destroy();
  }, 120_000);

  test('GIVEN a message that is not a delivery shard WHEN the worker keeps failing it THEN after maxReceiveCount receives it is in the dead-letter queue (the alarm\'s metric)', async () => {
    // GIVEN
    await run.visibilityTimeout(5);
    expect(await run.queueDepth(run.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
    // WHEN
    await run.sqs.send(new SendMessageCommand({ QueueUrl: run.queueUrl, MessageBody: '{"not":"a shard"}' }));
    // THEN
    await until(async () => (await run.queueDepth(run.dlqUrl)).visible === 1, 'the poison message to reach the dead-letter queue');
    expect(await run.queueDepth(run.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    const refusals = run.output.filter((o) => o.id.includes('DeliveryWorker') && o.line.includes('shard_message_invalid'));
    expect(refusals).toHaveLength(MAX_RECEIVE_COUNT);
  }, 60_000);
});

describe('sharded delivery under the simulated @connections rate, local IAM off', () => {
  const run = new LocalRun();
  // With local IAM off (`--no-iam`): the same app runs unchecked.
  beforeAll(() => run.start(THROTTLED_CLIENTS, { iam: false, connectionsRatePerSecond: RATE, connectionsBurst: BURST, connectionsLatencyMs: LATENCY_MS }), 120_000);
  afterAll(() => run.close());

  test(`GIVEN the account's @connections rate (${RATE}/s, ${LATENCY_MS} ms per call) used up by another caller WHEN the worker posts a broadcast THEN its posts answered 429 are retried once it frees up and every client gets it exactly once`, async () => {
    // GIVEN: throttled shards could take longer than a 5 s visibility timeout: 60 s, so none is redelivered
    await run.visibilityTimeout(60);
    const throttledFile = path.join(crashDir, 'throttled');
    // WHEN: the broadcast, and as soon as the worker holds its shard, another caller of the account's @connections
    // (unsigned: the rate is taken before the signature is read) uses the rate up until a worker post is answered 429
    const broadcast = run.broadcast('through-the-bottleneck');
    await until(async () => (await run.queueDepth(run.queueUrl)).inFlight > 0, 'the worker to receive its shard');
    const url = `${run.emulator.endpoints[0].callbackUrl}/@connections/someone-else`;
    let hogging = true;
    const hog = Array.from({ length: HOG_CONCURRENCY }, async () => {
      while (hogging) await (await fetch(url, { method: 'POST', body: 'x' })).arrayBuffer();
    });
    await until(() => fs.existsSync(throttledFile), 'a worker post answered 429').finally(() => (hogging = false));
    await Promise.all(hog);
    const runs = await broadcast;
    // THEN
    expect(fs.readFileSync(throttledFile, 'utf8').length).toBeGreaterThan(0);
    expect(runs.reduce((sum, m) => sum + m.Failed, 0)).toBe(0);
    expect(runs.reduce((sum, m) => sum + m.Delivered, 0)).toBe(THROTTLED_CLIENTS);
    expect(run.copies('through-the-bottleneck').filter((n) => n !== 1)).toEqual([]);
  }, 120_000);
});
