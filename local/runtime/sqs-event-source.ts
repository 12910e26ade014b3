/**
 * Lambda's SQS event source, locally: one poller per enabled mapping receives batches from the in-process queue
 * (`SqsBroker`), invokes the function through the `FunctionInvoker` with the event Lambda sends, and then
 * - on success deletes the batch, or with ReportBatchItemFailures every record except those the function listed
 *   in `batchItemFailures` (a malformed response, e.g. an unknown or empty itemIdentifier, fails the whole batch);
 * - on an error or a timeout deletes nothing: the records reappear after the queue's visibility timeout, and after
 *   `maxReceiveCount` receives the queue moves them to its dead-letter queue.
 * At most `maximumConcurrency` invocations per mapping run at once (LOCAL_MAXIMUM_CONCURRENCY_DEFAULT without it).
 * A batch is sent when it holds `batchSize` records, or when the batching window (MaximumBatchingWindowInSeconds)
 * ends with at least one record. Pollers wait on the queue (no busy polling) and stop on `close()`.
 */
import { LOCAL_MAXIMUM_CONCURRENCY_DEFAULT } from '../assembly/queues';
import type { EventSourceMappingModel, FunctionInvoker, InvocationOutcome } from '../model';
import type { ReceivedMessage, SqsBroker, SqsQueue } from '../services/sqs-queue';

/** How long one receive call may wait for messages before the poller checks again (it is woken by any send). */
const LONG_POLL_MS = 20_000;
/** ReceiveMessage returns at most 10 messages per call; larger batches are gathered over several receives. */
const MAX_PER_RECEIVE = 10;

export interface SqsEventSourcesOptions {
  readonly mappings: readonly EventSourceMappingModel[];
  readonly broker: SqsBroker;
  readonly invoker: FunctionInvoker;
  /** awsRegion of the records. */
  readonly region: string;
  /** A line per failed batch and per unusable batch response. @default - dropped */
  readonly log?: (line: string) => void;
}

export interface SqsEventSources {
  /** Stops polling; invocations in flight are not awaited. */
  close(): Promise<void>;
}

/** The SQS event record Lambda sends for one message. */
export function sqsRecord(received: ReceivedMessage, queue: SqsQueue, region: string): Record<string, unknown> {
  const m = received.message;
  const messageAttributes = Object.fromEntries(Object.entries(m.attributes).map(([name, value]) => [name, {
    ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
    ...(value.BinaryValue !== undefined ? { binaryValue: value.BinaryValue } : {}),
    stringListValues: [],
    binaryListValues: [],
    dataType: value.DataType,
  }]));
  return {
    messageId: m.messageId,
    receiptHandle: received.receiptHandle,
    body: m.body,
    attributes: {
      ApproximateReceiveCount: String(m.receiveCount),
      SentTimestamp: String(m.sentTimestamp),
      SenderId: m.senderId,
      ApproximateFirstReceiveTimestamp: String(m.firstReceiveTimestamp ?? m.sentTimestamp),
    },
    messageAttributes,
    md5OfBody: m.md5OfBody,
    ...(m.md5OfMessageAttributes ? { md5OfMessageAttributes: m.md5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queue.arn,
    awsRegion: region,
  };
}

/**
 * The receipt handles to delete after an invocation, or undefined to delete none. With ReportBatchItemFailures a
 * response of `{ batchItemFailures: [{ itemIdentifier }] }` keeps the listed records; an identifier that is empty
 * or not a record of the batch makes Lambda treat the whole batch as failed.
 */
export function handlesToDelete(mapping: EventSourceMappingModel, batch: readonly ReceivedMessage[], outcome: InvocationOutcome): { delete: string[]; problem?: string } {
  if (outcome.error || outcome.timedOut) return { delete: [] };
  const all = batch.map((r) => r.receiptHandle);
  if (!mapping.reportBatchItemFailures) return { delete: all };
  const result = outcome.result as { batchItemFailures?: unknown } | null | undefined;
  const failures = result && typeof result === 'object' ? result.batchItemFailures : undefined;
  if (failures === undefined || failures === null) return { delete: all };
  if (!Array.isArray(failures)) return { delete: [], problem: 'batchItemFailures is not a list: the whole batch failed' };
  const ids = new Set(batch.map((r) => r.message.messageId));
  const failed = new Set<string>();
  for (const f of failures) {
    const id = (f as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !ids.has(id)) {
      return { delete: [], problem: `batchItemFailures names ${JSON.stringify(id)}, not a messageId of the batch: the whole batch failed` };
    }
    failed.add(id);
  }
  return { delete: batch.filter((r) => !failed.has(r.message.messageId)).map((r) => r.receiptHandle) };
}

export function startSqsEventSources(options: SqsEventSourcesOptions): SqsEventSources {
  const log = options.log ?? (() => undefined);
  const stop = new AbortController();
  const inFlight = new Set<Promise<void>>();
  const loops: Promise<void>[] = [];

  for (const mapping of options.mappings) {
    if (!mapping.enabled) continue;
    const queue = options.broker.byArn(mapping.queueArn);
    if (!queue) {
      log(`SQS event source ${mapping.id}: queue ${mapping.queueArn} is not served; not polled`);
      continue;
    }
    const limit = mapping.maximumConcurrency ?? LOCAL_MAXIMUM_CONCURRENCY_DEFAULT;
    let running = 0;
    let slotFreed: (() => void) | undefined;

    const invoke = async (batch: ReceivedMessage[]): Promise<void> => {
      const event = { Records: batch.map((r) => sqsRecord(r, queue, options.region)) };
      let outcome: InvocationOutcome;
      try {
        outcome = await options.invoker.invoke(mapping.functionId, event);
      } catch (err) {
        outcome = { error: { errorType: 'InvokeError', errorMessage: (err as Error).message }, durationMs: 0 };
      }
      const { delete: handles, problem } = handlesToDelete(mapping, batch, outcome);
      if (outcome.error || outcome.timedOut) {
        log(`SQS event source ${mapping.id}: ${mapping.functionId} ${outcome.timedOut ? 'timed out' : `failed (${outcome.error!.errorType}: ${outcome.error!.errorMessage})`}; ${batch.length} record(s) return after the visibility timeout`);
      } else if (problem) {
        log(`SQS event source ${mapping.id}: ${mapping.functionId} returned an unusable response (${problem})`);
      }
      for (const handle of handles) queue.delete(handle);
    };

    const loop = async (): Promise<void> => {
      while (!stop.signal.aborted) {
        if (running >= limit) {
          await new Promise<void>((resolve) => (slotFreed = resolve));
          continue;
        }
        const batch = await gather(queue, mapping, stop.signal);
        if (stop.signal.aborted) {
          // Stopped while gathering: the records go back to the queue at once.
          for (const r of batch) queue.release(r.receiptHandle);
          break;
        }
        if (batch.length === 0) continue;
        running++;
        const task = invoke(batch).finally(() => {
          running--;
          inFlight.delete(task);
          const wake = slotFreed;
          slotFreed = undefined;
          wake?.();
        });
        inFlight.add(task);
      }
    };
    loops.push(loop());
    stop.signal.addEventListener('abort', () => {
      const wake = slotFreed;
      slotFreed = undefined;
      wake?.();
    });
  }

  return {
    /** Stops polling. Invocations in flight finish (or are stopped with the invoker) on their own. */
    async close(): Promise<void> {
      stop.abort();
      await Promise.all(loops);
    },
  };
}

/** Receives one batch: up to batchSize records, waiting up to the batching window once the first record is in. */
async function gather(queue: SqsQueue, mapping: EventSourceMappingModel, signal: AbortSignal): Promise<ReceivedMessage[]> {
  const batch: ReceivedMessage[] = [];
  const take = (): void => {
    while (batch.length < mapping.batchSize) {
      const got = queue.receive(Math.min(MAX_PER_RECEIVE, mapping.batchSize - batch.length));
      if (got.length === 0) return;
      batch.push(...got);
    }
  };
  take();
  while (batch.length === 0 && !signal.aborted) {
    await queue.waitForMessages(LONG_POLL_MS, signal);
    take();
  }
  if (batch.length > 0 && batch.length < mapping.batchSize && mapping.maximumBatchingWindowSeconds > 0) {
    const windowEnds = Date.now() + mapping.maximumBatchingWindowSeconds * 1000;
    while (batch.length < mapping.batchSize && Date.now() < windowEnds && !signal.aborted) {
      await queue.waitForMessages(windowEnds - Date.now(), signal);
      take();
    }
  }
  return batch;
}
