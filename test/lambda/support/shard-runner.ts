/**
 * Test helpers for the delivery worker: recorded open connections, shard messages handed to the worker's handler as
 * Lambda's SQS event source mapping hands them (a record reported as a batch item failure is delivered again), and
 * the frames each connection received.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConnectionStore } from '../../../lambda/runtime/connection-store';
import { BatchResponse, createDeliveryWorkerHandler, ShardRecord, WorkerOptions } from '../../../lambda/runtime/delivery/worker';
import { createLogger } from '../../../lambda/runtime/log';
import type { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { createManagementClient } from '../../../lambda/runtime/management-client';
import { Messenger } from '../../../lambda/runtime/messenger';
import type { FakeConnectionsApi } from './fake-connections-api';
import { LocalDynamo, ROOM_INDEX, TEST_CREDENTIALS, documentClientFor } from './local-dynamodb';

export const DELIVERY_QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:wsgate-delivery';

/** A fresh connections table with the store, the messenger and a worker over it, and what the worker wrote. */
export interface WorkerSetup {
  readonly table: string;
  readonly doc: DynamoDBDocumentClient;
  readonly store: ConnectionStore;
  readonly management: ApiGatewayManagementApiClient;
  readonly messenger: Messenger;
  /** Metric lines the worker wrote. */
  readonly metrics: Record<string, unknown>[];
  /** Every log line the worker wrote. */
  readonly lines: Record<string, unknown>[];
  readonly errors: Record<string, unknown>[];
  /** The worker's options (page size 5, the real clock). */
  readonly options: WorkerOptions;
  worker(extra?: Partial<WorkerOptions>): ReturnType<typeof createDeliveryWorkerHandler>;
}

let tableCount = 0;
/** A new table `<prefix>-<n>` in `dynamo`, posting to `api` with 4 posts at a time and 1 ms retry waits. */
export async function workerSetup(dynamo: LocalDynamo, api: FakeConnectionsApi, prefix: string): Promise<WorkerSetup> {
  const table = `${prefix}-${++tableCount}`;
  await dynamo.createConnectionsTable(table);
  const doc = documentClientFor(dynamo.endpoint);
  const store = new ConnectionStore({ client: doc, tableName: table, roomIndex: ROOM_INDEX });
  const management = createManagementClient(api.callbackUrl, { region: 'us-east-1', credentials: TEST_CREDENTIALS });
  const silent = createLogger({}, () => undefined);
  const messenger = new Messenger({ client: management, removeConnection: (id) => store.deleteConnection(id), concurrency: 4, retryBaseMs: 1, log: silent });
  const metrics: Record<string, unknown>[] = [];
  const lines: Record<string, unknown>[] = [];
  const errors: Record<string, unknown>[] = [];
  const log = createLogger({}, (line) => {
    const parsed = JSON.parse(line) as Record<string, unknown>;
    lines.push(parsed);
    if (parsed.level === 'error') errors.push(parsed);
  });
  const options: WorkerOptions = {
    client: doc, tableName: table, roomIndex: ROOM_INDEX, messenger, log, clock: Date.now, pageSize: 5,
    metricsSink: (line) => metrics.push(JSON.parse(line) as Record<string, unknown>),
  };
  return { table, doc, store, management, messenger, metrics, lines, errors, options, worker: (extra = {}) => createDeliveryWorkerHandler({ ...options, ...extra }) };
}

/** `n` connections open at `api` and recorded in `store` (TTL 10 minutes), all members of `room` when given. */
export async function openConnections(api: FakeConnectionsApi, store: ConnectionStore, newId: () => string, n: number, room?: string): Promise<string[]> {
  const ids: string[] = [];
  const expiresAt = Math.floor(Date.now() / 1000) + 600;
  for (let i = 0; i < n; i++) {
    const id = newId();
    api.open(id);
    await store.putConnection({ connectionId: id, userId: `u-${id}`, connectedAt: Date.now(), expiresAt });
    if (room) await store.joinRoom({ connectionId: id, room, userId: `u-${id}`, joinedAt: Date.now(), expiresAt });
    ids.push(id);
  }
  return ids;
}

let messageCount = 0;
/** An SQS record of the delivery queue carrying `body`, with a message id of its own. */
export function shardRecord(body: string): ShardRecord {
  return { messageId: `msg-${++messageCount}`, body, eventSourceARN: DELIVERY_QUEUE_ARN };
}

/** Runs the worker on every body until none is reported failed (at most `rounds` receives each); returns receives. */
export async function runWorker(handler: (e: { Records: readonly ShardRecord[] }) => Promise<BatchResponse>, bodies: string[], rounds = 5): Promise<number> {
  let receives = 0;
  for (const body of bodies) {
    for (let round = 1; ; round++) {
      receives++;
      const r = shardRecord(body);
      const out = await handler({ Records: [r] });
      if (out.batchItemFailures.length === 0) break;
      expect(out.batchItemFailures).toEqual([{ itemIdentifier: r.messageId }]);
      if (round >= rounds) throw new Error(`shard still failing after ${rounds} receives`);
    }
  }
  return receives;
}

/** How many frames tagged `tag` each id received at `api`. */
export function framesTagged(api: FakeConnectionsApi, ids: readonly string[], tag: string): number[] {
  return ids.map((id) => api.received(id).filter((f) => (f as { tag?: string }).tag === tag).length);
}
