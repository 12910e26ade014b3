/**
 * Enqueues the shards of a delivery job on the delivery queue: SendMessageBatch of at most 10 messages and at most
 * 256 KiB per request, entries the queue refused retried (with backoff) a bounded number of times.
 * If some shards still cannot be enqueued, an error names how many: the shards already enqueued are delivered.
 */
import { randomUUID } from 'node:crypto';
import { SendMessageBatchCommand, SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import { sleep as realSleep } from '../sleep';
import { encodeShardMessage, JOB_FORMAT_VERSION, Shard, ShardMessage } from './job';

const MAX_BATCH_ENTRIES = 10;
const MAX_BATCH_BYTES = 256 * 1024;

export interface EnqueueOptions {
  readonly client: Pick<SQSClient, 'send'>;
  readonly queueUrl: string;
  /** Attempts per entry the queue refused, the first included. @default 4 */
  readonly maxAttempts?: number;
  readonly retryBaseMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default crypto.randomUUID */
  readonly newJobId?: () => string;
}

export interface EnqueuedJob {
  readonly jobId: string;
  readonly shards: number;
}

/** Enqueues one message per shard; resolves when every shard is on the queue. */
export async function enqueueJob(options: EnqueueOptions, data: string, shards: readonly Shard[]): Promise<EnqueuedJob> {
  const jobId = (options.newJobId ?? randomUUID)();
  const entries: SendMessageBatchRequestEntry[] = shards.map((shard, index) => {
    const message: ShardMessage = { v: JOB_FORMAT_VERSION, jobId, index, shards: shards.length, data, shard };
    return { Id: String(index), MessageBody: encodeShardMessage(message) };
  });
  for (const batch of batches(entries)) await sendBatch(options, batch);
  return { jobId, shards: shards.length };
}

function* batches(entries: readonly SendMessageBatchRequestEntry[]): Generator<SendMessageBatchRequestEntry[]> {
  let batch: SendMessageBatchRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = Buffer.byteLength(entry.MessageBody ?? '', 'utf8');
    if (batch.length > 0 && (batch.length === MAX_BATCH_ENTRIES || bytes + size > MAX_BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(entry);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

async function sendBatch(options: EnqueueOptions, entries: SendMessageBatchRequestEntry[]): Promise<void> {
  const maxAttempts = options.maxAttempts ?? 4;
  const sleep = options.sleep ?? realSleep;
  let pending = entries;
  for (let attempt = 1; ; attempt++) {
    const out = await options.client.send(new SendMessageBatchCommand({ QueueUrl: options.queueUrl, Entries: pending }));
    const failed = new Set((out.Failed ?? []).map((f) => f.Id));
    const permanent = (out.Failed ?? []).find((f) => f.SenderFault);
    pending = pending.filter((e) => failed.has(e.Id));
    if (pending.length === 0) return;
    if (permanent || attempt >= maxAttempts) {
      throw new Error(
        `could not enqueue ${pending.length} delivery shard(s) on ${options.queueUrl}` +
          (permanent ? `: ${permanent.Code ?? 'error'} ${permanent.Message ?? ''}`.trimEnd() : ` after ${attempt} attempts`),
      );
    }
    await sleep((options.retryBaseMs ?? 100) * 2 ** (attempt - 1));
  }
}
