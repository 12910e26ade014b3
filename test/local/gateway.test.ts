/**
 * The emulator's gateway against the spec (/work/shared/spec/apigw-websocket-behavior.md, "spec §N"):
 * real `ws` clients, the real @aws-sdk/client-apigatewaymanagementapi client, raw TCP/TLS sockets, and in-test
 * handlers behind our own FunctionInvoker seam.
 */
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import fc from 'fast-check';
import { generate } from 'selfsigned';
import type { WebSocketApiModel, RouteModel } from '../../local/model';
import { startGateway, type Gateway } from '../../local/gateway';
import { isGatewayId } from '../../local/gateway/ids';
import { evaluateInvokePolicy } from '../../local/gateway/iam-policy';
import { RouteSelector, selectRouteKey } from '../../local/gateway/route-selection';
import { eventually, HandlerTimedOut, InTestInvoker, QueuedClient } from './gateway-test-kit';
import { DEVELOPER_CREDENTIALS, IamAuthority } from '../../local/iam/credentials';
import type { FunctionModel } from '../../local/model';
import { sdkSigner } from './support/sigv4-signer';

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const ERROR_FRAME = (message: string) =>
  new RegExp(`^\\{"message": "${message}", "connectionId":"([A-Za-z0-9_-]{15}=)", "requestId":"([A-Za-z0-9_-]{15}=)"\\}$`);

function route(routeKey: string, functionId: string | undefined, extra: Partial<RouteModel> = {}): RouteModel {
  return { routeId: `r-${routeKey}`, routeKey, functionId, authorizationType: 'NONE', apiKeyRequired: false, hasRouteResponse: false, ...extra };
}

/** API "chat": authorizer on $connect, two-way echo, one-way, failing and timing-out routes. Stages dev and prod. */
const chatApi: WebSocketApiModel = {
  stackName: 'ChatStack',
  logicalId: 'ChatApi',
  apiId: 'aaaaaaaaaa',
  name: 'chat',
  routeSelectionExpression: '$request.body.action',
  region: REGION,
  accountId: ACCOUNT,
  stages: [
    { stageName: 'dev', stageVariables: {} },
    { stageName: 'prod', stageVariables: { tier: 'gold' } },
  ],
  routes: [
    route('$connect', 'connect', {
      authorizationType: 'CUSTOM',
      authorizer: { authorizerId: 'au1', name: 'jwt', functionId: 'auth', identitySource: ['route.request.querystring.token'] },
    }),
    route('$disconnect', 'disconnect'),
    route('$default', 'default', { hasRouteResponse: true }),
    route('echo', 'echo', { hasRouteResponse: true }),
    route('oneway', 'oneway'),
    route('boom', 'boom', { hasRouteResponse: true }),
    route('slow', 'slow', { hasRouteResponse: true }),
    route('quiet', 'quiet', { hasRouteResponse: true }),
    route('legacy', undefined, { unsupported: 'ChatStack/LegacyIntegration: HTTP_PROXY integrations are not run by the emulator' }),
  ],
};

/** API "plain": no $connect route, no $default, a composite expression; shares the stage name dev with "chat". */
const plainApi: WebSocketApiModel = {
  stackName: 'PlainStack',
  logicalId: 'PlainApi',
  apiId: 'bbbbbbbbbb',
  name: 'plain',
  routeSelectionExpression: '${request.body.service}/${request.body.action}',
  region: REGION,
  accountId: ACCOUNT,
  stages: [
    { stageName: 'dev', stageVariables: {} },
    { stageName: 'other', stageVariables: {} },
  ],
  routes: [route('chat/join', 'composite', { hasRouteResponse: true })],
};

function policy(principalId: string, effect: string, resource: string, context?: Record<string, unknown>) {
  return {
    principalId,
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }] },
    context,
  };
}

let gateway: Gateway;
let cert: string;
let port: number;
const earlyPosts: Array<{ status: number; errorType: string | null }> = [];
const gatewayLog: string[] = [];

const invoker = new InTestInvoker({
  auth: (event) => {
    const token: string = event.queryStringParameters.token;
    const arn: string = event.methodArn;
    if (token === 'unauthorized') throw new Error('Unauthorized');
    if (token === 'crash') throw new TypeError('cannot read properties of undefined');
    if (token === 'malformed') return { principalId: 'm' };
    if (token === 'nested-context') return policy('n', 'Allow', arn, { nested: { a: 1 } });
    if (token === 'deny') return policy('mallory', 'Deny', arn);
    if (token === 'stage-wildcard') return policy('eve', 'Allow', arn.replace(/\$connect$/, '*/*'));
    if (token === 'other-api') return policy('o', 'Allow', arn.replace('aaaaaaaaaa', 'zzzzzzzzzz'));
    if (token === 'wildcard') return policy('w', 'Allow', 'arn:aws:execute-api:*:*:aaaaaaaaaa/*');
    if (token === 'timeout') throw new HandlerTimedOut();
    const user = token.replace(/^allow-/, '');
    return policy(user, 'Allow', arn, { user, level: 3, admin: true });
  },
  connect: async (event) => {
    const mode = event.queryStringParameters?.connect;
    if (mode === 'refuse') return { statusCode: 401 };
    if (mode === 'redirect') return { statusCode: 301 };
    if (mode === 'throw') throw new Error('connect failed');
    if (mode === 'timeout') throw new HandlerTimedOut();
    if (mode === 'no-status') return {};
    if (mode === 'post-early') {
      const id = encodeURIComponent(event.requestContext.connectionId);
      const res = await fetch(`http://127.0.0.1:${port}/dev/@connections/${id}`, { method: 'POST', body: 'too early' });
      earlyPosts.push({ status: res.status, errorType: res.headers.get('x-amzn-errortype') });
    }
    const offered: string | undefined = event.headers['Sec-WebSocket-Protocol'];
    const chosen = offered?.split(',').map((p) => p.trim()).find((p) => p === 'chat.v2');
    return chosen ? { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': chosen } } : { statusCode: 201 };
  },
  disconnect: () => ({ statusCode: 200 }),
  default: (event) => ({ statusCode: 200, body: JSON.stringify({ route: event.requestContext.routeKey, got: event.body }) }),
  echo: (event) => ({
    statusCode: 200,
    body: JSON.stringify({ connectionId: event.requestContext.connectionId, body: JSON.parse(event.body) }),
  }),
  oneway: () => ({ statusCode: 200, body: 'never sent: no route response' }),
  boom: () => {
    throw new Error('handler bug');
  },
  slow: () => {
    throw new HandlerTimedOut();
  },
  quiet: () => ({ statusCode: 500 }),
  composite: (event) => ({ statusCode: 200, body: `routed:${event.requestContext.routeKey}` }),
});

beforeAll(async () => {
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] }],
  });
  cert = pems.cert;
  gateway = await startGateway({
    apis: [chatApi, plainApi],
    invoker,
    port: 0,
    tls: { key: pems.private, cert: pems.cert },
    log: (line) => gatewayLog.push(line),
  });
  port = gateway.port;
});

afterAll(async () => {
  await gateway.close();
});

const wsUrl = (path: string): string => `ws://127.0.0.1:${port}${path}`;
const open = (path: string, protocols?: string[]): Promise<QueuedClient> => QueuedClient.open(wsUrl(path), protocols);
const authorizerCalls = (): number => invoker.eventsOf('auth').length;

function managementClient(stagePath = '/dev'): ApiGatewayManagementApiClient {
  return new ApiGatewayManagementApiClient({
    endpoint: `http://127.0.0.1:${port}${stagePath}`,
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/** Opens an authorized chat client and learns its connectionId through the echo route. */
async function openChat(user: string, path = '/dev'): Promise<{ client: QueuedClient; connectionId: string }> {
  const client = await open(`${path}?token=allow-${user}`);
  client.send({ action: 'echo', who: user });
  const reply = await client.nextJson();
  return { client, connectionId: reply.connectionId };
}

function disconnectEventOf(connectionId: string): Promise<any> {
  return eventually(
    () => invoker.eventsOf('disconnect').find((e) => e.requestContext.connectionId === connectionId),
    `$disconnect of ${connectionId}`,
  );
}

function rawExchange(bytes: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    let text = '';
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('close', () => resolve(text));
    socket.on('error', () => resolve(text));
  });
}

describe('endpoints (spec §1, §9.6)', () => {
  test('GIVEN two APIs sharing stage "dev" WHEN listing endpoints THEN the first keeps /dev and the second is told apart by /{apiId}/dev', () => {
    const urls = gateway.endpoints.map((e) => `${e.apiId} ${e.websocketUrl} ${e.callbackUrl}`);
    expect(urls).toEqual([
      `aaaaaaaaaa ws://127.0.0.1:${port}/dev http://127.0.0.1:${port}/dev`,
      `aaaaaaaaaa ws://127.0.0.1:${port}/prod http://127.0.0.1:${port}/prod`,
      `bbbbbbbbbb ws://127.0.0.1:${port}/bbbbbbbbbb/dev http://127.0.0.1:${port}/bbbbbbbbbb/dev`,
      `bbbbbbbbbb ws://127.0.0.1:${port}/other http://127.0.0.1:${port}/other`,
    ]);
    expect(gateway.endpoints[0].domainName).toBe(`127.0.0.1:${port}`);
    expect(gateway.endpoints[2].domainName).toBe(`127.0.0.1:${port}/bbbbbbbbbb`);
  });

  test('GIVEN a stage URL WHEN a plain GET arrives THEN 426 Upgrade Required (spec §1); unknown paths get 404', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/dev`);
    expect(res.status).toBe(426);
    expect((await fetch(`http://127.0.0.1:${port}/nowhere/deeper`)).status).toBe(404);
  });

  test('GIVEN an unknown stage WHEN upgrading THEN the handshake fails with 403 and nothing is invoked', async () => {
    const before = invoker.calls.length;
    await expect(open('/staging?token=allow-x')).rejects.toThrow(/Unexpected server response: 403/);
    expect(invoker.calls.length).toBe(before);
  });
});

describe('handshake and authorizer (spec §2.1, §2.2)', () => {
  test('GIVEN no token or an empty token WHEN connecting THEN 401 without calling the authorizer (spec §2.2)', async () => {
    const before = authorizerCalls();
    await expect(open('/dev')).rejects.toThrow(/Unexpected server response: 401/);
    await expect(open('/dev?token=')).rejects.toThrow(/Unexpected server response: 401/);
    await expect(open('/dev?token=%20')).rejects.toThrow(/Unexpected server response: 401/);
    expect(authorizerCalls()).toBe(before);
  });

  test('GIVEN a token WHEN connecting THEN the authorizer gets the REQUEST event of spec §2.2 with the $connect methodArn', async () => {
    const { client, connectionId } = await openChat('shape');
    const event = invoker.eventsOf('auth').find((e) => e.requestContext.connectionId === connectionId);
    expect(event).toMatchObject({
      type: 'REQUEST',
      methodArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:aaaaaaaaaa/dev/$connect`,
      queryStringParameters: { token: 'allow-shape' },
      multiValueQueryStringParameters: { token: ['allow-shape'] },
      stageVariables: {},
      requestContext: { routeKey: '$connect', eventType: 'CONNECT', messageDirection: 'IN', stage: 'dev', apiId: 'aaaaaaaaaa' },
    });
    expect(event.headers).toMatchObject({ Upgrade: 'websocket', 'X-Forwarded-Proto': 'http', 'content-length': '0' });
    expect(event.headers.Host).toBe(`127.0.0.1:${port}`);
    expect(event.requestContext.domainName).toBe(`127.0.0.1:${port}`);
    expect(isGatewayId(connectionId)).toBe(true);
    expect(isGatewayId(event.requestContext.requestId)).toBe(true);
    expect(event.requestContext.requestId).toBe(event.requestContext.extendedRequestId);
    expect(event.requestContext.requestTime).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    client.socket.close();
  });

  test.each([
    ['unauthorized', 401, 'the authorizer fails with "Unauthorized"'],
    ['deny', 403, 'the policy is an explicit Deny'],
    ['stage-wildcard', 403, 'the policy allows only {stage}/*/*, which does not match {stage}/$connect'],
    ['other-api', 403, 'the policy allows another API'],
    ['crash', 500, 'the authorizer crashes ([INF] 500)'],
    ['timeout', 500, 'the authorizer times out ([INF] 500)'],
    ['malformed', 500, 'the result has no policyDocument ([INF] 500)'],
    ['nested-context', 500, 'a context value is an object ([INF] 500)'],
  ])('GIVEN token %s WHEN connecting THEN %i, because %s (spec §2.2)', async (token, status) => {
    const connectsBefore = invoker.eventsOf('connect').length;
    await expect(open(`/dev?token=${token}`)).rejects.toThrow(new RegExp(`Unexpected server response: ${status}`));
    expect(invoker.eventsOf('connect').length).toBe(connectsBefore);
  });

  test('GIVEN a policy with IAM wildcards over the API WHEN connecting THEN it is accepted (spec §2.2 wildcard semantics)', async () => {
    const client = await open('/dev?token=wildcard');
    expect(client.socket.readyState).toBe(client.socket.OPEN);
    client.socket.close();
  });

  test('GIVEN an allowed token WHEN $connect runs THEN its event has spec §4.1 shape and requestContext.authorizer = principalId + context', async () => {
    const { client, connectionId } = await openChat('carol');
    const event = invoker.eventsOf('connect').find((e) => e.requestContext.connectionId === connectionId);
    expect(event.headers.Upgrade).toBeUndefined();
    expect(event.headers.Connection).toBeUndefined();
    expect(event.headers['content-length']).toBeUndefined();
    expect(event.headers['X-Forwarded-For']).toBe('127.0.0.1');
    expect(event.queryStringParameters).toEqual({ token: 'allow-carol' });
    expect(event.isBase64Encoded).toBe(false);
    // Context values keep their JSON types: stringification is [UNCONFIRMED] (spec §2.2).
    expect(event.requestContext.authorizer).toMatchObject({ principalId: 'carol', user: 'carol', level: 3, admin: true });
    expect(event.requestContext.identity).toEqual({ sourceIp: '127.0.0.1' });
    client.socket.close();
  });

  test.each([
    ['refuse', 401],
    ['redirect', 301],
    ['throw', 502],
    ['timeout', 502],
    ['no-status', 502],
  ])('GIVEN $connect mode %s WHEN connecting THEN the handshake fails with %i (spec §2.1.4)', async (mode, status) => {
    await expect(open(`/dev?token=allow-x&connect=${mode}`)).rejects.toThrow(new RegExp(`Unexpected server response: ${status}`));
  });

  test('GIVEN an API without a $connect route WHEN connecting THEN it is accepted (spec §2.1.2)', async () => {
    const client = await open('/other');
    client.send({ service: 'chat', action: 'join' });
    expect(await client.next()).toBe('routed:chat/join');
    client.socket.close();
  });

  test('GIVEN $connect posts to its own connection WHEN it runs THEN 410 GoneException: not registered before the 101 (spec §2.1.5)', async () => {
    const client = await open('/dev?token=allow-early&connect=post-early');
    expect(earlyPosts).toEqual([{ status: 410, errorType: 'GoneException' }]);
    client.socket.close();
  });
});

describe('subprotocols (spec §2.3)', () => {
  test('GIVEN the client offers chat.v1, chat.v2 WHEN $connect returns chat.v2 THEN only chat.v2 is echoed', async () => {
    const client = await open('/dev?token=allow-sp', ['chat.v1', 'chat.v2']);
    expect(client.socket.protocol).toBe('chat.v2');
    client.socket.close();
  });

  test('GIVEN the client offers chat.v1 only WHEN $connect returns no protocol THEN none is echoed and the client aborts', async () => {
    await expect(open('/dev?token=allow-sp', ['chat.v1'])).rejects.toThrow(/Server sent no subprotocol/);
  });
});

describe('messages and route selection (spec §2.4, §3, §3.1, §4.2)', () => {
  test('GIVEN a two-way route WHEN a message matches THEN the handler gets the spec §4.2 event and its body comes back', async () => {
    const { client, connectionId } = await openChat('dave');
    client.send({ action: 'echo', n: 1 });
    expect(await client.nextJson()).toEqual({ connectionId, body: { action: 'echo', n: 1 } });
    const event = invoker.eventsOf('echo').filter((e) => e.requestContext.connectionId === connectionId).pop();
    expect(event.headers).toBeUndefined();
    expect(event.queryStringParameters).toBeUndefined();
    expect(event.body).toBe('{"action":"echo","n":1}');
    expect(event.requestContext).toMatchObject({ routeKey: 'echo', eventType: 'MESSAGE', stage: 'dev', connectionId });
    expect(isGatewayId(event.requestContext.messageId)).toBe(true);
    expect(event.requestContext.authorizer).toMatchObject({ principalId: 'dave', user: 'dave' });
    client.socket.close();
  });

  test('GIVEN a one-way route WHEN it returns a body THEN nothing is sent (spec §3.1)', async () => {
    const { client } = await openChat('erin');
    const before = invoker.eventsOf('oneway').length;
    client.send({ action: 'oneway' });
    await eventually(() => invoker.eventsOf('oneway').length > before, 'the one-way call');
    client.send({ action: 'quiet' });
    await eventually(() => invoker.eventsOf('quiet').length > 0, 'the quiet call');
    client.send({ action: 'echo', marker: 'after' });
    // The next frame is the echo: neither the one-way body nor the body-less 500 produced a frame.
    expect((await client.nextJson()).body.marker).toBe('after');
    client.socket.close();
  });

  test('GIVEN unknown actions, non-JSON and non-object JSON WHEN sent THEN $default handles them with routeKey $default (spec §3)', async () => {
    const { client } = await openChat('frank');
    for (const text of ['{"action":"nope"}', 'not json at all', '"hi"', '42', '{"action":"$connect"}', '{}']) {
      client.send(text);
      expect(await client.nextJson()).toEqual({ route: '$default', got: text });
    }
    client.socket.close();
  });

  test('GIVEN a handler that throws or times out WHEN called THEN the Internal server error frame, and the connection stays open (spec §3.1)', async () => {
    const { client, connectionId } = await openChat('gina');
    client.send({ action: 'boom' });
    const thrown = ERROR_FRAME('Internal server error').exec(await client.next());
    expect(thrown?.[1]).toBe(connectionId);
    const boomEvent = invoker.eventsOf('boom').find((e) => e.requestContext.connectionId === connectionId);
    expect(thrown?.[2]).toBe(boomEvent.requestContext.requestId);
    // The frame sent on timeout is [UNCONFIRMED] (spec §3.1): we send the same Internal server error frame.
    client.send({ action: 'slow' });
    expect(await client.next()).toMatch(ERROR_FRAME('Internal server error'));
    client.send({ action: 'echo', still: 'open' });
    expect((await client.nextJson()).body.still).toBe('open');
    client.socket.close();
  });

  test('GIVEN a route the emulator cannot run WHEN selected THEN the Internal server error frame and a log line naming the resource', async () => {
    const { client } = await openChat('uma');
    client.send({ action: 'legacy' });
    expect(await client.next()).toMatch(ERROR_FRAME('Internal server error'));
    expect(gatewayLog.some((l) => l.includes('ChatStack/LegacyIntegration'))).toBe(true);
    client.socket.close();
  });

  test('GIVEN an API without $default WHEN nothing matches THEN the Forbidden frame byte for byte, connection kept (spec §3)', async () => {
    const client = await open('/other');
    client.send({ service: 'chat', action: 'leave' });
    const frame = await client.next();
    const match = ERROR_FRAME('Forbidden').exec(frame);
    expect(match).not.toBeNull();
    expect(frame).toBe(`{"message": "Forbidden", "connectionId":"${match![1]}", "requestId":"${match![2]}"}`);
    client.send('not json');
    expect(await client.next()).toMatch(ERROR_FRAME('Forbidden'));
    client.send({ service: 'chat', action: 'join' });
    expect(await client.next()).toBe('routed:chat/join');
    client.socket.close();
  });

  test('GIVEN a stage shared by two APIs WHEN connecting at /{apiId}/dev THEN the second API serves it', async () => {
    const client = await open('/bbbbbbbbbb/dev');
    client.send({ service: 'chat', action: 'join' });
    expect(await client.next()).toBe('routed:chat/join');
    client.socket.close();
  });

  test('GIVEN a binary frame WHEN received THEN close 1003 and $disconnect reports it (spec §2.4)', async () => {
    const { client, connectionId } = await openChat('hank');
    client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await client.closed).code).toBe(1003);
    expect((await disconnectEventOf(connectionId)).requestContext.disconnectStatusCode).toBe(1003);
  });

  test('GIVEN a message over 128 KB WHEN received THEN close 1009 (spec §2.4)', async () => {
    const { client, connectionId } = await openChat('ivy');
    client.send('x'.repeat(128 * 1024 + 1));
    expect((await client.closed).code).toBe(1009);
    expect((await disconnectEventOf(connectionId)).requestContext.disconnectStatusCode).toBe(1009);
  });

  test('GIVEN a message of exactly 128 KB in 32 KB frames WHEN received THEN it is routed (spec §2.4 limit is inclusive)', async () => {
    const { client } = await openChat('jack');
    const text = 'y'.repeat(128 * 1024);
    // Frames over 32 KB close with 1009 (test/local/limits.test.ts): a 128 KB message comes in four fragments.
    for (let at = 0; at < text.length; at += 32 * 1024) client.socket.send(text.slice(at, at + 32 * 1024), { fin: at + 32 * 1024 >= text.length });
    expect((await client.nextJson()).got.length).toBe(text.length);
    client.socket.close();
  });
});

describe('$disconnect (spec §2.5, §4.3)', () => {
  test('GIVEN a client closing without a code WHEN closed THEN $disconnect gets 1005 "Client-side close frame status not set" and the authorizer', async () => {
    const { client, connectionId } = await openChat('kim');
    client.socket.close();
    const event = await disconnectEventOf(connectionId);
    expect(event.requestContext).toMatchObject({
      routeKey: '$disconnect',
      eventType: 'DISCONNECT',
      disconnectStatusCode: 1005,
      disconnectReason: 'Client-side close frame status not set',
      authorizer: { principalId: 'kim' },
    });
    expect(event.headers).toEqual({ Host: `127.0.0.1:${port}`, 'x-api-key': '', 'X-Forwarded-For': '', 'x-restapi': '' });
  });

  test('GIVEN a client closing with 4000 "bye" WHEN closed THEN $disconnect mirrors them', async () => {
    const { client, connectionId } = await openChat('lee');
    client.socket.close(4000, 'bye');
    expect((await disconnectEventOf(connectionId)).requestContext).toMatchObject({ disconnectStatusCode: 4000, disconnectReason: 'bye' });
  });

  test('GIVEN a client that vanishes (TCP dropped) WHEN detected THEN $disconnect still runs ([UNCONFIRMED] 1006) and others carry on', async () => {
    const { client, connectionId } = await openChat('mo');
    const other = await openChat('ned');
    client.socket.terminate();
    expect((await disconnectEventOf(connectionId)).requestContext.disconnectStatusCode).toBe(1006);
    other.client.send({ action: 'echo', alive: true });
    expect((await other.client.nextJson()).body.alive).toBe(true);
    other.client.socket.close();
  });
});

describe('@connections with the real SDK client (spec §5)', () => {
  test('GIVEN an open connection WHEN PostToConnection THEN the client gets a text frame and 200', async () => {
    const { client, connectionId } = await openChat('olga');
    const result = await managementClient().send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'hello from backend' }));
    expect(result.$metadata.httpStatusCode).toBe(200);
    expect(await client.nextFrame()).toEqual({ text: 'hello from backend', isBinary: false });
    client.socket.close();
  });

  test('GIVEN an open connection WHEN GetConnection THEN connectedAt, identity (userAgent null) and lastActiveAt', async () => {
    const { client, connectionId } = await openChat('pat');
    const info = await managementClient().send(new GetConnectionCommand({ ConnectionId: connectionId }));
    expect(info.Identity?.SourceIp).toBe('127.0.0.1');
    // The SDK drops nulls, so the wire body is checked too: userAgent is null when none was sent (spec §5, D15).
    const wire: any = await (await fetch(`http://127.0.0.1:${port}/dev/@connections/${encodeURIComponent(connectionId)}`)).json();
    expect(wire.identity).toEqual({ sourceIp: '127.0.0.1', userAgent: null });
    expect(new Date(wire.connectedAt).toISOString()).toBe(wire.connectedAt);
    expect(info.ConnectedAt).toBeInstanceOf(Date);
    expect(info.LastActiveAt!.getTime()).toBeGreaterThanOrEqual(info.ConnectedAt!.getTime());
    client.socket.close();
  });

  test('GIVEN an open connection WHEN DeleteConnection THEN 204, the client sees 1001 "Going away", $disconnect runs, and later calls get GoneException', async () => {
    const { client, connectionId } = await openChat('quinn');
    const sdk = managementClient();
    const deleted = await sdk.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect(await client.closed).toEqual({ code: 1001, reason: 'Going away' });
    expect((await disconnectEventOf(connectionId)).requestContext).toMatchObject({ disconnectStatusCode: 1001, disconnectReason: 'Going away' });
    await expect(sdk.send(new GetConnectionCommand({ ConnectionId: connectionId }))).rejects.toThrow(
      expect.objectContaining({ name: 'GoneException', $metadata: expect.objectContaining({ httpStatusCode: 410 }) }),
    );
    await expect(sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'x' }))).rejects.toThrow(
      expect.objectContaining({ name: 'GoneException' }),
    );
  });

  test('GIVEN an id that never existed or another stage WHEN calling THEN GoneException', async () => {
    const { client, connectionId } = await openChat('rita');
    await expect(managementClient().send(new GetConnectionCommand({ ConnectionId: 'AAAAAAAAAAAAAAA=' }))).rejects.toThrow(
      expect.objectContaining({ name: 'GoneException' }),
    );
    await expect(managementClient('/prod').send(new GetConnectionCommand({ ConnectionId: connectionId }))).rejects.toThrow(
      expect.objectContaining({ name: 'GoneException' }),
    );
    client.socket.close();
  });

  test('GIVEN Data over 128 KB WHEN PostToConnection THEN PayloadTooLargeException (413)', async () => {
    const { client, connectionId } = await openChat('sam');
    await expect(
      managementClient().send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'z'.repeat(131073) })),
    ).rejects.toThrow(expect.objectContaining({ name: 'PayloadTooLargeException', $metadata: expect.objectContaining({ httpStatusCode: 413 }) }));
    client.socket.close();
  });

  test('GIVEN a wrong stage prefix WHEN calling THEN ForbiddenException (403)', async () => {
    await expect(managementClient('/staging').send(new GetConnectionCommand({ ConnectionId: 'AAAAAAAAAAAAAAA=' }))).rejects.toThrow(
      expect.objectContaining({ name: 'ForbiddenException' }),
    );
  });

  test('GIVEN the paths /%40connections/{id} and /@connections/{id} without a stage WHEN posting THEN both deliver (spec §1 emulator note)', async () => {
    const { client, connectionId } = await openChat('tom');
    const id = encodeURIComponent(connectionId);
    expect((await fetch(`http://127.0.0.1:${port}/dev/%40connections/${id}`, { method: 'POST', body: 'one' })).status).toBe(200);
    expect(await client.next()).toBe('one');
    expect((await fetch(`http://127.0.0.1:${port}/@connections/${id}`, { method: 'POST', body: 'two' })).status).toBe(200);
    expect(await client.next()).toBe('two');
    client.socket.close();
  });

  test('GIVEN the same port WHEN a client uses wss:// and a handler posts over https:// THEN TLS is served there too (spec §9.6)', async () => {
    const client = await QueuedClient.open(`wss://127.0.0.1:${port}/dev?token=allow-tls`, undefined, { ca: cert });
    client.send({ action: 'echo' });
    const { connectionId } = await client.nextJson();
    const status = await new Promise<number>((resolve, reject) => {
      const req = https.request(
        `https://127.0.0.1:${port}/dev/@connections/${encodeURIComponent(connectionId)}`,
        { method: 'POST', ca: cert },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', reject);
      req.end('over tls');
    });
    expect(status).toBe(200);
    expect(await client.next()).toBe('over tls');
    const connectEvent = invoker.eventsOf('connect').find((e) => e.requestContext.connectionId === connectionId);
    expect(connectEvent.headers['X-Forwarded-Proto']).toBe('https');
    client.socket.close();
  });
  test('GIVEN a handler-like keep-alive https agent WHEN it posts twice THEN the server announces a 65 s keep-alive and the second post reuses the socket', async () => {
    const client = await QueuedClient.open(`wss://127.0.0.1:${port}/dev?token=allow-keepalive`, undefined, { ca: cert });
    client.send({ action: 'echo' });
    const { connectionId } = await client.nextJson();
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: cert });
    const post = (data: string) =>
      new Promise<{ status: number; keepAlive: unknown; reused: boolean }>((resolve, reject) => {
        const req = https.request(`https://127.0.0.1:${port}/dev/@connections/${encodeURIComponent(connectionId)}`, { method: 'POST', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, keepAlive: res.headers['keep-alive'], reused: req.reusedSocket }));
        });
        req.on('error', reject);
        req.end(data);
      });
    try {
      const first = await post('one');
      const second = await post('two');
      expect(first).toEqual({ status: 200, keepAlive: 'timeout=65', reused: false });
      expect(second).toEqual({ status: 200, keepAlive: 'timeout=65', reused: true });
      expect([await client.next(), await client.next()]).toEqual(['one', 'two']);
    } finally {
      agent.destroy();
      client.socket.close();
    }
  });
});

describe('robustness', () => {
  test('GIVEN garbage bytes, a bad TLS hello, a bad upgrade and a half-open request WHEN sent THEN each gets an error or is dropped and clients carry on', async () => {
    const halfOpen = net.connect(port, '127.0.0.1', () => halfOpen.write('GET /dev HTTP/1.1\r\nHost: 127.0.0.1\r\n'));
    halfOpen.on('error', () => undefined);
    expect(await rawExchange(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x0d, 0x0a, 0x0d, 0x0a]))).toMatch(/^HTTP\/1\.1 400/);
    await rawExchange(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]));
    const authBefore = authorizerCalls();
    const badKey =
      'GET /dev?token=allow-x HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n';
    expect(await rawExchange(badKey)).toMatch(/^HTTP\/1\.1 400/);
    expect(authorizerCalls()).toBe(authBefore);
    const tlsGarbage = await new Promise<string>((resolve) => {
      const socket = tls.connect({ port, host: '127.0.0.1', ca: cert }, () => socket.write('\x00\x01garbage\r\n\r\n'));
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
    });
    expect(tlsGarbage).toMatch(/^HTTP\/1\.1 400/);
    const { client } = await openChat('survivor');
    client.send({ action: 'echo', ok: 1 });
    expect((await client.nextJson()).body.ok).toBe(1);
    client.socket.close();
    halfOpen.destroy();
  });

  test('GIVEN 40 concurrent clients sending 5 messages each WHEN replies arrive THEN each receives only its own replies', async () => {
    const clients = await Promise.all(Array.from({ length: 40 }, (_, i) => openChat(`user${i}`)));
    await Promise.all(
      clients.map(async ({ client, connectionId }, i) => {
        for (let j = 0; j < 5; j += 1) client.send({ action: 'echo', tag: `${i}-${j}` });
        const replies = await Promise.all(Array.from({ length: 5 }, () => client.nextJson()));
        expect(new Set(replies.map((r) => r.connectionId))).toEqual(new Set([connectionId]));
        expect(replies.map((r) => r.body.tag).sort()).toEqual(Array.from({ length: 5 }, (_, j) => `${i}-${j}`).sort());
      }),
    );
    await Promise.all(
      clients.map(async ({ client, connectionId }, i) => {
        await managementClient().send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: `direct-${i}` }));
        expect(await client.next()).toBe(`direct-${i}`);
      }),
    );
    for (const { client } of clients) client.socket.close();
  });

  test('GIVEN a flood of 150 connects dropped at once WHEN it settles THEN every one got $disconnect and the gateway still serves', async () => {
    const openBefore = gateway.connectionCount();
    const ids = await Promise.all(
      Array.from({ length: 150 }, async (_, i) => {
        const { client, connectionId } = await openChat(`flood${i}`);
        if (i % 2 === 0) client.socket.terminate();
        else client.socket.close();
        return connectionId;
      }),
    );
    await Promise.all(ids.map(disconnectEventOf));
    await eventually(() => gateway.connectionCount() <= openBefore, 'the flood connections to be gone');
    const { client } = await openChat('after-flood');
    client.send({ action: 'echo', n: 2 });
    expect((await client.nextJson()).body.n).toBe(2);
    client.socket.close();
  });
});

describe('idle timeout and maximum duration (spec §2.5)', () => {
  test('GIVEN a short idle timeout WHEN messages keep flowing THEN it stays open; WHEN idle THEN 1001 "Going away" and $disconnect', async () => {
    const short = await startGateway({ apis: [chatApi], invoker, port: 0, idleTimeoutMs: 800 });
    try {
      const client = await QueuedClient.open(`ws://127.0.0.1:${short.port}/dev?token=allow-idle`);
      client.send({ action: 'echo' });
      const { connectionId } = await client.nextJson();
      for (let i = 0; i < 6; i += 1) {
        await new Promise((r) => setTimeout(r, 250));
        client.socket.ping();
        client.send({ action: 'echo', i });
        expect((await client.nextJson()).body.i).toBe(i);
      }
      expect(await client.closed).toEqual({ code: 1001, reason: 'Going away' });
      expect((await disconnectEventOf(connectionId)).requestContext).toMatchObject({ disconnectStatusCode: 1001, disconnectReason: 'Going away' });
    } finally {
      await short.close();
    }
  });

  test('GIVEN a silent client WHEN the backend keeps posting through @connections THEN outbound activity keeps it open (spec §2.5)', async () => {
    const short = await startGateway({ apis: [chatApi], invoker, port: 0, idleTimeoutMs: 800 });
    try {
      const client = await QueuedClient.open(`ws://127.0.0.1:${short.port}/dev?token=allow-listener`);
      client.send({ action: 'echo' });
      const { connectionId } = await client.nextJson();
      const sdk = new ApiGatewayManagementApiClient({
        endpoint: short.endpoints[0].callbackUrl,
        region: REGION,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      for (let i = 0; i < 6; i += 1) {
        await new Promise((r) => setTimeout(r, 250));
        await sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: `keepalive-${i}` }));
        expect(await client.next()).toBe(`keepalive-${i}`);
      }
      expect(await client.closed).toEqual({ code: 1001, reason: 'Going away' });
    } finally {
      await short.close();
    }
  });

  test('GIVEN pings only WHEN the idle timeout passes THEN the connection is closed anyway (pings are not activity)', async () => {
    const short = await startGateway({ apis: [chatApi], invoker, port: 0, idleTimeoutMs: 500 });
    try {
      const client = await QueuedClient.open(`ws://127.0.0.1:${short.port}/dev?token=allow-pinger`);
      const pinger = setInterval(() => client.socket.readyState === client.socket.OPEN && client.socket.ping(), 100);
      expect((await client.closed).code).toBe(1001);
      clearInterval(pinger);
    } finally {
      await short.close();
    }
  });

  test('GIVEN a maximum duration WHEN it passes THEN the connection is closed with 1001 even while active', async () => {
    const short = await startGateway({ apis: [chatApi], invoker, port: 0, maxDurationMs: 700 });
    try {
      const client = await QueuedClient.open(`ws://127.0.0.1:${short.port}/dev?token=allow-long`);
      const chatter = setInterval(() => client.socket.readyState === client.socket.OPEN && client.send({ action: 'oneway' }), 100);
      expect(await client.closed).toEqual({ code: 1001, reason: 'Going away' });
      clearInterval(chatter);
    } finally {
      await short.close();
    }
  });

  test('GIVEN open connections WHEN the gateway closes THEN clients see 1001 and $disconnect runs for each', async () => {
    const short = await startGateway({ apis: [chatApi], invoker, port: 0 });
    const client = await QueuedClient.open(`ws://127.0.0.1:${short.port}/dev?token=allow-shutdown`);
    client.send({ action: 'echo' });
    const { connectionId } = await client.nextJson();
    await short.close();
    expect((await client.closed).code).toBe(1001);
    expect((await disconnectEventOf(connectionId)).requestContext.disconnectStatusCode).toBe(1001);
  });
});

describe('route selection expression evaluator (spec §3)', () => {
  const body = JSON.stringify({ service: 'chat', action: 'join', data: { room: 'lobby' } });
  const table: Array<[string, string]> = [
    ['$request.body.action', 'join'],
    ['${request.body.action}', 'join'],
    ['${request.body.service}/${request.body.action}', 'chat/join'],
    ['${request.body.action}-${request.body.invalidPath}', 'join-'],
    ['action', 'action'],
    ['\\$default', '$default'],
  ];

  test.each(table)('GIVEN the spec §3 example %s THEN %s', (expression, expected) => {
    expect(new RouteSelector(expression).evaluate(body)).toBe(expected);
  });

  test('GIVEN nested paths, indexes and non-string values THEN they stringify as documented ([UNCONFIRMED] for scalars and null)', () => {
    const value = JSON.stringify({ a: { b: [{ c: 'deep' }] }, n: 5, t: true, z: null, arr: ['x', 1], o: { k: 'v' } });
    expect(new RouteSelector('$request.body.a.b[0].c').evaluate(value)).toBe('deep');
    expect(new RouteSelector('${request.body.n}|${request.body.t}|${request.body.z}').evaluate(value)).toBe('5|true|');
    expect(new RouteSelector('$request.body.arr').evaluate(value)).toBe('[x, 1]');
    expect(new RouteSelector('$request.body.o').evaluate(value)).toBe('{"k":"v"}');
  });

  test('GIVEN non-JSON or non-object bodies THEN a variable expression cannot be evaluated and a static one still can', () => {
    expect(new RouteSelector('$request.body.action').evaluate('nope')).toBeUndefined();
    expect(new RouteSelector('$request.body.action').evaluate('[1]')).toBeUndefined();
    expect(new RouteSelector('static').evaluate('nope')).toBe('static');
    expect(selectRouteKey(new RouteSelector('$request.body.action'), new Set(['join']), 'nope')).toBeUndefined();
    expect(selectRouteKey(new RouteSelector('$request.body.action'), new Set(['$default']), 'nope')).toBe('$default');
  });

  test('GIVEN grammar AWS would refuse THEN a clear error at load time', () => {
    expect(() => new RouteSelector('${request.body.action')).toThrow(/unclosed/);
    expect(() => new RouteSelector('${request.header.x}')).toThrow(/only request\.body variables/);
  });

  test('PROPERTY: for any expression built from the grammar and any body, evaluate never throws and yields a string or undefined', () => {
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/);
    const path = fc.array(fc.oneof(name.map((n) => `.${n}`), fc.nat(5).map((i) => `[${i}]`)), { minLength: 1, maxLength: 4 }).map((p) => p.join(''));
    const segment = fc.oneof(
      fc.stringMatching(/^[^$\\{}]{1,6}$/),
      fc.constant('\\$'),
      path.map((p) => `\${request.body${p}}`),
    );
    const expression = fc.oneof(
      fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => s.join('')),
      path.map((p) => `$request.body${p}`),
    );
    const bodies = fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v)));
    fc.assert(
      fc.property(expression, bodies, (expr, text) => {
        const result = new RouteSelector(expr).evaluate(text);
        return result === undefined || typeof result === 'string';
      }),
      { numRuns: 500 },
    );
  });

  test('PROPERTY: arbitrary extra fields never change the spec §3 example table', () => {
    const extra = fc.dictionary(
      fc.string().filter((k) => !['service', 'action', 'invalidPath', '__proto__'].includes(k)),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(extra, (fields) => {
        const text = JSON.stringify({ ...fields, service: 'chat', action: 'join' });
        return table.every(([expr, expected]) => new RouteSelector(expr).evaluate(text) === expected);
      }),
      { numRuns: 200 },
    );
  });
});

describe('IAM policy evaluation (spec §2.2)', () => {
  const arn = 'arn:aws:execute-api:eu-west-1:123456789012:abc/dev/$connect';
  const doc = (...Statement: unknown[]) => ({ Version: '2012-10-17', Statement });

  test('GIVEN Allow and Deny on the same ARN THEN Deny wins; no statement THEN deny', () => {
    expect(evaluateInvokePolicy(doc({ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: arn }), arn)).toBe('allow');
    expect(
      evaluateInvokePolicy(
        doc({ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: 'execute-api:*', Resource: arn }),
        arn,
      ),
    ).toBe('deny');
    expect(evaluateInvokePolicy(doc(), arn)).toBe('deny');
  });

  test('GIVEN wildcards THEN * spans "/" and ? matches one character; actions are case-insensitive', () => {
    expect(evaluateInvokePolicy(doc({ Effect: 'Allow', Action: 'EXECUTE-API:invoke', Resource: 'arn:aws:execute-api:*:*:abc/*' }), arn)).toBe('allow');
    expect(evaluateInvokePolicy(doc({ Effect: 'Allow', Action: ['s3:Get*', 'execute-api:*'], Resource: [`${arn.slice(0, -1)}?`] }), arn)).toBe('allow');
    expect(evaluateInvokePolicy(doc({ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: 'arn:aws:execute-api:*:*:abc/dev/*/*' }), arn)).toBe('deny');
  });

  test('GIVEN a malformed document THEN it throws (the gateway answers 500)', () => {
    expect(() => evaluateInvokePolicy(undefined, arn)).toThrow(/policyDocument must be an object/);
    expect(() => evaluateInvokePolicy(doc({ Effect: 'Maybe', Action: '*', Resource: '*' }), arn)).toThrow(/Effect must be Allow or Deny/);
  });
});

describe('AWS_IAM on $connect: the signer in requestContext.identity', () => {
  const iamApi: WebSocketApiModel = {
    stackName: 'IamStack', logicalId: 'Api', apiId: 'iiiiiiiiii', name: 'iam', routeSelectionExpression: '$request.body.action',
    region: REGION, accountId: ACCOUNT,
    stages: [{ stageName: 'signed', stageVariables: {} }],
    routes: [
      route('$connect', 'connect', { authorizationType: 'AWS_IAM' }),
      route('$default', 'echo', { hasRouteResponse: true }),
      route('$disconnect', 'disconnect'),
    ],
  };
  // A function whose role may open connections (a backend service that connects as a client).
  const caller = {
    id: 'IamStack/Caller', stackName: 'IamStack', logicalId: 'Caller', functionName: 'IamStack-Caller-1', handler: 'index.handler', runtime: 'nodejs22.x',
    codeDir: '/nonexistent', environment: {}, timeoutSeconds: 3, memorySize: 128, accountId: ACCOUNT,
    role: {
      id: 'IamStack/CallerRole', roleName: 'IamStack-CallerRole-1', arn: `arn:aws:iam::${ACCOUNT}:role/IamStack-CallerRole-1`, managedPolicyArns: [], warnings: [],
      policies: [{ name: 'IamStack/CallerPolicy', document: { Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: `arn:aws:execute-api:${REGION}:${ACCOUNT}:iiiiiiiiii/signed/$connect` }] } }],
    },
  } as FunctionModel;
  const iam = new IamAuthority({ functions: { [caller.id]: caller }, accountId: ACCOUNT });
  const iamInvoker = new InTestInvoker({
    connect: () => ({ statusCode: 200 }),
    echo: (event) => ({ statusCode: 200, body: JSON.stringify(event.requestContext.identity) }),
    disconnect: () => ({ statusCode: 200 }),
  });
  let iamGateway: Gateway;
  beforeAll(async () => {
    iamGateway = await startGateway({ apis: [iamApi], invoker: iamInvoker, port: 0, iam });
  });
  afterAll(() => iamGateway?.close());

  const cognitoAndOrgNull = {
    principalOrgId: null, cognitoIdentityPoolId: null, cognitoIdentityId: null, cognitoAuthenticationType: null, cognitoAuthenticationProvider: null,
  };

  test('GIVEN the developer key (an IAM user) presigning the upgrade WHEN it connects and sends THEN $connect, the message and $disconnect carry accountId, accessKey, caller = user = AIDA…, userArn, null Cognito fields and the sourceIp', async () => {
    // GIVEN
    const port = iamGateway.port;
    const signer = sdkSigner({ service: 'execute-api', region: REGION, ...DEVELOPER_CREDENTIALS });
    const presigned = (await signer.presign(
      { method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port, path: '/signed', query: {}, headers: { host: `127.0.0.1:${port}` } } as never,
      { expiresIn: 300 },
    )) as unknown as { query: Record<string, string> };
    // WHEN
    const client = await QueuedClient.open(`ws://127.0.0.1:${port}/signed?${new URLSearchParams(presigned.query).toString()}`);
    client.send('who am i');
    const seenByRoute = await client.nextJson();
    client.socket.close();
    // THEN
    const expected = {
      accountId: ACCOUNT,
      accessKey: DEVELOPER_CREDENTIALS.accessKeyId,
      caller: expect.stringMatching(/^AIDA[A-Z0-9]{17}$/),
      user: expect.stringMatching(/^AIDA[A-Z0-9]{17}$/),
      userArn: `arn:aws:iam::${ACCOUNT}:user/wsgate-local-developer`,
      ...cognitoAndOrgNull,
      sourceIp: '127.0.0.1',
    };
    const connect = iamInvoker.eventsOf('connect').at(-1);
    expect(connect.requestContext.identity).toEqual(expected);
    expect(connect.requestContext.identity.caller).toBe(connect.requestContext.identity.user);
    expect(seenByRoute).toEqual(expected);
    const disconnect = await eventually(() => iamInvoker.eventsOf('disconnect').find((e) => e.requestContext.connectionId === connect.requestContext.connectionId), 'its $disconnect');
    expect(disconnect.requestContext.identity).toEqual(expected);
  });

  test("GIVEN a function role's session credentials signing the upgrade in the Authorization header WHEN it connects THEN caller and user are AROA…:{session}, userArn the assumed-role ARN, accessKey its ASIA key", async () => {
    // GIVEN
    const port = iamGateway.port;
    const env = iam.credentialsFor(caller.id)!;
    const signer = sdkSigner({ service: 'execute-api', region: REGION, accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN });
    const signed = (await signer.sign({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port, path: '/signed', query: {}, headers: { host: `127.0.0.1:${port}` } } as never)) as unknown as { headers: Record<string, string> };
    const { host: _host, ...headers } = signed.headers;
    // WHEN
    const client = await QueuedClient.open(`ws://127.0.0.1:${port}/signed`, undefined, { headers });
    client.socket.close();
    // THEN
    const identity = iamInvoker.eventsOf('connect').at(-1).requestContext.identity;
    expect(identity).toEqual({
      accountId: ACCOUNT,
      accessKey: env.AWS_ACCESS_KEY_ID,
      caller: expect.stringMatching(/^AROA[A-Z0-9]{17}:IamStack-Caller-1$/),
      user: identity.caller,
      userArn: `arn:aws:sts::${ACCOUNT}:assumed-role/IamStack-CallerRole-1/IamStack-Caller-1`,
      ...cognitoAndOrgNull,
      sourceIp: '127.0.0.1',
    });
    expect(env.AWS_ACCESS_KEY_ID).toMatch(/^ASIA/);
  });

  test('GIVEN a route without AWS_IAM WHEN a client connects THEN identity holds only sourceIp (and userAgent when sent)', async () => {
    const client = await open('/dev?token=allow-iam-less');
    client.socket.close();
    const identity = invoker.eventsOf('connect').at(-1).requestContext.identity;
    expect(Object.keys(identity).sort()).toEqual(Object.keys(identity).filter((k) => k === 'sourceIp' || k === 'userAgent').sort());
    expect(identity.sourceIp).toBe('127.0.0.1');
  });
});
