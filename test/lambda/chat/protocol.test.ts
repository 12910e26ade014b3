/**
 * The example chat's protocol (lambda/chat/protocol.ts): the frame parser, the route-side `data` parser that serves
 * any route selection expression, and the outgoing frames. Pure functions, no server.
 */
import fc from 'fast-check';
import { MAX_TEXT_CHARS, frames, parseChatData, parseChatFrame } from '../../../lambda/chat/protocol';
import { parseJsonObjectBody } from '../../../lambda/runtime/json-object';
import { INVALID_FRAMES } from '../support/invalid-frames';

/**
 * Cases per property test: `full` in CI and locally. Under mutation testing (`npm run mutate`) every mutant re-runs
 * these tests, so stryker/stryker.config.mjs sets WSGATE_PROPERTY_RUNS (e.g. 100) and each property runs at most
 * that many cases; the examples above and below still run in full.
 */
function propertyRuns(full: number): number {
  const cap = Number(process.env.WSGATE_PROPERTY_RUNS);
  return Number.isInteger(cap) && cap > 0 ? Math.min(full, cap) : full;
}

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
      { numRuns: propertyRuns(2000) },
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
      { numRuns: propertyRuns(3000) },
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

/** Examples for what a surviving mutant showed no test pinned down; each comment names the mutant it kills. */
describe('the body checks before and after JSON.parse (examples)', () => {
  const EXPECTED = 'expected a JSON object such as {"action":"join","data":{"room":"lobby"}}';

  test('GIVEN a valid message whose text has an escaped quote before brackets WHEN parsed THEN it is accepted (the quote does not end the string)', () => {
    // GIVEN `a\"` then ten `[` inside the string: counted as nesting only if `\"` were taken as the string's end
    const body = '{"action":"sendmessage","data":{"text":"a\\"[[[[[[[[[[{{{{"}}';
    // WHEN / THEN (kills: the backslash skip `i++` removed, `c === 0x5c` → false)
    expect(parseChatFrame(body)).toEqual({ ok: true, value: { action: 'sendmessage', room: null, text: 'a"[[[[[[[[[[{{{{' } });
  });

  test('GIVEN an escaped backslash right before the closing quote WHEN parsed THEN the string ends there and the brackets after it count', () => {
    // GIVEN text `x\` (an escaped backslash), then nine levels of real nesting after the string
    const deep = `{"a":"x\\\\","b":${'['.repeat(9)}${']'.repeat(9)}}`;
    // WHEN / THEN (kills: skipping two characters after a backslash, or none)
    expect(parseJsonObjectBody(deep, EXPECTED)).toEqual({ ok: false, error: `the message nests objects or arrays more than 8 levels deep; ${EXPECTED}` });
  });

  test('GIVEN objects nested 9 levels WHEN parsed THEN refused as too deep, as arrays are; 8 levels pass the check', () => {
    // GIVEN
    const objects = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    const arrays = (n: number) => `{"a":${'['.repeat(n - 1)}1${']'.repeat(n - 1)}}`;
    const tooDeep = `the message nests objects or arrays more than 8 levels deep; ${EXPECTED}`;
    // WHEN / THEN (kills: `c === 0x7b` (`{`) → false, `c === 0x5b` (`[`) → false, `deepest > limit` → `>=`)
    expect(parseJsonObjectBody(objects(9), EXPECTED)).toEqual({ ok: false, error: tooDeep });
    expect(parseJsonObjectBody(arrays(9), EXPECTED)).toEqual({ ok: false, error: tooDeep });
    expect(parseJsonObjectBody(objects(8), EXPECTED).ok).toBe(true);
    expect(parseJsonObjectBody(arrays(8), EXPECTED).ok).toBe(true);
  });

  test('GIVEN many sibling objects and arrays, each shallow WHEN parsed THEN accepted (closing brackets end a level)', () => {
    // GIVEN 12 `[]` and 12 `{}` side by side: depth 2 at most
    const body = `{${Array.from({ length: 12 }, (_, i) => `"a${i}":[],"o${i}":{}`).join(',')}}`;
    // WHEN / THEN (kills: `depth--` removed, `c === 0x5d` (`]`) → false, `c === 0x7d` (`}`) → false)
    expect(parseJsonObjectBody(body, EXPECTED).ok).toBe(true);
  });

  test.each([
    ['__proto__ inside an array', '{"action":"join","data":{"room":"lobby"},"list":[1,{"__proto__":{"admin":true}}]}', '__proto__'],
    ['prototype in a nested object', '{"action":"join","data":{"room":"lobby","x":{"y":{"prototype":1}}}}', 'prototype'],
    ['constructor inside an array of arrays', '{"list":[[{"constructor":1}]]}', 'constructor'],
  ])('GIVEN %s WHEN parsed THEN refused, naming the key', (_name, body, key) => {
    // kills: the array branch of findForbiddenKey removed, `if (found) return found` → skipped, the recursion into values removed
    expect(parseJsonObjectBody(body, EXPECTED)).toEqual({ ok: false, error: `the key "${key}" is not allowed anywhere in a message; ${EXPECTED}` });
  });

  test('GIVEN a forbidden key after harmless arrays WHEN parsed THEN it is still found (the search goes on past an array without one)', () => {
    // kills: returning from the array loop after its first item
    expect(parseJsonObjectBody('{"a":[1,2],"b":[{"c":1},{"__proto__":1}]}', EXPECTED)).toEqual({
      ok: false,
      error: `the key "__proto__" is not allowed anywhere in a message; ${EXPECTED}`,
    });
  });

  test('GIVEN a body of exactly 131072 characters WHEN parsed THEN not refused for its size; one more character is', () => {
    // GIVEN
    const pad = (n: number) => `{"a":"${'x'.repeat(n - 8)}"}`;
    // WHEN / THEN (kills: `body.length > MAX_FRAME_CHARS` → `>=`)
    expect(pad(131072)).toHaveLength(131072);
    expect(parseJsonObjectBody(pad(131072), EXPECTED).ok).toBe(true);
    expect(parseJsonObjectBody(pad(131073), EXPECTED)).toEqual({ ok: false, error: 'the message is 131073 characters long; the limit is 131072' });
  });

  test.each([
    ['no text', undefined, `the message has no text; ${EXPECTED}`],
    ['empty', ' \n', `the message is empty; ${EXPECTED}`],
    ['not JSON', '{', `the message is not valid JSON; ${EXPECTED}`],
    ['null', 'null', `the message is null; ${EXPECTED}`],
    ['an array', '[]', `the message is an array; ${EXPECTED}`],
    ['a boolean', 'true', `the message is a boolean; ${EXPECTED}`],
  ])('GIVEN a body that is %s WHEN parsed THEN the exact error', (_name, body, error) => {
    // kills: each message text and the kind selection (`value === null ? ...`) mutated
    expect(parseJsonObjectBody(body, EXPECTED)).toEqual({ ok: false, error });
  });
});

describe('sendmessage and join examples', () => {
  test.each([
    ['a room with a space', '{"action":"sendmessage","data":{"room":"the lobby","text":"hi"}}', '"data.room" "the lobby" is not a valid room name; expected 1 to 64 characters of letters, digits, ".", "_" or "-"'],
    ['a room of 65 characters', JSON.stringify({ action: 'sendmessage', data: { room: 'r'.repeat(65), text: 'hi' } }), `"data.room" ${JSON.stringify('r'.repeat(64))}… is not a valid room name; expected 1 to 64 characters of letters, digits, ".", "_" or "-"`],
    ['a numeric room', '{"action":"sendmessage","data":{"room":5,"text":"hi"}}', '"data.room" must be a string of 1 to 64 characters of letters, digits, ".", "_" or "-"'],
    ['an empty room', '{"action":"sendmessage","data":{"room":"","text":"hi"}}', '"data.room" "" is not a valid room name; expected 1 to 64 characters of letters, digits, ".", "_" or "-"'],
  ])('GIVEN a sendmessage with %s WHEN parsed THEN refused with the room rule (the room is checked, not ignored)', (_name, body, error) => {
    // kills: the room check on sendmessage skipped (`!parsedRoom.ok` → false), `data.room !== undefined && data.room !== null` → `||`
    expect(parseChatFrame(body)).toEqual({ ok: false, error });
  });

  test.each([
    ['no text', '{"action":"sendmessage","data":{"room":"lobby"}}', '"data.text" is missing; expected {"action":"sendmessage","data":{"room":"lobby","text":"hi"}} (omit "room" to send to everyone)'],
    ['a numeric text', '{"action":"sendmessage","data":{"text":1}}', '"data.text" must be a string of 1 to 4000 characters'],
    ['an empty text', '{"action":"sendmessage","data":{"text":""}}', '"data.text" is empty; expected 1 to 4000 characters'],
    ['a lone surrogate', '{"action":"sendmessage","data":{"text":"\\ud800"}}', '"data.text" contains an unpaired UTF-16 surrogate; expected 1 to 4000 characters of valid Unicode'],
    ['a DEL character', '{"action":"sendmessage","data":{"text":"a\\u007f"}}', '"data.text" contains a control character; only tab, line feed and carriage return are allowed'],
    ['an extra field', '{"action":"sendmessage","data":{"text":"x","to":"bob"}}', 'unexpected field "to" in "data"; "data" may only contain "room" and "text", as in {"action":"sendmessage","data":{"room":"lobby","text":"hi"}} (omit "room" to send to everyone)'],
    ['no data on leave', '{"action":"leave"}', '"data" is missing; expected {"action":"leave","data":{"room":"lobby"}}'],
    ['an array as data on join', '{"action":"join","data":[]}', '"data" must be an object; expected {"action":"join","data":{"room":"lobby"}}'],
    ['no room on leave', '{"action":"leave","data":{}}', '"data.room" is missing; expected {"action":"leave","data":{"room":"lobby"}}'],
    ['an extra top-level field', '{"action":"join","data":{"room":"a"},"x":1}', 'unexpected field "x" in the message; the message may only contain "action" and "data", as in {"action":"join","data":{"room":"lobby"}}'],
    ['no action', '{"data":{}}', 'the message has no "action" field; expected one of: join, leave, sendmessage'],
    ['a numeric action', '{"action":1}', '"action" must be a string, one of: join, leave, sendmessage'],
    ['an unknown action', '{"action":"dance"}', 'unknown action "dance"; expected one of: join, leave, sendmessage'],
  ])('GIVEN %s WHEN parsed THEN the exact error text', (_name, body, error) => {
    // kills: the message-text mutants of every rule (each text says what is wrong and what is expected)
    expect(parseChatFrame(body)).toEqual({ ok: false, error });
  });

  test('GIVEN text of 4000 characters with tab, LF and CR WHEN parsed THEN accepted; a text with a vertical tab is refused', () => {
    // kills: the control-character class widened to \t, \n or \r
    expect(parseChatFrame(JSON.stringify({ action: 'sendmessage', data: { text: `\t\n\r${'x'.repeat(3997)}` } })).ok).toBe(true);
    expect(parseChatFrame(JSON.stringify({ action: 'sendmessage', data: { text: 'a\u000bb' } })).ok).toBe(false);
  });
});

// A behaviour mutation testing (npm run mutate -- protocol) showed no test pinned down.
describe('client values quoted in errors', () => {
  test('GIVEN unknown actions of 64 and 65 characters WHEN parsed THEN 64 are quoted whole, 65 are cut to 64 with "…"', () => {
    // GIVEN / WHEN
    const at64 = parseChatFrame(JSON.stringify({ action: 'z'.repeat(64), data: {} }));
    const at65 = parseChatFrame(JSON.stringify({ action: 'z'.repeat(65), data: {} }));
    // THEN
    expect(at64).toEqual({ ok: false, error: `unknown action "${'z'.repeat(64)}"; expected one of: join, leave, sendmessage` });
    expect(at65).toEqual({ ok: false, error: `unknown action "${'z'.repeat(64)}"…; expected one of: join, leave, sendmessage` });
  });
});
