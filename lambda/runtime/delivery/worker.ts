/**
 * The delivery worker: posts one shard of a delivery job, page by page, with the Messenger (bounded concurrency,
 * 410 cleanup, 429/5xx/network backoff), and records its progress after every page.
 *
 * Progress: the item `pk = job#<jobId>`, `sk = shard#<index>` in the connections table holds the key the next page
 * starts after (`cursor`), the cumulative counts and `done`. It is written after every page has settled (every
 * post of the page delivered, gone or failed for good). A redelivered shard message reads it and resumes.
 *
 * When a recipient can get the frame twice (at-least-once):
 * - the worker stopped (crash, timeout, DynamoDB error) after posting some of a page and before writing that page's
 *   progress: on redelivery that page is posted again, so at most one page (`pageSize` recipients) of that shard;
 * - the queue delivered the same shard message to two workers at once (SQS standard queues may, rarely): both post
 *   the pages neither had recorded yet;
 * - a post failed with a network error after API Gateway had delivered it (the Messenger retries it);
 * - the shard is redriven from the dead-letter queue after its progress item expired (24 hours).
 * Recipients of other shards and of pages already recorded are never posted to again.
 * A post that still fails after its retries is counted as failed and not retried by redelivery.
 */
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DELIVERY_METRICS, LIMITS } from '../../../contract/gateway-contract';
import { epochSeconds } from '../clock';
import { Logger, describeError } from '../log';
import { FanOutCounts, Messenger } from '../messenger';
import { decodeShardMessage, progressKey, ShardMessage } from './job';

export interface WorkerOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly roomIndex: string;
  readonly messenger: Messenger;
  readonly log: Logger;
  readonly clock: () => number;
  /** Recipients read and posted per page, the unit of progress. @default 100 */
  readonly pageSize?: number;
  /** Where the embedded-metric-format line is written. @default stdout */
  readonly metricsSink?: (line: string) => void;
  /**
   * Called before every page; when it returns true the worker records its progress and stops (the shard is
   * redelivered and resumes). @default - never stops early
   */
  readonly shouldPause?: () => boolean;
  /**
   * Makes a paused shard's message visible again at once (ChangeMessageVisibility to 0), so the next receive
   * resumes it without waiting for the visibility timeout. A failure is logged and ignored: the message comes back
   * when its visibility timeout ends. @default - the message comes back when its visibility timeout ends
   */
  readonly releaseForRetry?: (record: ShardRecord) => Promise<void>;
}

export interface ShardResult {
  /** `done`: every page posted; `paused`: stopped early with progress recorded; `skipped`: was already done. */
  readonly status: 'done' | 'paused' | 'skipped';
  /** Posts made by this run. */
  readonly run: FanOutCounts;
  /** Posts of the shard over all its runs (as recorded in its progress). */
  readonly total: FanOutCounts;
}

interface Progress {
  readonly cursor?: Record<string, unknown>;
  readonly counts: FanOutCounts;
  readonly done: boolean;
}

const DEFAULT_PAGE_SIZE = 100;

async function readProgress(options: WorkerOptions, message: ShardMessage): Promise<Progress> {
  const out = await options.client.send(new GetCommand({
    TableName: options.tableName,
    Key: progressKey(message.jobId, message.index),
    ConsistentRead: true,
  }));
  const item = out.Item;
  if (!item) return { counts: { delivered: 0, gone: 0, failed: 0 }, done: false };
  return {
    ...(typeof item.cursor === 'string' ? { cursor: JSON.parse(item.cursor) as Record<string, unknown> } : {}),
    counts: { delivered: Number(item.delivered ?? 0), gone: Number(item.gone ?? 0), failed: Number(item.failed ?? 0) },
    done: item.done === true,
  };
}

async function writeProgress(options: WorkerOptions, message: ShardMessage, progress: Progress): Promise<void> {
  await options.client.send(new PutCommand({
    TableName: options.tableName,
    Item: {
      ...progressKey(message.jobId, message.index),
      ...(progress.cursor ? { cursor: JSON.stringify(progress.cursor) } : {}),
      ...progress.counts,
      done: progress.done,
      shards: message.shards,
      expiresAt: epochSeconds(options.clock()) + LIMITS.deliveryProgressTtlSeconds,
    },
  }));
}

/** Reads one page of the shard's recipients, starting after `cursor`. */
async function readPage(
  options: WorkerOptions,
  message: ShardMessage,
  cursor: Record<string, unknown> | undefined,
): Promise<{ ids: string[]; next?: Record<string, unknown> }> {
  const shard = message.shard;
  const now = epochSeconds(options.clock());
  const limit = options.pageSize ?? DEFAULT_PAGE_SIZE;
  let page: { Items?: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> };
  if (shard.kind === 'room') {
    const start = cursor ?? (shard.after !== undefined
      ? { room: shard.room, connectionId: shard.after, pk: `conn#${shard.after}`, sk: `room#${shard.room}` }
      : undefined);
    page = await options.client.send(new QueryCommand({
      TableName: options.tableName,
      IndexName: options.roomIndex,
      KeyConditionExpression: shard.until !== undefined ? '#room = :room AND connectionId <= :until' : '#room = :room',
      FilterExpression: 'expiresAt >= :now',
      ProjectionExpression: 'connectionId',
      ExpressionAttributeNames: { '#room': 'room' },
      ExpressionAttributeValues: { ':room': shard.room, ':now': now, ...(shard.until !== undefined ? { ':until': shard.until } : {}) },
      Limit: limit,
      ExclusiveStartKey: start,
    }));
  } else {
    page = await options.client.send(new ScanCommand({
      TableName: options.tableName,
      Segment: shard.segment,
      TotalSegments: shard.totalSegments,
      FilterExpression: 'sk = :meta AND expiresAt >= :now',
      ProjectionExpression: 'connectionId',
      ExpressionAttributeValues: { ':meta': 'meta', ':now': now },
      Limit: limit,
      ExclusiveStartKey: cursor,
    }));
  }
  return { ids: (page.Items ?? []).map((item) => String(item.connectionId)), ...(page.LastEvaluatedKey ? { next: page.LastEvaluatedKey } : {}) };
}

function add(a: FanOutCounts, b: FanOutCounts): FanOutCounts {
  return { delivered: a.delivered + b.delivered, gone: a.gone + b.gone, failed: a.failed + b.failed };
}

/** Posts the rest of one shard. Throws on a DynamoDB error (the shard is then redelivered and resumes). */
export async function processShard(options: WorkerOptions, message: ShardMessage): Promise<ShardResult> {
  const zero = { delivered: 0, gone: 0, failed: 0 };
  let progress = await readProgress(options, message);
  if (progress.done) return { status: 'skipped', run: zero, total: progress.counts };
  let run: FanOutCounts = zero;
  // Every run posts at least one page, so a redelivered shard always moves on.
  for (let pages = 0; ; pages++) {
    if (pages > 0 && options.shouldPause?.()) return { status: 'paused', run, total: progress.counts };
    const page = await readPage(options, message, progress.cursor);
    const counts = page.ids.length > 0 ? await options.messenger.fanOut([page.ids], message.data) : zero;
    run = add(run, counts);
    progress = { ...(page.next ? { cursor: page.next } : {}), counts: add(progress.counts, counts), done: page.next === undefined };
    await writeProgress(options, message, progress);
    if (progress.done) return { status: 'done', run, total: progress.counts };
  }
}

/** One line of CloudWatch embedded metric format: this run's counts, as the metrics of the delivery queue. */
export function metricsLine(queueName: string, message: ShardMessage, result: ShardResult, timestamp: number): string {
  return JSON.stringify({
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [{
        Namespace: DELIVERY_METRICS.namespace,
        Dimensions: [[DELIVERY_METRICS.queueDimension]],
        Metrics: [
          { Name: DELIVERY_METRICS.delivered, Unit: 'Count' },
          { Name: DELIVERY_METRICS.gone, Unit: 'Count' },
          { Name: DELIVERY_METRICS.failed, Unit: 'Count' },
        ],
      }],
    },
    [DELIVERY_METRICS.queueDimension]: queueName,
    jobId: message.jobId,
    shard: message.index,
    shards: message.shards,
    status: result.status,
    [DELIVERY_METRICS.delivered]: result.run.delivered,
    [DELIVERY_METRICS.gone]: result.run.gone,
    [DELIVERY_METRICS.failed]: result.run.failed,
    jobShardDelivered: result.total.delivered,
    jobShardGone: result.total.gone,
    jobShardFailed: result.total.failed,
  });
}

/** The SQS event records the worker reads (a subset of aws-lambda's SQSRecord). */
export interface ShardRecord {
  readonly messageId: string;
  readonly body: string;
  readonly receiptHandle?: string;
  readonly eventSourceARN?: string;
}

export interface BatchResponse {
  readonly batchItemFailures: { itemIdentifier: string }[];
}

/**
 * The SQS event handler: each record is one shard. A record whose shard did not finish (paused, error, not a
 * shard message) is reported as a batch item failure, so the queue redelivers it and, after `maxReceiveCount`
 * receives, moves it to the dead-letter queue.
 */
export function createDeliveryWorkerHandler(
  options: WorkerOptions,
): (event: { Records: readonly ShardRecord[] }, context?: { getRemainingTimeInMillis?: () => number }) => Promise<BatchResponse> {
  const sink = options.metricsSink ?? ((line: string) => process.stdout.write(`${line}\n`));
  return async (event, context) => {
    const failures: { itemIdentifier: string }[] = [];
    // Stop before the function's timeout with a margin for one page and the progress write.
    const remaining = context?.getRemainingTimeInMillis;
    const shouldPause = options.shouldPause ?? (remaining ? () => remaining() < 10_000 : undefined);
    for (const record of event.Records) {
      const queueName = (record.eventSourceARN ?? '').split(':').pop() || 'unknown';
      let message: ShardMessage;
      try {
        message = decodeShardMessage(record.body);
      } catch (err) {
        options.log.error('shard_message_invalid', { messageId: record.messageId, ...describeError(err) });
        failures.push({ itemIdentifier: record.messageId });
        continue;
      }
      try {
        const result = await processShard({ ...options, ...(shouldPause ? { shouldPause } : {}) }, message);
        sink(metricsLine(queueName, message, result, options.clock()));
        if (result.status === 'paused') {
          failures.push({ itemIdentifier: record.messageId });
          await options.releaseForRetry?.(record).catch((err: unknown) =>
            options.log.warn('shard_release_failed', { messageId: record.messageId, ...describeError(err) }));
        }
      } catch (err) {
        options.log.error('shard_failed', { messageId: record.messageId, jobId: message.jobId, shard: message.index, ...describeError(err) });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  };
}
