/**
 * The runtime's typed errors (lambda/runtime/errors.ts): every one is a WsgateError and an Error, with its own
 * name, a stable code and the message users see.
 */
import { LIMITS } from '../../../contract/gateway-contract';
import {
  ConfigurationError, ConnectionGoneError, InvalidArgumentError, MessageTooLargeError, WsgateError,
} from '../../../lambda/runtime/errors';

describe('typed errors', () => {
  test.each([
    // Built inside the test (a factory per row), so that per-test coverage ties the constructors to it.
    ['WsgateError', () => new WsgateError('SOME_CODE', 'plain'), 'SOME_CODE', 'plain'],
    ['InvalidArgumentError', () => new InvalidArgumentError('bad room'), 'INVALID_ARGUMENT', 'bad room'],
    ['ConfigurationError', () => new ConfigurationError('CALLBACK_URL is not set'), 'CONFIGURATION', 'CALLBACK_URL is not set'],
    ['ConnectionGoneError', () => new ConnectionGoneError('A=', 'connection A= is not recorded'), 'CONNECTION_GONE', 'connection A= is not recorded'],
  ] as const)('GIVEN a %s WHEN inspected THEN it has its name, code and message and is a WsgateError', (name, make, code, message) => {
    const error = make();
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(WsgateError);
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
    expect(String(error)).toBe(`${name}: ${message}`);
  });

  test('GIVEN a ConnectionGoneError WHEN inspected THEN it carries the connection id', () => {
    expect(new ConnectionGoneError('B=', 'gone').connectionId).toBe('B=');
  });

  test('GIVEN a size known before sending WHEN a MessageTooLargeError is made THEN it names the size and the limit', () => {
    const error = new MessageTooLargeError(131_073);
    expect(error).toBeInstanceOf(WsgateError);
    expect(error.name).toBe('MessageTooLargeError');
    expect(error.code).toBe('MESSAGE_TOO_LARGE');
    expect(error.bytes).toBe(131_073);
    expect(error.message).toBe(`the message is 131073 bytes; PostToConnection accepts at most ${LIMITS.maxPostBytes} bytes`);
  });

  test('GIVEN a 413 answer (size unknown) WHEN a MessageTooLargeError is made THEN it says the API refused it and gives the limit', () => {
    const error = new MessageTooLargeError(undefined);
    expect(error.bytes).toBeUndefined();
    expect(error.message).toBe(`the @connections API refused the message as too large (413 PayloadTooLargeException); the limit is ${LIMITS.maxPostBytes} bytes`);
  });
});
