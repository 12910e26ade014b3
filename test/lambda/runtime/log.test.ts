/** Structured JSON logging with redaction (lambda/runtime/log.ts). Pure functions. */
import { createLogger, describeError } from '../../../lambda/runtime/log';

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

describe('logging: levels, values and error descriptions', () => {
  const capture = () => {
    const lines: string[] = [];
    return { lines, log: createLogger({}, (l) => lines.push(l), () => 0), parsed: () => lines.map((l) => JSON.parse(l)) };
  };

  test('GIVEN a logger WHEN each level is used THEN each writes one line with its level', () => {
    // GIVEN
    const { log, parsed } = capture();
    // WHEN
    log.debug('a');
    log.info('b');
    log.warn('c');
    log.error('d');
    // THEN
    expect(parsed().map((l) => [l.level, l.event])).toEqual([['debug', 'a'], ['info', 'b'], ['warn', 'c'], ['error', 'd']]);
  });

  test('GIVEN values of every kind WHEN logged THEN scalars stay, long strings are cut at 512 characters, bigints and errors become text, the rest is left out', () => {
    // GIVEN
    const { log, parsed } = capture();
    const long = 'x'.repeat(513);
    const exact = 'y'.repeat(512);
    // WHEN
    log.info('values', {
      none: null, zero: 0, no: false, empty: '', exact, long, big: BigInt(12), err: new TypeError('bad'),
      list: [1], object: { a: 1 }, missing: undefined, fn: () => 1,
    });
    // THEN
    const [line] = parsed();
    expect(line).toEqual({
      time: '1970-01-01T00:00:00.000Z', level: 'info', event: 'values',
      none: null, zero: 0, no: false, empty: '', exact, long: `${'x'.repeat(512)}…`, big: '12', err: 'TypeError: bad',
    });
    expect(Object.keys(line)).not.toContain('missing');
  });

  test('GIVEN an error whose name and message are over 512 characters WHEN logged THEN its text is cut at 512', () => {
    const { log, parsed } = capture();
    log.info('e', { err: new Error('m'.repeat(600)) });
    expect(parsed()[0].err).toBe(`Error: ${'m'.repeat(505)}`);
  });

  test.each([
    ['null', null, { error: 'null' }],
    ['a number', 42, { error: '42' }],
    ['a long string', 's'.repeat(600), { error: 's'.repeat(512) }],
    ['an object without name, message or metadata', {}, { error: 'Error', errorMessage: undefined, httpStatus: undefined }],
    ['an object with non-string name and message and a text status', { name: 1, message: 2, $metadata: { httpStatusCode: '500' } }, { error: 'Error', errorMessage: undefined, httpStatus: undefined }],
    ['an object with a null $metadata', { name: 'X', message: 'y', $metadata: null }, { error: 'X', errorMessage: 'y', httpStatus: undefined }],
  ])('GIVEN %s WHEN described THEN %j', (_n, err, expected) => {
    expect(describeError(err)).toEqual(expected);
  });

  test('GIVEN the default sink WHEN a line is logged THEN it goes to stdout with a newline', () => {
    // GIVEN: stdout's write replaced for this one call (the default sink writes there, as Lambda collects it)
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      // WHEN
      createLogger({}, undefined, () => 0).info('to_stdout');
    } finally {
      spy.mockRestore();
    }
    // THEN
    expect(written).toEqual([`${JSON.stringify({ time: '1970-01-01T00:00:00.000Z', level: 'info', event: 'to_stdout' })}\n`]);
  });
});
