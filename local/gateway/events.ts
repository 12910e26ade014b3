/**
 * Lambda event shapes the gateway sends (spec §2.2 authorizer, §4.1 CONNECT, §4.2 MESSAGE, §4.3 DISCONNECT).
 * Pure functions of the connection's facts, so the shapes can be read and tested in one place.
 */
import { createHash, randomBytes } from 'node:crypto';
import { newGatewayId } from './ids';

/** What every event of one connection shares. */
export interface ConnectionFacts {
  readonly apiId: string;
  readonly stage: string;
  readonly stageVariables: Record<string, string>;
  readonly region: string;
  readonly accountId: string;
  readonly connectionId: string;
  /** epoch ms */
  readonly connectedAt: number;
  /** `127.0.0.1:PORT` (spec §9.6): `https://{domainName}/{stage}` reaches the emulator's @connections endpoint. */
  readonly domainName: string;
  readonly sourceIp: string;
  readonly userAgent?: string;
  /** The SigV4 signer of an AWS_IAM `$connect`: merged into `requestContext.identity`. @default - only sourceIp / userAgent */
  readonly caller?: CallerIdentity;
}

/**
 * `requestContext.identity` fields of an IAM-authorized connection, as API Gateway fills them for a SigV4-signed
 * request: the signer's account, access key, ARN and principal id; the Cognito and organization fields are null
 * (no Cognito identity signed the request).
 */
export interface CallerIdentity {
  readonly accountId: string;
  readonly accessKey: string;
  /** `AROA…:{session}` for an assumed role, `AIDA…` for an IAM user (the principal's unique id). */
  readonly caller: string;
  readonly user: string;
  readonly userArn: string;
  readonly principalOrgId: null;
  readonly cognitoIdentityPoolId: null;
  readonly cognitoIdentityId: null;
  readonly cognitoAuthenticationType: null;
  readonly cognitoAuthenticationProvider: null;
}

/**
 * The identity fields of a request signed by `userArn`'s key. AWS's principal ids are unique ids it keeps (`AIDA…`
 * for users, `AROA…` for roles); locally they are derived from the ARN (stable across runs): `AIDA` / `AROA` and 17
 * characters of its SHA-256, then `:{session name}` for an assumed role, as `caller` and `user` carry it on AWS.
 */
export function iamCallerIdentity(userArn: string, accountId: string, accessKey: string): CallerIdentity {
  const assumed = /^arn:[^:]+:sts::\d*:assumed-role\/([^/]+)\/(.+)$/.exec(userArn);
  const uniqueId = (prefix: string, of: string): string =>
    prefix + createHash('sha256').update(of).digest('base64').replace(/[^A-Za-z0-9]/g, '').toUpperCase().slice(0, 17);
  const principal = assumed ? `${uniqueId('AROA', `role/${assumed[1]}`)}:${assumed[2]}` : uniqueId('AIDA', userArn);
  return {
    accountId,
    accessKey,
    caller: principal,
    user: principal,
    userArn,
    principalOrgId: null,
    cognitoIdentityPoolId: null,
    cognitoIdentityId: null,
    cognitoAuthenticationType: null,
    cognitoAuthenticationProvider: null,
  };
}

/** The upgrade request as the client sent it. */
export interface HandshakeRequest {
  /** Header names in the client's case, in order, as Node's `rawHeaders` pairs. */
  readonly rawHeaders: string[];
  readonly query: URLSearchParams;
  readonly hasQueryString: boolean;
  readonly localPort: number;
  readonly protocol: 'http' | 'https';
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `11/Nov/2024:11:35:24 +0000` (the `requestTime` format of real events). */
export function formatRequestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number): string => String(n).padStart(2, '0');
  return (
    `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`
  );
}

export function methodArn(facts: ConnectionFacts): string {
  return `arn:aws:execute-api:${facts.region}:${facts.accountId}:${facts.apiId}/${facts.stage}/$connect`;
}

type EventType = 'CONNECT' | 'MESSAGE' | 'DISCONNECT';

function requestContext(
  facts: ConnectionFacts,
  routeKey: string,
  eventType: EventType,
  now: number,
  requestId: string = newGatewayId(),
): Record<string, unknown> {
  const identity: Record<string, string | null> = { ...facts.caller, sourceIp: facts.sourceIp };
  if (facts.userAgent !== undefined) identity.userAgent = facts.userAgent;
  return {
    routeKey,
    eventType,
    extendedRequestId: requestId,
    requestTime: formatRequestTime(now),
    messageDirection: 'IN',
    stage: facts.stage,
    connectedAt: facts.connectedAt,
    requestTimeEpoch: now,
    identity,
    requestId,
    domainName: facts.domainName,
    connectionId: facts.connectionId,
    apiId: facts.apiId,
  };
}

function pairsToMaps(pairs: Array<[string, string]>): { single: Record<string, string>; multi: Record<string, string[]> } {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of pairs) {
    const existing = Object.keys(multi).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
    (multi[existing] ??= []).push(value);
    single[existing] = value;
  }
  return { single, multi };
}

function headerPairs(request: HandshakeRequest, facts: ConnectionFacts): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) pairs.push([request.rawHeaders[i], request.rawHeaders[i + 1]]);
  pairs.push(['X-Amzn-Trace-Id', `Root=1-${Math.floor(facts.connectedAt / 1000).toString(16).padStart(8, '0')}-${randomBytes(12).toString('hex')}`]);
  pairs.push(['X-Forwarded-For', facts.sourceIp]);
  pairs.push(['X-Forwarded-Port', String(request.localPort)]);
  pairs.push(['X-Forwarded-Proto', request.protocol]);
  return pairs;
}

function queryMaps(query: URLSearchParams): { single: Record<string, string>; multi: Record<string, string[]> } {
  return pairsToMaps([...query.entries()]);
}

/** The REQUEST authorizer event (spec §2.2): all headers including Connection/Upgrade, `{}` maps when empty. */
export function authorizerEvent(facts: ConnectionFacts, request: HandshakeRequest, now: number): Record<string, unknown> {
  const pairs = headerPairs(request, facts);
  if (!pairs.some(([n]) => n.toLowerCase() === 'content-length')) pairs.push(['content-length', '0']);
  const headers = pairsToMaps(pairs);
  const query = queryMaps(request.query);
  return {
    type: 'REQUEST',
    methodArn: methodArn(facts),
    headers: headers.single,
    multiValueHeaders: headers.multi,
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multi,
    stageVariables: { ...facts.stageVariables },
    requestContext: requestContext(facts, '$connect', 'CONNECT', now),
  };
}

const NOT_FORWARDED_TO_CONNECT = new Set(['connection', 'upgrade', 'content-length']);

/** The `$connect` event (spec §4.1): no Connection/Upgrade/content-length, query maps only when the URL has a query. */
export function connectEvent(
  facts: ConnectionFacts,
  request: HandshakeRequest,
  authorizer: Record<string, unknown> | undefined,
  now: number,
): Record<string, unknown> {
  const headers = pairsToMaps(headerPairs(request, facts).filter(([n]) => !NOT_FORWARDED_TO_CONNECT.has(n.toLowerCase())));
  const event: Record<string, unknown> = { headers: headers.single, multiValueHeaders: headers.multi };
  if (request.hasQueryString) {
    const query = queryMaps(request.query);
    event.queryStringParameters = query.single;
    event.multiValueQueryStringParameters = query.multi;
  }
  if (Object.keys(facts.stageVariables).length > 0) event.stageVariables = { ...facts.stageVariables };
  const context = requestContext(facts, '$connect', 'CONNECT', now);
  if (authorizer) context.authorizer = authorizer;
  event.requestContext = context;
  event.isBase64Encoded = false;
  return event;
}

/** A MESSAGE event (spec §4.2): no headers; `routeKey` is the matched key; `requestId` is the one error frames name. */
export function messageEvent(
  facts: ConnectionFacts,
  routeKey: string,
  body: string,
  authorizer: Record<string, unknown> | undefined,
  now: number,
  requestId: string,
): Record<string, unknown> {
  const context = requestContext(facts, routeKey, 'MESSAGE', now, requestId);
  context.messageId = newGatewayId();
  if (authorizer) context.authorizer = authorizer;
  const event: Record<string, unknown> = { requestContext: context, body, isBase64Encoded: false };
  if (Object.keys(facts.stageVariables).length > 0) event.stageVariables = { ...facts.stageVariables };
  return event;
}

/** The `$disconnect` event (spec §4.3) with the close status that ended the connection. */
export function disconnectEvent(
  facts: ConnectionFacts,
  status: { code: number; reason: string },
  authorizer: Record<string, unknown> | undefined,
  now: number,
): Record<string, unknown> {
  const headers: Array<[string, string]> = [
    ['Host', facts.domainName],
    ['x-api-key', ''],
    ['X-Forwarded-For', ''],
    ['x-restapi', ''],
  ];
  const maps = pairsToMaps(headers);
  const context = requestContext(facts, '$disconnect', 'DISCONNECT', now);
  context.disconnectStatusCode = status.code;
  context.disconnectReason = status.reason;
  if (authorizer) context.authorizer = authorizer;
  const event: Record<string, unknown> = { headers: maps.single, multiValueHeaders: maps.multi, requestContext: context };
  if (Object.keys(facts.stageVariables).length > 0) event.stageVariables = { ...facts.stageVariables };
  event.isBase64Encoded = false;
  return event;
}

/** The error frames API Gateway sends, byte for byte (spec §3): a space after `"message":` and after each comma. */
export function gatewayErrorFrame(message: 'Forbidden' | 'Internal server error' | 'Endpoint request timed out' | 'Too Many Requests', connectionId: string, requestId: string): string {
  return `{"message": "${message}", "connectionId":"${connectionId}", "requestId":"${requestId}"}`;
}
