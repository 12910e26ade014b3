/**
 * The delivery job format: one queue message per shard of an audience.
 *
 * A job is one send (a room or a broadcast) to an audience larger than the sharding threshold. The sender plans
 * it into shards and enqueues one message per shard; a delivery worker posts to the recipients of one shard.
 * - A room shard is a key range of the room index: the members whose connection id sorts after `after`
 *   (exclusive; none = from the first member) and not after `until` (inclusive; none = to the last member).
 * - A broadcast shard is one segment of a parallel Scan (`segment` of `totalSegments`).
 * Either way the worker reads its shard page by page and never holds more than one page of recipients.
 *
 * The frame travels as a JSON string (`data`), or base64 (`dataBase64`) when JSON escaping would make it larger than
 * base64 does (a frame of quotes, backslashes or control characters grows up to 6× when escaped): a frame of the
 * 131,072-byte post limit then takes at most 174,764 bytes, so every shard message stays under SQS's 256 KiB.
 *
 * Progress of a shard is kept in the connections table under `pk = job#<jobId>`, `sk = shard#<index>` (with a
 * TTL), so a redelivered shard message resumes after the last fully posted page instead of starting over.
 */
import { LIMITS, ROOM_NAME } from '../../../contract/gateway-contract';

/** Version of the message format, so a worker refuses a message it does not understand. */
export const JOB_FORMAT_VERSION = 1;

export interface RoomShard {
  readonly kind: 'room';
  readonly room: string;
  /** Exclusive lower bound: the connection id the previous shard ended with. */
  readonly after?: string;
  /** Inclusive upper bound: the last connection id of this shard. */
  readonly until?: string;
}

export interface BroadcastShard {
  readonly kind: 'broadcast';
  readonly segment: number;
  readonly totalSegments: number;
}

export type Shard = RoomShard | BroadcastShard;

/** The body of one queue message: one shard of one delivery job. */
export interface ShardMessage {
  readonly v: typeof JOB_FORMAT_VERSION;
  readonly jobId: string;
  /** Position of this shard in the job, from 0. */
  readonly index: number;
  /** Number of shards of the job. */
  readonly shards: number;
  /** The frame every recipient gets, as sent. */
  readonly data: string;
  readonly shard: Shard;
}

/** Where a shard's progress is stored in the connections table. */
export function progressKey(jobId: string, index: number): { pk: string; sk: string } {
  return { pk: `job#${jobId}`, sk: `shard#${index}` };
}

/** A message that is not a shard of a delivery job: retrying it cannot help. */
export class InvalidShardMessageError extends Error {
  constructor(reason: string) {
    super(`not a wsgate delivery shard message: ${reason}`);
    this.name = 'InvalidShardMessageError';
  }
}

/** Bytes `data` takes in base64. */
function base64Bytes(data: string): number {
  return 4 * Math.ceil(Buffer.byteLength(data, 'utf8') / 3);
}

/** The queue message body: `data` as a JSON string, or as `dataBase64` when that is smaller (see above). */
export function encodeShardMessage(message: ShardMessage): string {
  // Escaped length minus the two quotes JSON.stringify adds.
  const escaped = Buffer.byteLength(JSON.stringify(message.data), 'utf8') - 2;
  if (escaped <= base64Bytes(message.data)) return JSON.stringify(message);
  const { data, ...rest } = message;
  return JSON.stringify({ ...rest, dataBase64: Buffer.from(data, 'utf8').toString('base64') });
}

/** The frame of a parsed body: `data`, or `dataBase64` decoded; undefined when neither (or both) is a string. */
function frameOf(m: Record<string, unknown>): unknown {
  if (m.dataBase64 === undefined) return m.data;
  if (m.data !== undefined || typeof m.dataBase64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(m.dataBase64) || m.dataBase64.length % 4 !== 0) {
    return undefined;
  }
  const bytes = Buffer.from(m.dataBase64, 'base64');
  const text = bytes.toString('utf8');
  // Only what encodeShardMessage writes: the UTF-8 of a string (no invalid sequences).
  return Buffer.from(text, 'utf8').equals(bytes) ? text : undefined;
}

function isWhole(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min;
}

/** Parses and checks a queue message body; throws InvalidShardMessageError when it is not a shard. */
export function decodeShardMessage(body: string): ShardMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new InvalidShardMessageError('the body is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw new InvalidShardMessageError('the body is not an object');
  const m = parsed as Record<string, unknown>;
  if (m.v !== JOB_FORMAT_VERSION) throw new InvalidShardMessageError(`format version ${String(m.v)}, expected ${JOB_FORMAT_VERSION}`);
  if (typeof m.jobId !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(m.jobId)) throw new InvalidShardMessageError('jobId is missing or invalid');
  if (!isWhole(m.shards, 1) || !isWhole(m.index, 0) || m.index >= m.shards) throw new InvalidShardMessageError('index/shards are invalid');
  const data = frameOf(m);
  if (typeof data !== 'string' || Buffer.byteLength(data, 'utf8') > LIMITS.maxPostBytes) {
    throw new InvalidShardMessageError(`data must be a string of at most ${LIMITS.maxPostBytes} bytes (or its UTF-8 in dataBase64)`);
  }
  const s = m.shard as Record<string, unknown> | undefined;
  if (typeof s !== 'object' || s === null) throw new InvalidShardMessageError('shard is missing');
  if (s.kind === 'room') {
    if (typeof s.room !== 'string' || !ROOM_NAME.test(s.room)) throw new InvalidShardMessageError('shard.room is invalid');
    for (const bound of ['after', 'until'] as const) {
      if (s[bound] !== undefined && (typeof s[bound] !== 'string' || s[bound] === '')) {
        throw new InvalidShardMessageError(`shard.${bound} must be a connection id`);
      }
    }
    return { v: JOB_FORMAT_VERSION, jobId: m.jobId, index: m.index, shards: m.shards, data, shard: {
      kind: 'room', room: s.room,
      ...(s.after !== undefined ? { after: s.after as string } : {}),
      ...(s.until !== undefined ? { until: s.until as string } : {}),
    } };
  }
  if (s.kind === 'broadcast') {
    if (!isWhole(s.totalSegments, 1) || !isWhole(s.segment, 0) || s.segment >= s.totalSegments) {
      throw new InvalidShardMessageError('shard.segment/totalSegments are invalid');
    }
    return { v: JOB_FORMAT_VERSION, jobId: m.jobId, index: m.index, shards: m.shards, data,
      shard: { kind: 'broadcast', segment: s.segment, totalSegments: s.totalSegments } };
  }
  throw new InvalidShardMessageError(`unknown shard kind ${String(s.kind)}`);
}
