/**
 * The runtime's typed errors. Every one is a `WsgateError` with a stable `code`, so a handler can tell them apart
 * without parsing messages (`err instanceof WsgateError && err.code === 'INVALID_ARGUMENT'`).
 * Errors about arguments and configuration are thrown before any AWS call is made.
 */
import { LIMITS } from '../../contract/gateway-contract';

/** The base class of every error the runtime throws on purpose. */
export class WsgateError extends Error {
  /** A stable identifier of the kind of error, e.g. `INVALID_ARGUMENT`. */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = 'WsgateError';
  }
}

/** An argument is invalid (an empty connection id, a bad room name, a bad TTL, data that cannot be sent). */
export class InvalidArgumentError extends WsgateError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
    this.name = 'InvalidArgumentError';
  }
}

/**
 * A setting is missing or invalid: an environment variable the gateway sets on the functions it wires, or the
 * option given in its place. The message names the variable.
 */
export class ConfigurationError extends WsgateError {
  constructor(message: string) {
    super('CONFIGURATION', message);
    this.name = 'ConfigurationError';
  }
}

/** The message is larger than the `@connections` API accepts (131072 bytes). */
export class MessageTooLargeError extends WsgateError {
  /** Size of the refused message in bytes, when known before sending. */
  readonly bytes: number | undefined;

  constructor(bytes: number | undefined) {
    super(
      'MESSAGE_TOO_LARGE',
      bytes === undefined
        ? `the @connections API refused the message as too large (413 PayloadTooLargeException); the limit is ${LIMITS.maxPostBytes} bytes`
        : `the message is ${bytes} bytes; PostToConnection accepts at most ${LIMITS.maxPostBytes} bytes`,
    );
    this.bytes = bytes;
    this.name = 'MessageTooLargeError';
  }
}

/** The connection is not (or no longer) recorded in the connections table. */
export class ConnectionGoneError extends WsgateError {
  readonly connectionId: string;

  constructor(connectionId: string, message: string) {
    super('CONNECTION_GONE', message);
    this.connectionId = connectionId;
    this.name = 'ConnectionGoneError';
  }
}
