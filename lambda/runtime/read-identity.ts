/**
 * `readIdentity`: who is on the other end of a WebSocket event, as API Gateway's Lambda-proxy event says it.
 */
import { InvalidArgumentError } from './errors';
import { field, readEvent } from './websocket-event';

/** A value the authorizer put in its context (API Gateway passes only strings, numbers and booleans). */
export type ContextValue = string | number | boolean;

export interface ConnectionIdentity {
  /** `requestContext.connectionId`. */
  readonly connectionId: string;
  /** The route API Gateway selected (`$connect`, `$disconnect`, `$default` or a custom route key). */
  readonly routeKey: string | undefined;
  /** The authorizer's `principalId` (present on every event of an authorized connection). */
  readonly principalId: string | undefined;
  /** The authorizer's other context values (without `principalId` and `integrationLatency`). */
  readonly context: Readonly<Record<string, ContextValue>>;
  /** The client's IP address, `requestContext.identity.sourceIp`. */
  readonly sourceIp: string | undefined;
  /** When the connection was opened, epoch milliseconds. */
  readonly connectedAt: number | undefined;
}

const NOT_CONTEXT = new Set(['principalId', 'integrationLatency']);

/**
 * Reads the identity of the connection from a `$connect`, `$disconnect` or message event. Makes no AWS call.
 * Throws an InvalidArgumentError when the event has no `requestContext.connectionId` (not a WebSocket event).
 */
export function readIdentity(event: unknown): ConnectionIdentity {
  const facts = readEvent(event);
  if (!facts.connectionId) {
    throw new InvalidArgumentError('the event has no requestContext.connectionId; pass the WebSocket event Lambda received');
  }
  const ctx = field(event, 'requestContext');
  const routeKey = field(ctx, 'routeKey');
  const authorizer = field(ctx, 'authorizer');
  const context: Record<string, ContextValue> = {};
  if (typeof authorizer === 'object' && authorizer !== null) {
    for (const [key, value] of Object.entries(authorizer)) {
      if (NOT_CONTEXT.has(key)) continue;
      if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) {
        context[key] = value;
      }
    }
  }
  return {
    connectionId: facts.connectionId,
    routeKey: typeof routeKey === 'string' && routeKey.length > 0 ? routeKey : undefined,
    principalId: facts.principalId,
    context,
    sourceIp: facts.sourceIp,
    connectedAt: facts.connectedAt,
  };
}
