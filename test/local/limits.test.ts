/**
 * API Gateway's message limits in the emulator's gateway (local/gateway/connection.ts frame limit,
 * local/gateway/messages.ts integration timeout, local/gateway/events.ts trace header), spec §2.4 and §3.1:
 * a single frame over 32 KB closes with 1009 although the message would fit in 128 KB; fragmented messages are
 * reassembled up to 128 KB; an integration that has not answered within its timeout sends the client
 * `{"message": "Endpoint request timed out", ...}` (text [UNCONFIRMED], the choice in local/gateway/README.md)
 * while the function runs on; X-Amzn-Trace-Id is `Root=1-{8 hex}-{24 hex}`.
 * Real `ws` clients against the real gateway; handlers are in-test functions behind the FunctionInvoker seam.
 */
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  LimitExceededException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { RouteModel, WebSocketApiModel } from '../../local/model';
import { connectionsBottleneckOf } from '../../local/emulator';
import { startGateway, type Gateway } from '../../local/gateway';
import { FrameSizeGuard, MAX_FRAME_BYTES } from '../../local/gateway/connection';
import { eventually, InTestInvoker, QueuedClient } from './gateway-test-kit';

function route(routeKey: string, functionId: string, extra: Partial<RouteModel> = {}): RouteModel {
  return { routeId: `r-${routeKey}`, routeKey, functionId, authorizationType: 'NONE', apiKeyRequired: false, hasRouteResponse: true, ...extra };
}

const api: WebSocketApiModel = {
  stackName: 'LimitsStack',
  logicalId: 'Api',
  apiId: 'llllllllll',
  name: 'limits',
  routeSelectionExpression: '$request.body.action',
  region: 'us-east-1',
  accountId: '123456789012',
  stages: [{ stageName: 'dev', stageVariables: {} }],
  routes: [
    route('$connect', 'connect', { hasRouteResponse: false }),
    route('$disconnect', 'disconnect', { hasRouteResponse: false }),
    route('$default', 'size'),
    route('slow', 'slow', { integrationTimeoutMs: 100 }),
  ],
};

/** Stage "tight": 2 messages per ~17 minutes (no refill during the test), route "own" with its own larger bucket. */
const throttledApi: WebSocketApiModel = {
  ...api,
  apiId: 'tttttttttt',
  name: 'throttled',
  stages: [{
    stageName: 'tight',
    stageVariables: {},
    throttling: { defaultRoute: { rateLimit: 0.001, burstLimit: 2 }, routes: { own: { rateLimit: 0.001, burstLimit: 5 } } },
  }],
  routes: [...api.routes, route('own', 'size')],
};

/** Stage "auth": `$connect` behind a REQUEST authorizer whose result is `?size=N` bytes of JSON (context padded). */
const authorizedApi: WebSocketApiModel = {
  ...api,
  apiId: 'aaaaaaaaaa',
  name: 'authorized',
  stages: [{ stageName: 'auth', stageVariables: {} }],
  routes: [
    route('$connect', 'connect', {
      hasRouteResponse: false,
      authorizationType: 'CUSTOM',
      authorizer: { authorizerId: 'au1', name: 'sized', functionId: 'sized', identitySource: ['route.request.querystring.size'] },
    }),
    ...api.routes.filter((r) => r.routeKey !== '$connect'),
  ],
};

/** An authorizer result of exactly `bytes` bytes once serialized as JSON. */
function sizedAuthorizerResult(methodArn: string, bytes: number): Record<string, unknown> {
  const result = (pad: string) => ({
    principalId: 'sized-user',
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: methodArn }] },
    context: { pad },
  });
  const base = Buffer.byteLength(JSON.stringify(result('')));
  return result('p'.repeat(bytes - base));
}

/** Releases the held `slow` invocations; each records when it finished. */
let releaseSlow: () => void = () => undefined;
const slowReleased = new Promise<void>((resolve) => (releaseSlow = resolve));
const slowFinished: string[] = [];

const invoker = new InTestInvoker({
  connect: () => ({ statusCode: 200 }),
  sized: (event) => sizedAuthorizerResult(event.methodArn, Number(event.queryStringParameters.size)),
  disconnect: () => ({ statusCode: 200 }),
  size: (event) => ({ statusCode: 200, body: JSON.stringify({ length: event.body.length }) }),
  slow: async (event) => {
    await slowReleased;
    slowFinished.push(event.requestContext.connectionId);
    return { statusCode: 200, body: 'late' };
  },
});

let gateway: Gateway;
let url: string;
const gatewayLog: string[] = [];

beforeAll(async () => {
  gateway = await startGateway({ apis: [api, throttledApi, authorizedApi], invoker, port: 0, log: (line) => gatewayLog.push(line) });
  url = gateway.endpoints[0].websocketUrl;
});

afterAll(async () => {
  releaseSlow();
  await gateway?.close();
});

const disconnectStatusOf = (connectionId: string) =>
  eventually(() => invoker.eventsOf('disconnect').find((e) => e.requestContext.connectionId === connectionId)?.requestContext.disconnectStatusCode, 'its $disconnect');

async function open(at = url): Promise<{ client: QueuedClient; connectionId: string }> {
  const before = invoker.eventsOf('connect').length;
  const client = await QueuedClient.open(at);
  const connectionId = await eventually(() => invoker.eventsOf('connect')[before]?.requestContext.connectionId as string | undefined, 'the $connect event');
  return { client, connectionId };
}

/** Sends `text` as fragments of `frameBytes` (first a text frame, then continuation frames). */
function sendFragmented(client: QueuedClient, text: string, frameBytes: number): void {
  for (let at = 0; at < text.length; at += frameBytes) {
    client.socket.send(text.slice(at, at + frameBytes), { fin: at + frameBytes >= text.length });
  }
}

describe('frame and message limits (spec §2.4)', () => {
  test('GIVEN a single 32 KB + 1 frame (a 33 KB message, within 128 KB) WHEN sent THEN close 1009 and $disconnect reports 1009; a bystander is untouched', async () => {
    const { client, connectionId } = await open();
    const bystander = await open();
    client.send('x'.repeat(MAX_FRAME_BYTES + 1));
    expect((await client.closed).code).toBe(1009);
    expect(await disconnectStatusOf(connectionId)).toBe(1009);
    bystander.client.send('still here');
    expect(await bystander.client.nextJson()).toEqual({ length: 'still here'.length });
    bystander.client.socket.close();
  });

  test('GIVEN a single frame of exactly 32 KB WHEN sent THEN it is routed', async () => {
    const { client } = await open();
    client.send('y'.repeat(MAX_FRAME_BYTES));
    expect(await client.nextJson()).toEqual({ length: MAX_FRAME_BYTES });
    client.socket.close();
  });

  test('GIVEN a 128 KB message in four 32 KB fragments WHEN sent THEN it is reassembled and routed whole', async () => {
    const { client } = await open();
    sendFragmented(client, 'z'.repeat(128 * 1024), MAX_FRAME_BYTES);
    expect(await client.nextJson()).toEqual({ length: 128 * 1024 });
    client.socket.close();
  });

  test('GIVEN 128 KB + 1 in 32 KB fragments WHEN sent THEN close 1009', async () => {
    const { client, connectionId } = await open();
    sendFragmented(client, 'w'.repeat(128 * 1024 + 1), MAX_FRAME_BYTES);
    expect((await client.closed).code).toBe(1009);
    expect(await disconnectStatusOf(connectionId)).toBe(1009);
  });
});

/** A client frame as RFC 6455 lays it out: FIN + opcode, the length (7, 16 or 64 bits), a mask, the payload. */
function rawFrame(opcode: number, payloadBytes: number, fin = true): Buffer {
  const length = payloadBytes < 126 ? Buffer.from([0x80 | payloadBytes]) : payloadBytes < 65536 ? Buffer.alloc(3) : Buffer.alloc(9);
  if (payloadBytes >= 126 && payloadBytes < 65536) {
    length[0] = 0x80 | 126;
    length.writeUInt16BE(payloadBytes, 1);
  } else if (payloadBytes >= 65536) {
    length[0] = 0x80 | 127;
    length.writeBigUInt64BE(BigInt(payloadBytes), 1);
  }
  return Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode]), length, Buffer.from([1, 2, 3, 4]), Buffer.alloc(payloadBytes, 0x61)]);
}

describe('FrameSizeGuard (the per-frame accounting behind the 32 KB limit)', () => {
  test.each([1, 3, 7, 4096])('GIVEN frames of every length encoding fed in %i-byte chunks WHEN the first data frame over 32 KB arrives THEN onOversize fires once with its length, not before', (chunkBytes) => {
    for (const [oversize, encoding] of [[MAX_FRAME_BYTES + 1, '16-bit'], [70_000, '64-bit']] as const) {
      // GIVEN: a short text frame, a 16-bit-length frame, a 125-byte ping (control frames never count),
      // a fragmented message of two 32 KB frames (text + continuation), then the oversize frame and more bytes
      const before = Buffer.concat([rawFrame(0x1, 5), rawFrame(0x1, 200), rawFrame(0x9, 125), rawFrame(0x1, MAX_FRAME_BYTES, false), rawFrame(0x0, MAX_FRAME_BYTES)]);
      const stream = Buffer.concat([before, rawFrame(0x1, oversize), rawFrame(0x1, 10)]);
      const seen: Array<{ bytes: number; at: number }> = [];
      let fed = 0;
      const guard = new FrameSizeGuard(MAX_FRAME_BYTES, (bytes) => seen.push({ bytes, at: fed }));
      // WHEN
      let open = true;
      for (let at = 0; at < stream.length && open; at += chunkBytes) {
        const chunk = stream.subarray(at, at + chunkBytes);
        fed = at + chunk.length;
        open = guard.write(chunk);
      }
      // THEN: reported once, in the chunk that completed the oversize frame's header (8 or 14 bytes after `before`)
      const headerEnd = before.length + (encoding === '16-bit' ? 8 : 14);
      expect(seen).toEqual([{ bytes: oversize, at: expect.any(Number) }]);
      expect(seen[0].at).toBeGreaterThanOrEqual(headerEnd);
      expect(seen[0].at).toBeLessThan(headerEnd + chunkBytes);
      expect(guard.write(rawFrame(0x1, 1))).toBe(false);
    }
  });
});

describe('integration timeout (spec §3.1)', () => {
  test('GIVEN a route whose integration times out at 100 ms and a function that has not answered WHEN called THEN the client gets "Endpoint request timed out", the connection stays open and the function runs on', async () => {
    const { client, connectionId } = await open();
    client.send({ action: 'slow' });
    expect(await client.next()).toMatch(/^\{"message": "Endpoint request timed out", "connectionId":"[A-Za-z0-9_-]{15}=", "requestId":"[A-Za-z0-9_-]{15}="\}$/);
    expect(slowFinished).toEqual([]);
    client.send('next');
    expect(await client.nextJson()).toEqual({ length: 4 });
    releaseSlow();
    await eventually(() => slowFinished.includes(connectionId), 'the slow function to finish');
    await eventually(() => gatewayLog.some((l) => l.includes('finished after the integration timeout')), 'the late-result log line');
    // its late result is dropped: the next frame the client gets answers its next message
    client.send('after');
    expect(await client.nextJson()).toEqual({ length: 5 });
    client.socket.close();
  });
});

describe('X-Amzn-Trace-Id', () => {
  test('GIVEN a connection WHEN $connect runs THEN its trace header is Root=1-{8 hex}-{24 hex}', async () => {
    const { client } = await open();
    const traces = invoker.eventsOf('connect').map((e) => e.headers['X-Amzn-Trace-Id']);
    for (const trace of traces) expect(trace).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    client.socket.close();
  });
});

describe('stage throttling (DefaultRouteSettings / RouteSettings token buckets)', () => {
  test('GIVEN a stage with burst 2 and a route with its own burst 5 WHEN a client sends 5 messages to each THEN 2 and 5 are routed, the other 3 get "Too Many Requests" and the connection stays open', async () => {
    const { client } = await open(gateway.endpoints.find((e) => e.stage === 'tight')!.websocketUrl);
    for (let i = 0; i < 5; i++) client.send(`m${i}`);
    const frames = await Promise.all(Array.from({ length: 5 }, () => client.next()));
    const throttled = frames.filter((f) => /^\{"message": "Too Many Requests", "connectionId":"[A-Za-z0-9_-]{15}=", "requestId":"[A-Za-z0-9_-]{15}="\}$/.test(f));
    expect(throttled).toHaveLength(3);
    expect(frames.filter((f) => f === '{"length":2}')).toHaveLength(2);
    for (let i = 0; i < 5; i++) client.send({ action: 'own', n: i });
    const own = await Promise.all(Array.from({ length: 5 }, () => client.nextJson()));
    expect(own.every((f) => typeof f.length === 'number')).toBe(true);
    client.send({ action: 'own', n: 6 });
    expect((await client.nextJson()).message).toBe('Too Many Requests');
    client.socket.close();
  });
});

describe('$connect route throttling (RouteSettings of $connect)', () => {
  test('GIVEN a stage whose $connect route allows 1 handshake (no refill during the test) WHEN a second client connects THEN its handshake is refused 429, the first stays open and its messages are routed', async () => {
    // GIVEN
    const connectLimited: WebSocketApiModel = {
      ...api,
      apiId: 'cccccccccc',
      stages: [{ stageName: 'gate', stageVariables: {}, throttling: { routes: { $connect: { rateLimit: 0.001, burstLimit: 1 } } } }],
    };
    const limited = await startGateway({ apis: [connectLimited], invoker, port: 0, log: (line) => gatewayLog.push(line) });
    try {
      const at = limited.endpoints[0].websocketUrl;
      const first = await QueuedClient.open(at);
      // WHEN
      const second = QueuedClient.open(at);
      // THEN
      await expect(second).rejects.toThrow(/Unexpected server response: 429/);
      expect(gatewayLog.some((l) => /refused with 429: the stage's \$connect throttling limit is used up/.test(l))).toBe(true);
      first.send('ok');
      expect(await first.nextJson()).toEqual({ length: 2 });
      first.socket.close();
    } finally {
      await limited.close();
    }
  });
});

describe('new connections per second (the account quota)', () => {
  test('GIVEN a gateway allowing 2 new connections (no refill during the test) WHEN a third client connects THEN its handshake is refused 429 and the two stay open', async () => {
    const limited = await startGateway({ apis: [api], invoker, port: 0, newConnections: { rateLimit: 0.001, burstLimit: 2 }, log: (line) => gatewayLog.push(line) });
    try {
      const at = limited.endpoints[0].websocketUrl;
      const first = await QueuedClient.open(at);
      const second = await QueuedClient.open(at);
      await expect(QueuedClient.open(at)).rejects.toThrow(/Unexpected server response: 429/);
      expect(gatewayLog.some((l) => /refused with 429: more than 0.001 new connections per second/.test(l))).toBe(true);
      second.send('ok');
      expect(await second.nextJson()).toEqual({ length: 2 });
      first.socket.close();
      second.socket.close();
    } finally {
      await limited.close();
    }
  });
});

/** The SDK client a handler would use, pointed at one stage's `@connections` endpoint; no retries, so a 429 surfaces. */
function sdkFor(callbackUrl: string): ApiGatewayManagementApiClient {
  return new ApiGatewayManagementApiClient({ endpoint: callbackUrl, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
}

describe('the 8 KB authorizer-result limit', () => {
  test('GIVEN an authorizer whose result is exactly 8192 bytes of JSON WHEN a client connects THEN it is accepted; at 8193 bytes THEN the handshake is refused 500 (the choice: as a malformed result) and $connect never runs', async () => {
    expect(JSON.stringify(sizedAuthorizerResult('arn:x', 8192)).length).toBe(8192);
    const at = gateway.endpoints.find((e) => e.stage === 'auth')!.websocketUrl;
    const { client } = await open(`${at}?size=8192`);
    client.send('fits');
    expect(await client.nextJson()).toEqual({ length: 4 });
    client.socket.close();
    const connectsBefore = invoker.eventsOf('connect').length;
    const authorizerCallsBefore = invoker.eventsOf('sized').length;
    await expect(QueuedClient.open(`${at}?size=8193`)).rejects.toThrow(/Unexpected server response: 500/);
    expect(invoker.eventsOf('sized')).toHaveLength(authorizerCallsBefore + 1);
    expect(invoker.eventsOf('connect')).toHaveLength(connectsBefore);
    expect(gatewayLog.some((l) => l.includes("authorizer sized returned 8193 bytes, over API Gateway's 8192-byte (8 KB) limit"))).toBe(true);
  });
});

describe("AWS's @connections bottleneck (--connections-latency / --connections-rate)", () => {
  test('GIVEN a 200 ms @connections latency WHEN a post and a GET are sent THEN each is answered no sooner than 200 ms after it was sent, and the post is delivered', async () => {
    const slow = await startGateway({ apis: [api], invoker, port: 0, connectionsBottleneck: { latencyMs: 200 } });
    try {
      const { client, connectionId } = await open(slow.endpoints[0].websocketUrl);
      const sdk = sdkFor(slow.endpoints[0].callbackUrl);
      const started = Date.now();
      let answeredAt = 0;
      const post = sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'late hello' })).then(() => (answeredAt = Date.now()));
      // the frame arrives only once the request has waited its latency
      expect(await client.next()).toBe('late hello');
      const deliveredAt = Date.now();
      await post;
      expect(deliveredAt - started).toBeGreaterThanOrEqual(199);
      expect(answeredAt - started).toBeGreaterThanOrEqual(199);
      const getStarted = Date.now();
      const info = await sdk.send(new GetConnectionCommand({ ConnectionId: connectionId }));
      expect(info.ConnectedAt).toBeInstanceOf(Date);
      expect(Date.now() - getStarted).toBeGreaterThanOrEqual(199);
      client.socket.close();
    } finally {
      await slow.close();
    }
  });

  test('GIVEN a rate of 1/s with burst 3 on a frozen clock WHEN POST, GET and DELETE on two APIs use the 3 tokens THEN the next request on either API gets the typed LimitExceededException (429) and is not delivered; 1 s later one more passes', async () => {
    // GIVEN: one bucket for the whole account (both APIs, every method); the clock only moves when the test says so
    let now = 1_000_000;
    const limited = await startGateway({
      apis: [api, throttledApi],
      invoker,
      port: 0,
      connectionsBottleneck: { rate: { rateLimit: 1, burstLimit: 3 }, now: () => now },
    });
    try {
      const [first, second] = [limited.endpoints[0], limited.endpoints.find((e) => e.stage === 'tight')!];
      const a = await open(first.websocketUrl);
      const b = await open(second.websocketUrl);
      const sdkA = sdkFor(first.callbackUrl);
      const sdkB = sdkFor(second.callbackUrl);
      // WHEN: three requests of three kinds on two APIs take the three tokens
      await sdkA.send(new PostToConnectionCommand({ ConnectionId: a.connectionId, Data: 'one' }));
      expect(await a.client.next()).toBe('one');
      await sdkB.send(new GetConnectionCommand({ ConnectionId: b.connectionId }));
      await expect(sdkB.send(new DeleteConnectionCommand({ ConnectionId: 'unknown-id' }))).rejects.toMatchObject({ name: 'GoneException' });
      // THEN: the fourth, on either API, is over the account's rate
      const refused = await sdkA.send(new PostToConnectionCommand({ ConnectionId: a.connectionId, Data: 'over the rate' })).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(LimitExceededException);
      expect(refused).toMatchObject({ name: 'LimitExceededException', message: 'Too Many Requests', $metadata: { httpStatusCode: 429 } });
      await expect(sdkB.send(new PostToConnectionCommand({ ConnectionId: b.connectionId, Data: 'also over' }))).rejects.toBeInstanceOf(LimitExceededException);
      // the bucket refills at the rate: one second later exactly one token is back
      now += 1000;
      await sdkA.send(new PostToConnectionCommand({ ConnectionId: a.connectionId, Data: 'two' }));
      await expect(sdkA.send(new PostToConnectionCommand({ ConnectionId: a.connectionId, Data: 'three' }))).rejects.toBeInstanceOf(LimitExceededException);
      // neither refused post reached a client: the next frame each gets is the one that passed (or none for b)
      expect(await a.client.next()).toBe('two');
      expect(a.client.pending).toBe(0);
      expect(b.client.pending).toBe(0);
      a.client.socket.close();
      b.client.socket.close();
    } finally {
      await limited.close();
    }
  });

  test('GIVEN the emulator options WHEN only a rate is given THEN the burst is half of it (AWS: 10,000 rps with burst 5,000), at least 1; bad values are refused', () => {
    expect(connectionsBottleneckOf({})).toBeUndefined();
    expect(connectionsBottleneckOf({ connectionsLatencyMs: 0 })).toBeUndefined();
    expect(connectionsBottleneckOf({ connectionsRatePerSecond: 10_000 })).toEqual({ latencyMs: 0, rate: { rateLimit: 10_000, burstLimit: 5_000 } });
    expect(connectionsBottleneckOf({ connectionsRatePerSecond: 1, connectionsLatencyMs: 20 })).toEqual({ latencyMs: 20, rate: { rateLimit: 1, burstLimit: 1 } });
    expect(connectionsBottleneckOf({ connectionsRatePerSecond: 100, connectionsBurst: 7 })).toEqual({ latencyMs: 0, rate: { rateLimit: 100, burstLimit: 7 } });
    expect(() => connectionsBottleneckOf({ connectionsLatencyMs: -1 })).toThrow(/connectionsLatencyMs must be a number of milliseconds >= 0, got -1/);
    expect(() => connectionsBottleneckOf({ connectionsRatePerSecond: 0 })).toThrow(/connectionsRatePerSecond must be a number > 0/);
    expect(() => connectionsBottleneckOf({ connectionsBurst: 5 })).toThrow(/connectionsBurst needs connectionsRatePerSecond/);
    expect(() => connectionsBottleneckOf({ connectionsRatePerSecond: 5, connectionsBurst: 0.5 })).toThrow(/connectionsBurst must be a number >= 1/);
  });
});
