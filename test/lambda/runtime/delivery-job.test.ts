/**
 * The delivery job format (lambda/runtime/delivery/job.ts): a shard message survives encode/decode unchanged, and
 * every malformed body (which a worker can never succeed with) is refused with InvalidShardMessageError saying
 * what is wrong. Pure functions: no table, no queue.
 */
import { LIMITS } from '../../../contract/gateway-contract';
import {
  decodeShardMessage, encodeShardMessage, InvalidShardMessageError, JOB_FORMAT_VERSION, progressKey, ShardMessage,
} from '../../../lambda/runtime/delivery/job';

const room: ShardMessage = { v: JOB_FORMAT_VERSION, jobId: 'job-1', index: 1, shards: 3, data: '{"a":1}', shard: { kind: 'room', room: 'lobby', after: 'A', until: 'B' } };
const broadcast: ShardMessage = { v: JOB_FORMAT_VERSION, jobId: 'job-2', index: 0, shards: 2, data: 'hi', shard: { kind: 'broadcast', segment: 1, totalSegments: 2 } };

/** The body of `message` with `change` applied (undefined values are left out, as JSON does). */
const body = (message: ShardMessage, change: Record<string, unknown>): string => JSON.stringify({ ...message, ...change });
const refusal = (text: string): string => {
  try {
    decodeShardMessage(text);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidShardMessageError);
    expect((e as Error).name).toBe('InvalidShardMessageError');
    return (e as Error).message;
  }
  throw new Error(`accepted: ${text}`);
};

describe('job format', () => {
  test('GIVEN a shard message WHEN encoded and decoded THEN it is unchanged; a malformed one is refused by name', () => {
    // GIVEN
    const message: ShardMessage = room;
    // WHEN / THEN
    expect(decodeShardMessage(encodeShardMessage(message))).toEqual(message);
    expect(() => decodeShardMessage('nope')).toThrow(InvalidShardMessageError);
    expect(() => decodeShardMessage(JSON.stringify({ ...message, v: 2 }))).toThrow(/format version 2, expected 1/);
    expect(() => decodeShardMessage(JSON.stringify({ ...message, index: 3 }))).toThrow(/index\/shards are invalid/);
    expect(() => decodeShardMessage(JSON.stringify({ ...message, shard: { kind: 'room', room: 'bad room' } }))).toThrow(/shard.room is invalid/);
    expect(() => decodeShardMessage(JSON.stringify({ ...message, shard: { kind: 'broadcast', segment: 2, totalSegments: 2 } }))).toThrow(/segment\/totalSegments/);
    expect(() => decodeShardMessage(JSON.stringify({ ...message, data: 'x'.repeat(131073) }))).toThrow(/at most 131072 bytes/);
  });

  test('GIVEN valid shards at their bounds WHEN decoded THEN they are accepted, with only the known fields', () => {
    // GIVEN / WHEN / THEN: a broadcast shard, the last index, a 64-character job id with dashes, a frame of exactly the limit
    expect(decodeShardMessage(encodeShardMessage(broadcast))).toEqual(broadcast);
    const last = { ...room, index: 2, jobId: `a-${'Z9'.repeat(31)}`, data: 'é'.repeat(LIMITS.maxPostBytes / 2) };
    expect(decodeShardMessage(JSON.stringify(last))).toEqual(last);
    // open-ended room shards have no bounds; unknown fields (of the message and of the shard) are dropped
    const open = decodeShardMessage(body(room, { extra: 1, shard: { kind: 'room', room: 'lobby', note: 'x' } }));
    expect(open).toEqual({ v: 1, jobId: 'job-1', index: 1, shards: 3, data: '{"a":1}', shard: { kind: 'room', room: 'lobby' } });
    expect(Object.keys(open.shard)).toEqual(['kind', 'room']);
    expect(decodeShardMessage(body(room, { shard: { kind: 'room', room: 'lobby', after: 'A' } })).shard).toEqual({ kind: 'room', room: 'lobby', after: 'A' });
    expect(decodeShardMessage(body(room, { shard: { kind: 'room', room: 'lobby', until: 'B' } })).shard).toEqual({ kind: 'room', room: 'lobby', until: 'B' });
    expect(decodeShardMessage(body(broadcast, { shard: { kind: 'broadcast', segment: 0, totalSegments: 1, x: 1 } })).shard).toEqual({ kind: 'broadcast', segment: 0, totalSegments: 1 });
  });

  test('GIVEN bodies that are not a shard message WHEN decoded THEN each refusal says what is wrong', () => {
    expect(refusal('nope')).toBe('not a wsgate delivery shard message: the body is not JSON');
    for (const text of ['null', '5', '"text"', 'true']) expect(refusal(text)).toBe('not a wsgate delivery shard message: the body is not an object');
    expect(refusal('[]')).toBe('not a wsgate delivery shard message: format version undefined, expected 1');
    expect(refusal(body(room, { v: '1' }))).toMatch(/: format version 1, expected 1$/);
    for (const jobId of [undefined, 7, '', 'a'.repeat(65), 'job 1', 'job_1', 'job\n']) {
      expect([jobId, refusal(body(room, { jobId }))]).toEqual([jobId, 'not a wsgate delivery shard message: jobId is missing or invalid']);
    }
    for (const change of [{ shards: 0 }, { shards: 1.5 }, { shards: '3' }, { shards: undefined }, { index: -1 }, { index: 0.5 }, { index: '1' }, { index: 3 }, { index: undefined }]) {
      expect([change, refusal(body(room, change))]).toEqual([change, 'not a wsgate delivery shard message: index/shards are invalid']);
    }
    for (const data of [undefined, 5, { a: 1 }, 'é'.repeat(LIMITS.maxPostBytes / 2) + 'x']) {
      expect(refusal(body(room, { data }))).toBe('not a wsgate delivery shard message: data must be a string of at most 131072 bytes (or its UTF-8 in dataBase64)');
    }
  });

  test('GIVEN frames that JSON escaping would blow up WHEN encoded THEN base64 is used, so a frame at the post limit stays under 256 KiB, and decodes unchanged', () => {
    // GIVEN the worst cases at the 131,072-byte limit: quotes (2× escaped), control characters (6×), and plain JSON text
    const quotes = '"'.repeat(LIMITS.maxPostBytes);
    const controls = '\u0001'.repeat(LIMITS.maxPostBytes);
    const json = JSON.stringify({ text: 'x'.repeat(LIMITS.maxPostBytes - 20) });
    for (const data of [quotes, controls]) {
      // WHEN
      const encoded = encodeShardMessage({ ...room, data });
      // THEN base64: 174,764 bytes of frame, the whole body under SQS's 262,144
      expect(JSON.parse(encoded)).toMatchObject({ dataBase64: Buffer.from(data).toString('base64') });
      expect(JSON.parse(encoded).data).toBeUndefined();
      expect(Buffer.byteLength(encoded)).toBeLessThan(174_764 + 200);
      expect(decodeShardMessage(encoded)).toEqual({ ...room, data });
    }
    // a JSON frame escapes by less than base64 grows: it stays a string (readable in the queue), as do the ties
    expect(JSON.parse(encodeShardMessage({ ...room, data: json })).data).toBe(json);
    expect(JSON.parse(encodeShardMessage({ ...room, data: '"ab' })).data).toBe('"ab'); // 4 escaped = 4 base64
    expect(JSON.parse(encodeShardMessage({ ...room, data: '""a' })).dataBase64).toBe(Buffer.from('""a').toString('base64')); // 5 > 4
    expect(JSON.parse(encodeShardMessage({ ...room, data: '' })).data).toBe('');
    // multi-byte text is counted in UTF-8 bytes on both sides
    expect(decodeShardMessage(encodeShardMessage({ ...room, data: '"é"\n'.repeat(1000) }))).toEqual({ ...room, data: '"é"\n'.repeat(1000) });
  });

  test('GIVEN a dataBase64 that encodeShardMessage would not write WHEN decoded THEN it is refused like a bad data', () => {
    const { data: _data, ...noData } = room;
    const base64Body = (dataBase64: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ ...noData, dataBase64, ...extra });
    const text = 'not a wsgate delivery shard message: data must be a string of at most 131072 bytes (or its UTF-8 in dataBase64)';
    // each padding base64 has: none ('hi!' → aGkh), one ('hi' → aGk=), two ('h' → aA==)
    for (const text of ['hi!', 'hi', 'h']) expect(decodeShardMessage(base64Body(Buffer.from(text).toString('base64'))).data).toBe(text);
    expect(refusal(base64Body(Buffer.from('hi').toString('base64'), { data: 'hi' }))).toBe(text); // both
    for (const bad of [5, [], ['aGk='], 'aGk', 'a?==', 'aGk=\n', Buffer.from([0xff, 0xfe]).toString('base64'), Buffer.alloc(LIMITS.maxPostBytes + 1, 0x22).toString('base64')]) {
      expect([String(bad).slice(0, 12), refusal(base64Body(bad))]).toEqual([String(bad).slice(0, 12), text]);
    }
    expect(decodeShardMessage(base64Body(Buffer.alloc(LIMITS.maxPostBytes, 0x22).toString('base64'))).data).toBe('"'.repeat(LIMITS.maxPostBytes));
  });

  test('GIVEN shards that are missing, of an unknown kind or out of range WHEN decoded THEN each refusal names the field', () => {
    for (const shard of [undefined, null, 'room']) expect(refusal(body(room, { shard }))).toMatch(/: shard is missing$/);
    expect(refusal(body(room, { shard: { kind: 'segment' } }))).toMatch(/: unknown shard kind segment$/);
    expect(refusal(body(room, { shard: { room: 'lobby' } }))).toMatch(/: unknown shard kind undefined$/);
    for (const r of [undefined, 5, '', 'a b', 'r'.repeat(65)]) expect(refusal(body(room, { shard: { kind: 'room', room: r } }))).toMatch(/: shard\.room is invalid$/);
    expect(refusal(body(room, { shard: { kind: 'room', room: 'lobby', after: '' } }))).toMatch(/: shard\.after must be a connection id$/);
    expect(refusal(body(room, { shard: { kind: 'room', room: 'lobby', until: 5 } }))).toMatch(/: shard\.until must be a connection id$/);
    expect(refusal(body(room, { shard: { kind: 'room', room: 'lobby', until: '' } }))).toMatch(/: shard\.until must be a connection id$/);
    for (const s of [{ segment: 0, totalSegments: 0 }, { segment: -1, totalSegments: 2 }, { segment: 2, totalSegments: 2 }, { segment: 0.5, totalSegments: 2 }, { segment: 0 }, { totalSegments: 2 }]) {
      expect([s, refusal(body(broadcast, { shard: { kind: 'broadcast', ...s } }))]).toEqual([s, 'not a wsgate delivery shard message: shard.segment/totalSegments are invalid']);
    }
  });

  test('GIVEN a job id and shard index WHEN its progress key is built THEN it lives under job#<id>, shard#<index>', () => {
    expect(progressKey('job-1', 3)).toEqual({ pk: 'job#job-1', sk: 'shard#3' });
  });
});
