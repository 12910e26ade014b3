/**
 * Enqueueing a delivery job (lambda/runtime/delivery/enqueue.ts) through the real `@aws-sdk/client-sqs` client on an
 * HTTP server speaking the SQS JSON protocol (test/lambda/support/fake-sqs-queue.ts): one message per shard,
 * SendMessageBatch of at most 10 entries and 256 KiB, refused entries (only those) sent again with doubling waits,
 * and the error naming what could not be enqueued. The waits are observed through the `sleep` option, not measured.
 */
import { enqueueJob, EnqueueOptions } from '../../../lambda/runtime/delivery/enqueue';
import { decodeShardMessage, encodeShardMessage, JOB_FORMAT_VERSION, Shard } from '../../../lambda/runtime/delivery/job';
import { FakeQueue, startFakeQueue } from '../support/fake-sqs-queue';

let queue: FakeQueue;
beforeAll(async () => {
  queue = await startFakeQueue();
});
afterAll(async () => {
  await queue.stop();
});
beforeEach(() => {
  queue.drain();
  queue.batches.length = 0;
  queue.refuseNext(0);
});

/** `n` broadcast shards (segments of n). */
const segments = (n: number): Shard[] => Array.from({ length: n }, (_, i) => ({ kind: 'broadcast' as const, segment: i, totalSegments: n }));

function options(extra: Partial<EnqueueOptions> = {}): EnqueueOptions & { waits: number[] } {
  const waits: number[] = [];
  return { client: queue.client, queueUrl: queue.url, newJobId: () => 'job-7', sleep: async (ms) => void waits.push(ms), waits, ...extra };
}

describe('enqueueJob', () => {
  test('GIVEN three room shards WHEN enqueued THEN one message per shard, each the encoded shard message with its index, in one batch', async () => {
    // GIVEN
    const shards: Shard[] = [
      { kind: 'room', room: 'hall', until: 'B=' },
      { kind: 'room', room: 'hall', after: 'B=', until: 'D=' },
      { kind: 'room', room: 'hall', after: 'D=' },
    ];
    // WHEN
    const job = await enqueueJob(options(), '{"t":1}', shards);
    // THEN
    expect(job).toEqual({ jobId: 'job-7', shards: 3 });
    expect(queue.drain()).toEqual(shards.map((shard, index) => encodeShardMessage({ v: JOB_FORMAT_VERSION, jobId: 'job-7', index, shards: 3, data: '{"t":1}', shard })));
    expect(queue.batches.map((b) => b.ids)).toEqual([['0', '1', '2']]);
  });

  test('GIVEN no job id generator WHEN enqueued THEN the job id is a random UUID, the same in every shard and new for every job', async () => {
    const first = await enqueueJob({ client: queue.client, queueUrl: queue.url }, 'x', segments(2));
    const second = await enqueueJob({ client: queue.client, queueUrl: queue.url }, 'x', segments(1));
    expect(first.jobId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(second.jobId).not.toBe(first.jobId);
    expect(queue.drain().map((b) => decodeShardMessage(b).jobId)).toEqual([first.jobId, first.jobId, second.jobId]);
  });

  test('GIVEN no shards WHEN enqueued THEN no request is made', async () => {
    const before = queue.requestCount;
    expect(await enqueueJob(options(), 'x', [])).toEqual({ jobId: 'job-7', shards: 0 });
    expect(queue.requestCount).toBe(before);
  });

  test.each([
    [10, [10]],
    [11, [10, 1]],
    [20, [10, 10]],
    [21, [10, 10, 1]],
  ])('GIVEN %i small shards WHEN enqueued THEN batches of %j entries', async (n, sizes) => {
    await enqueueJob(options(), 'x', segments(n));
    expect(queue.batches.map((b) => b.entries)).toEqual(sizes);
    expect(queue.batches.flatMap((b) => b.ids)).toEqual(Array.from({ length: n }, (_, i) => String(i)));
  });

  test('GIVEN two messages of together exactly 256 KiB WHEN enqueued THEN one batch; one byte more each THEN two', async () => {
    // GIVEN data sized so that each message body is exactly 131,072 bytes (then 131,073)
    const bodyBytes = (data: string) => Buffer.byteLength(encodeShardMessage({ v: JOB_FORMAT_VERSION, jobId: 'job-7', index: 0, shards: 2, data, shard: segments(2)[0] }));
    const fill = 131_072 - bodyBytes('');
    const exact = 'é'.repeat(Math.floor(fill / 2)) + 'x'.repeat(fill % 2);
    expect(bodyBytes(exact)).toBe(131_072);
    // WHEN / THEN
    await enqueueJob(options(), exact, segments(2));
    expect(queue.batches.map((b) => [b.entries, b.bytes])).toEqual([[2, 256 * 1024]]);
    queue.batches.length = 0;
    await enqueueJob(options(), `${exact}y`, segments(2));
    expect(queue.batches.map((b) => [b.entries, b.bytes])).toEqual([[1, 131_073], [1, 131_073]]);
  });

  test('GIVEN a frame at the post limit that JSON escaping would blow up to 786,432 bytes WHEN enqueued THEN each message carries it in base64, under SQS\'s 256 KiB, one per request', async () => {
    // GIVEN 131,072 bytes of control characters: each would be 6 bytes (\u0001) as a JSON string
    const data = '\u0001'.repeat(131_072);
    // WHEN
    await enqueueJob(options(), data, segments(2));
    // THEN two bodies of about 175 KB (two would exceed a batch's 256 KiB together), each decoding to the frame
    expect(queue.batches.map((b) => b.entries)).toEqual([1, 1]);
    for (const batch of queue.batches) expect(batch.bytes).toBeLessThan(256 * 1024);
    expect(queue.drain().map((b) => decodeShardMessage(b).data === data)).toEqual([true, true]);
  });

  test('GIVEN the queue refuses some entries WHEN enqueued THEN only the refused ones are sent again, after 100 ms, then 200 ms (the defaults)', async () => {
    // GIVEN: the first batch's first 3 entries refused, then the same 3 again
    const o = options();
    queue.refuseNext(3);
    // WHEN
    await enqueueJob(o, 'x', segments(12));
    // THEN: batch 1 (10 entries, 3 refused), its retry (3), then batch 2 (2)
    expect(queue.batches.map((b) => b.ids)).toEqual([['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], ['0', '1', '2'], ['10', '11']]);
    expect(o.waits).toEqual([100]);
    expect(queue.drain().map((b) => decodeShardMessage(b).index).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    // AND with the refusal repeated on the retry, the waits double
    const again = options();
    queue.refuseNext(2);
    await enqueueJob({ ...again, sleep: async (ms) => {
      again.waits.push(ms);
      if (again.waits.length === 1) queue.refuseNext(1);
    } }, 'x', segments(2));
    expect(again.waits).toEqual([100, 200]);
    expect(queue.batches.slice(3).map((b) => b.ids)).toEqual([['0', '1'], ['0', '1'], ['0']]);
  });

  test('GIVEN the queue keeps refusing WHEN enqueued THEN it rejects after maxAttempts (default 4) naming how many and where; retryBaseMs sets the waits', async () => {
    queue.refuseNext(1_000);
    const byDefault = options();
    await expect(enqueueJob(byDefault, 'x', segments(3))).rejects.toThrow(new RegExp(`^could not enqueue 3 delivery shard\\(s\\) on ${queue.url.replace(/[.]/g, '\\.')} after 4 attempts$`));
    expect(byDefault.waits).toEqual([100, 200, 400]);
    const two = options({ maxAttempts: 2, retryBaseMs: 7 });
    await expect(enqueueJob(two, 'x', segments(1))).rejects.toThrow(/^could not enqueue 1 delivery shard\(s\) on .* after 2 attempts$/);
    expect(two.waits).toEqual([7]);
    const one = options({ maxAttempts: 1 });
    await expect(enqueueJob(one, 'x', segments(1))).rejects.toThrow(/after 1 attempts$/);
    expect(one.waits).toEqual([]);
  });

  test.each([
    [{ senderFault: true, code: 'InvalidParameterValue', message: 'body too long' }, ': InvalidParameterValue body too long'],
    [{ senderFault: true, code: 'InvalidParameterValue' }, ': InvalidParameterValue'],
    [{ senderFault: true }, ': error'],
  ])('GIVEN an entry refused as the sender\'s fault (%j) WHEN enqueued THEN it rejects at once with the queue\'s reason', async (refusal, reason) => {
    const o = options();
    queue.refuseNext(1, refusal);
    await expect(enqueueJob(o, 'x', segments(2))).rejects.toThrow(new RegExp(`^could not enqueue 1 delivery shard\\(s\\) on \\S+${reason}$`));
    expect(o.waits).toEqual([]);
    expect(queue.batches).toHaveLength(1);
  });

  test('GIVEN no sleep option WHEN an entry is refused once THEN the real wait is taken and the entry enqueued', async () => {
    queue.refuseNext(1);
    expect(await enqueueJob({ client: queue.client, queueUrl: queue.url, retryBaseMs: 1 }, 'x', segments(1))).toMatchObject({ shards: 1 });
    expect(queue.drain()).toHaveLength(1);
  });
});
