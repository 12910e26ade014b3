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
