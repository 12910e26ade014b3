/** API Gateway WebSocket Lambda-proxy events (spec §4) for invoking the handlers outside the emulator. */
import { randomBytes } from 'crypto';

/** A connection id in API Gateway's shape: 16 URL-safe base64 characters ending in `=`. */
export function connectionId(): string {
  return randomBytes(11).toString('base64url').slice(0, 15) + '=';
}

function requestContext(routeKey: string, eventType: string, id: string, user: string): Record<string, unknown> {
  const now = Date.now();
  return {
    routeKey,
    eventType,
    messageDirection: 'IN',
    stage: 'prod',
    apiId: 'benchapi01',
    domainName: 'benchapi01.execute-api.us-east-1.amazonaws.com',
    connectionId: id,
    connectedAt: now,
    requestTimeEpoch: now,
    requestId: connectionId(),
    extendedRequestId: connectionId(),
    identity: { sourceIp: '127.0.0.1', userAgent: 'wsgate-bench' },
    authorizer: { principalId: user },
  };
}

export function connectEvent(id: string, user: string): Record<string, unknown> {
  return {
    headers: { Host: 'benchapi01.execute-api.us-east-1.amazonaws.com', 'Sec-WebSocket-Version': '13' },
    multiValueHeaders: {},
    queryStringParameters: {},
    isBase64Encoded: false,
    requestContext: requestContext('$connect', 'CONNECT', id, user),
  };
}

export function disconnectEvent(id: string, user: string): Record<string, unknown> {
  return {
    headers: { Host: 'benchapi01.execute-api.us-east-1.amazonaws.com' },
    isBase64Encoded: false,
    requestContext: { ...requestContext('$disconnect', 'DISCONNECT', id, user), disconnectStatusCode: 1000, disconnectReason: '' },
  };
}

export function messageEvent(id: string, user: string, routeKey: string, body: unknown): Record<string, unknown> {
  return {
    body: JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { ...requestContext(routeKey, 'MESSAGE', id, user), messageId: connectionId() },
  };
}
