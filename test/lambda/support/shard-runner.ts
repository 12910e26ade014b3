/**
 * Test helpers for the delivery worker: recorded open connections, shard messages handed to the worker's handler as
 * Lambda's SQS event source mapping hands them (a record reported as a batch item failure is delivered again), and
 * the frames each connection received.
 */
import type { ConnectionStore } from '../../../lambda/runtime/connection-store';
import type { BatchResponse, ShardRecord } from '../../../lambda/runtime/delivery/worker';
import type { FakeConnectionsApi } from './fake-connections-api';

export const DELIVERY_QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:wsgate-delivery';

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
