/**
 * Pure helpers of lambda/ (runtime, gateway, chat): the chat protocol parser and frames, subprotocol negotiation (spec §2.3),
 * configuration and structured logging. No server needed.
 */
import fc from 'fast-check';
import { ConfigError, DEFAULT_CONNECTION_TTL_SECONDS, DEFAULT_FANOUT_CONCURRENCY, readConfig } from '../../lambda/runtime/config';
import { createLogger, describeError } from '../../lambda/runtime/log';
import {
  MAX_TEXT_CHARS,
  explainUnroutable,
  frames,
  parseChatFrame,
} from '../../lambda/chat/protocol';
import { headerValue, negotiateSubprotocol } from '../../lambda/gateway/subprotocol';
import { INVALID_FRAMES } from './support/invalid-frames';

describe('protocol: parseChatFrame (design.md "Example app protocol")', () => {
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

describe('protocol: explainUnroutable for $default (spec §3) and frames', () => {
  const keys = ['join', 'leave', 'sendmessage'];

  test.each([
    ['not JSON', 'hello', /not valid JSON.*the actions that exist are: join, leave, sendmessage/],
    ['a JSON array', '[1]', /is an array.*the actions that exist are: join, leave, sendmessage/],
    ['no action', '{"data":1}', /no "action" field.*the actions that exist are: join, leave, sendmessage/],
    ['a non-string action', '{"action":["join"]}', /"action" must be a string; the actions that exist are/],
    ['an unknown action', '{"action":"dance"}', /unknown action "dance"; the actions that exist are: join, leave, sendmessage/],
    ['a __proto__ key', '{"__proto__":{},"action":"x"}', /"__proto__" is not allowed/],
  ])('GIVEN %s WHEN explained THEN the message names the problem and the actions that exist', (_n, body, pattern) => {
    expect(explainUnroutable(body, keys)).toMatch(pattern);
  });

  test('GIVEN an API with no custom routes WHEN explained THEN it says so', () => {
    expect(explainUnroutable('{"action":"x"}', [])).toMatch(/no custom actions/);
  });

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

describe('subprotocol negotiation (spec §2.3)', () => {
  test.each([
    ['no header', {}, ['chat.v1'], { kind: 'none' }],
    ['no headers object', undefined, ['chat.v1'], { kind: 'none' }],
    ['an empty header', { 'Sec-WebSocket-Protocol': ' , ' }, ['chat.v1'], { kind: 'none' }],
    ['one supported offer', { 'Sec-WebSocket-Protocol': 'chat.v1' }, ['chat.v1'], { kind: 'accept', protocol: 'chat.v1' }],
    ['lower-case header name', { 'sec-websocket-protocol': 'chat.v1' }, ['chat.v1'], { kind: 'accept', protocol: 'chat.v1' }],
    ['upper-case header name', { 'SEC-WEBSOCKET-PROTOCOL': 'x, chat.v1' }, ['chat.v1'], { kind: 'accept', protocol: 'chat.v1' }],
    ['first offered supported wins', { 'Sec-WebSocket-Protocol': 'a, chat.v2 ,chat.v1' }, ['chat.v1', 'chat.v2'], { kind: 'accept', protocol: 'chat.v2' }],
    ['nothing supported', { 'Sec-WebSocket-Protocol': 'a, b' }, ['chat.v1'], { kind: 'refuse', offered: ['a', 'b'] }],
    ['empty SUPPORTED list refuses any offer', { 'Sec-WebSocket-Protocol': 'chat.v1' }, [], { kind: 'refuse', offered: ['chat.v1'] }],
    ['token case differs', { 'Sec-WebSocket-Protocol': 'CHAT.V1' }, ['chat.v1'], { kind: 'refuse', offered: ['CHAT.V1'] }],
  ])('GIVEN %s WHEN negotiated THEN the decision is as expected', (_n, headers, supported, decision) => {
    expect(negotiateSubprotocol(headers, supported)).toEqual(decision);
  });

  test('GIVEN a non-string header value WHEN looked up THEN it is ignored', () => {
    expect(headerValue({ 'Sec-WebSocket-Protocol': ['a'] }, 'sec-websocket-protocol')).toBeUndefined();
  });
});

describe('config: readConfig', () => {
  const full = {
    CONNECTIONS_TABLE: 'Table',
    ROOM_INDEX: 'byRoom',
    CALLBACK_URL: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/',
    CONNECTION_TTL_SECONDS: '600',
    SUBPROTOCOLS: ' chat.v2, chat.v1 ,',
    ROUTE_KEYS: 'join,leave',
    FANOUT_CONCURRENCY: '5',
  };

  test('GIVEN every variable WHEN read THEN each is parsed (lists trimmed, URL without trailing slash)', () => {
    expect(readConfig(full, ['tableName', 'roomIndex', 'callbackUrl', 'connectionTtlSeconds', 'subprotocols', 'routeKeys', 'fanoutConcurrency'])).toEqual({
      tableName: 'Table',
      roomIndex: 'byRoom',
      callbackUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod',
      connectionTtlSeconds: 600,
      subprotocols: ['chat.v2', 'chat.v1'],
      routeKeys: ['join', 'leave'],
      fanoutConcurrency: 5,
    });
  });

  test('GIVEN the optional variables unset WHEN read THEN the documented defaults apply', () => {
    expect(readConfig({}, ['connectionTtlSeconds', 'fanoutConcurrency', 'subprotocols', 'routeKeys'])).toEqual({
      connectionTtlSeconds: DEFAULT_CONNECTION_TTL_SECONDS,
      fanoutConcurrency: DEFAULT_FANOUT_CONCURRENCY,
      subprotocols: [],
      routeKeys: [],
    });
  });

  test('GIVEN a handler that needs only the table WHEN read THEN other variables are not required', () => {
    expect(readConfig({ CONNECTIONS_TABLE: 'T' }, ['tableName'])).toEqual({ tableName: 'T' });
  });

  test.each([
    [{ ...full, CONNECTIONS_TABLE: undefined }, /CONNECTIONS_TABLE is not set; it must hold the connections table name/],
    [{ ...full, CONNECTIONS_TABLE: '  ' }, /CONNECTIONS_TABLE is not set/],
    [{ ...full, ROOM_INDEX: '' }, /ROOM_INDEX is not set/],
    [{ ...full, CALLBACK_URL: undefined }, /CALLBACK_URL is not set/],
    [{ ...full, CALLBACK_URL: 'abc123.execute-api' }, /CALLBACK_URL is "abc123.execute-api", which is not a URL/],
    [{ ...full, CALLBACK_URL: 'wss://abc/prod' }, /CALLBACK_URL uses "wss:"; expected an https:\/\//],
    [{ ...full, CONNECTION_TTL_SECONDS: 'two hours' }, /CONNECTION_TTL_SECONDS is "two hours"; expected a whole number/],
    [{ ...full, CONNECTION_TTL_SECONDS: '0' }, /CONNECTION_TTL_SECONDS is "0"/],
    [{ ...full, FANOUT_CONCURRENCY: '-3' }, /FANOUT_CONCURRENCY is "-3"; expected a whole number from 1 to 1000/],
    [{ ...full, FANOUT_CONCURRENCY: '1.5' }, /FANOUT_CONCURRENCY is "1.5"/],
  ])('GIVEN a bad environment WHEN read THEN a ConfigError names the variable (%#)', (env, pattern) => {
    const read = () => readConfig(env, ['tableName', 'roomIndex', 'callbackUrl', 'connectionTtlSeconds', 'fanoutConcurrency']);
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(pattern);
  });
});

describe('logging: structured JSON lines', () => {
  test('GIVEN fields with message bodies and tokens WHEN logged THEN one JSON line is written with those redacted', () => {
    // GIVEN
    const lines: string[] = [];
    const log = createLogger({ handler: 'join' }, (l) => lines.push(l), () => 0).child({ connectionId: 'c1' });
    // WHEN
    log.info('frame_refused', { body: '{"text":"secret words"}', text: 'secret words', Token: 'eyJhbGciOi', count: 3, nested: { a: 1 } });
    // THEN
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/secret words|eyJhbGciOi/);
    expect(JSON.parse(lines[0])).toEqual({
      time: '1970-01-01T00:00:00.000Z',
      level: 'info',
      event: 'frame_refused',
      handler: 'join',
      connectionId: 'c1',
      body: '[redacted]',
      text: '[redacted]',
      Token: '[redacted]',
      count: 3,
    });
  });

  test('GIVEN an SDK v3 error WHEN described THEN only name, message and HTTP status are kept', () => {
    const err = Object.assign(new Error('gone'), { name: 'GoneException', $metadata: { httpStatusCode: 410 }, $response: { body: 'x' } });
    expect(describeError(err)).toEqual({ error: 'GoneException', errorMessage: 'gone', httpStatus: 410 });
    expect(describeError('plain')).toEqual({ error: 'plain' });
  });
});
