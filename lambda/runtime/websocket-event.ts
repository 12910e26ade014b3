/**
 * Safe accessors for the API Gateway WebSocket Lambda-proxy events. The event arrives as untyped
 * JSON; every field is checked before use so a malformed event gives a clear answer, never a TypeError.
 */

export interface WebSocketEventFacts {
  readonly connectionId: string | undefined;
  /** `requestContext.authorizer.principalId` (present on every event of an authorized connection). */
  readonly principalId: string | undefined;
  /** `requestContext.identity.userArn`: the SigV4 signer of an IAM-authorized connection. */
  readonly callerArn: string | undefined;
  readonly sourceIp: string | undefined;
  /** `requestContext.connectedAt`, epoch ms. */
  readonly connectedAt: number | undefined;
  readonly headers: unknown;
  readonly body: unknown;
}

/** `obj[key]` when `obj` is a non-null object, else undefined (never a TypeError). */
export function field(obj: unknown, key: string): unknown {
  return typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[key] : undefined;
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

export function readEvent(event: unknown): WebSocketEventFacts {
  const ctx = field(event, 'requestContext');
  const connectedAt = field(ctx, 'connectedAt');
  // Whether Lambda-proxy events carry authorizer values as strings or as native JSON types is not documented;
  // a numeric principalId is therefore accepted and turned into its string form.
  const principal = field(field(ctx, 'authorizer'), 'principalId');
  return {
    connectionId: nonEmptyString(field(ctx, 'connectionId')),
    principalId: nonEmptyString(typeof principal === 'number' ? String(principal) : principal),
    callerArn: nonEmptyString(field(field(ctx, 'identity'), 'userArn')),
    sourceIp: nonEmptyString(field(field(ctx, 'identity'), 'sourceIp')),
    connectedAt: typeof connectedAt === 'number' && Number.isFinite(connectedAt) ? connectedAt : undefined,
    headers: field(event, 'headers'),
    body: field(event, 'body'),
  };
}

/** The Lambda-proxy result shape API Gateway reads. */
export interface ProxyResult {
  readonly statusCode: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}
