/**
 * The example chat's protocol (lambda/chat/protocol.ts): the frame parser, the route-side `data` parser that serves
 * any route selection expression, and the outgoing frames. Pure functions, no server.
 */
import fc from 'fast-check';
import { MAX_TEXT_CHARS, frames, parseChatData, parseChatFrame } from '../../../lambda/chat/protocol';
import { INVALID_FRAMES } from '../support/invalid-frames';

describe('parseChatFrame: a whole frame of the example protocol', () => {
  test.each([
    ['join', '{"action":"join","data":{"room":"lobby"}}', { action: 'join', room: 'lobby' }],
    ['leave', '{"action":"leave","data":{"room":"a.B-c_9"}}', { action: 'leave', room: 'a.B-c_9' }],
    ['message to a room', '{"action":"sendmessage","data":{"room":"lobby","text":"hi"}}', { action: 'sendmessage', room: 'lobby', text: 'hi' }],
    ['broadcast (no room)', '{"action":"sendmessage","data":{"text":"hi"}}', { action: 'sendmessage', room: null, text: 'hi' }],
    ['broadcast (room null)', '{"data":{"room":null,"text":"hi"},"action":"sendmessage"}', { action: 'sendmessage', room: null, text: 'hi' }],
    ['64-character room', JSON.stringify({ action: 'join', data: { room: 'r'.repeat(64) } }), { action: 'join', room: 'r'.repeat(64) }],
    ['text that looks like deep JSON', '{"action":"sendmessage","data":{"text":"[[[[[[[[[[{{{{{{{{\\"x"}}', { action: 'sendmessage', room: null, text: '[[[[[[[[[[{{{{{{{{"x' }],
    ['multi-line text with tab', '{"action":"sendmessage","data":{"text":"a\\tb\\r\\nc"}}', { action: 'sendmessage', room: null, text: 'a\tb\r\nc' }],
  ])('GIVEN a valid %s frame WHEN parsed THEN it becomes the typed command', (_name, body, command) => {
    expect(parseChatFrame(body)).toEqual({ ok: true, value: command });
  });

  test('GIVEN text of exactly 4000 characters counted as code points (emoji are one each) WHEN parsed THEN it is accepted', () => {
    // GIVEN
    const text = '😀'.repeat(MAX_TEXT_CHARS);
    // WHEN
    const parsed = parseChatFrame(JSON.stringify({ action: 'sendmessage', data: { text } }));
    // THEN
    expect(parsed.ok).toBe(true);
    expect(parseChatFrame(JSON.stringify({ action: 'sendmessage', data: { text: `${text}!` } }))).toEqual({
      ok: false,
      error: expect.stringMatching(/4001 characters/),
    });
  });

  test.each(INVALID_FRAMES)('GIVEN an invalid frame (%s) WHEN parsed THEN a clear error says what is wrong and what is expected', (_name, body, pattern) => {
    const parsed = parseChatFrame(body);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.error).toMatch(pattern);
  });

  test('GIVEN an unknown action of 10 000 characters WHEN parsed THEN the error quotes only a short prefix', () => {
    const parsed = parseChatFrame(JSON.stringify({ action: 'z'.repeat(10000), data: {} }));
    expect(parsed.ok ? '' : parsed.error.length).toBeLessThan(200);
  });

  test('property: GIVEN any string WHEN parsed THEN the parser never throws and returns ok or an error message', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.json()), (body) => {
        const parsed = parseChatFrame(body);
        return parsed.ok ? typeof parsed.value.action === 'string' : parsed.error.length > 0;
      }),
      { numRuns: 2000 },
    );
  });

  /** An oracle written independently of the parser, from the protocol table in design.md. */
  function isValidShape(v: unknown): boolean {
    const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
    const room = (x: unknown) => typeof x === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(x);
    const text = (x: unknown) =>
      typeof x === 'string' &&
      x.length > 0 &&
      [...x].length <= 4000 &&
      !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/.test(x) &&
      !/\p{Cs}/u.test(x);
    if (!isObj(v) || !isObj(v.data)) return false;
    const keys = Object.keys(v).sort().join();
    const dataKeys = Object.keys(v.data);
    if (keys !== 'action,data') return false;
    if (v.action === 'join' || v.action === 'leave') return dataKeys.join() === 'room' && room(v.data.room);
    if (v.action !== 'sendmessage') return false;
    if (!dataKeys.every((k) => k === 'room' || k === 'text')) return false;
    return (v.data.room === undefined || v.data.room === null || room(v.data.room)) && text(v.data.text);
  }

  const roomArb = fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/),
    fc.string({ maxLength: 70 }),
    fc.constantFrom('', 'lobby', 'a b', 'r'.repeat(64), 'r'.repeat(65)),
  );
  const textArb = fc.oneof(fc.string({ minLength: 0, maxLength: 50 }), fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom('x'.repeat(4000), 'x'.repeat(4001)));
  const anyValue = fc.oneof(roomArb, fc.integer(), fc.constant(null), fc.boolean(), fc.jsonValue({ maxDepth: 2 }));
  const frameArb = fc.record(
    {
      action: fc.oneof(fc.constantFrom('join', 'leave', 'sendmessage', 'dance', 'Join'), anyValue),
      data: fc.oneof(
        fc.record({ room: fc.oneof(roomArb, anyValue), text: fc.oneof(textArb, anyValue), extra: anyValue }, { requiredKeys: [] }),
        anyValue,
      ),
      other: anyValue,
    },
    { requiredKeys: [] },
  );

  test('property: GIVEN frames near the valid shapes WHEN parsed THEN exactly the valid shapes are accepted, unchanged', () => {
    fc.assert(
      fc.property(frameArb, (value) => {
        const parsed = parseChatFrame(JSON.stringify(value));
        expect(parsed.ok).toBe(isValidShape(value));
        if (parsed.ok) {
          const data = value.data as Record<string, unknown>;
          expect(parsed.value).toMatchObject({ action: value.action, room: data.room ?? (value.action === 'sendmessage' ? null : undefined) });
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('parseChatData: the data of a message API Gateway routed to a chat route', () => {
  test.each([
    ['join', '{"type":"join","data":{"room":"lobby"}}', { action: 'join', room: 'lobby' }],
    ['leave', '{"data":{"room":"lobby"}}', { action: 'leave', room: 'lobby' }],
    ['sendmessage', '{"op":"say","data":{"text":"hi"},"id":7}', { action: 'sendmessage', room: null, text: 'hi' }],
    ['join', '{"action":"leave","data":{"room":"lobby"}}', { action: 'join', room: 'lobby' }],
  ] as const)('GIVEN a %s route and a body %s WHEN parsed THEN the command is the route\'s, read from "data" only', (action, body, command) => {
    expect(parseChatData(action, body)).toEqual({ ok: true, value: command });
  });

  test.each(INVALID_FRAMES.filter(([, body]) => sameErrorOnJoinRoute(body)))(
    'GIVEN an invalid body (%s) on the join route WHEN parsed THEN the same error as the whole-frame parser gives',
    (_name, body, pattern) => {
      const parsed = parseChatData('join', body);
      expect(parsed.ok ? '' : parsed.error).toMatch(pattern);
    },
  );

  test('GIVEN a body without "data" WHEN parsed for the sendmessage route THEN the error shows that route\'s example', () => {
    expect(parseChatData('sendmessage', '{"type":"sendmessage"}')).toEqual({
      ok: false,
      error: expect.stringMatching(/"data" is missing; expected \{"action":"sendmessage","data":\{"room":"lobby","text":"hi"\}\}/),
    });
  });
});

/** Whether a body reaches the join route with the same error either parser gives: not a JSON object, or a join frame. */
function sameErrorOnJoinRoute(body: unknown): boolean {
  let value: unknown;
  try {
    value = typeof body === 'string' ? JSON.parse(body) : undefined;
  } catch {
    return true;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return true;
  const obj = value as Record<string, unknown>;
  return obj.action === 'join' && Object.keys(obj).every((k) => k === 'action' || k === 'data');
}

describe('frames', () => {
  test('GIVEN each outgoing frame WHEN built THEN it is the JSON shape of the protocol table', () => {
    expect(JSON.parse(frames.joined('lobby'))).toEqual({ type: 'joined', room: 'lobby' });
    expect(JSON.parse(frames.left('lobby'))).toEqual({ type: 'left', room: 'lobby' });
    expect(JSON.parse(frames.error('bad'))).toEqual({ type: 'error', message: 'bad' });
    expect(JSON.parse(frames.message({ room: null, from: 'alice', text: 'hi "there"', at: 1700000000123 }))).toEqual({
      type: 'message',
      room: null,
      from: 'alice',
      text: 'hi "there"',
      at: 1700000000123,
    });
  });
});
