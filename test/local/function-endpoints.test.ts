/**
 * `/_wsgate/functions` (local/gateway/function-endpoints.ts) on the real gateway, with real HTTP requests and a
 * real `ws` client, and in-test handlers behind our own FunctionInvoker seam. The real emulator and real function
 * processes behind the same endpoint are exercised by test/local/ticker.test.ts and test/local/user-handlers.test.ts.
 */
import * as http from 'node:http';
import type { FunctionModel, WebSocketApiModel } from '../../local/model';
import { startGateway, type Gateway } from '../../local/gateway';
import { findFunction, functionEndpoints, MAX_EVENT_BYTES } from '../../local/gateway/function-endpoints';
import { HandlerTimedOut, InTestInvoker, QueuedClient } from './gateway-test-kit';

function fn(stackName: string, logicalId: string, constructPath?: string, extra: Partial<FunctionModel> = {}): FunctionModel {
  return {
    id: `${stackName}/${logicalId}`,
    stackName,
    logicalId,
    functionName: `${stackName}-${logicalId}-ABCDEF123456`,
    ...(constructPath ? { constructPath } : {}),
    handler: 'index.handler',
    runtime: 'nodejs22.x',
    codeDir: '/nowhere',
    environment: {},
    timeoutSeconds: 3,
    memorySize: 128,
    ...extra,
  };
}

const functions: Record<string, FunctionModel> = Object.fromEntries(
  [
    fn('Ticker', 'PublisherAB12CD34', 'Ticker/Publisher'),
    fn('Ticker', 'GatewayDefaultHandlerEF56', 'Ticker/Gateway/DefaultHandler'),
    fn('Ticker', 'BoomFn01', 'Ticker/Jobs/Boom'),
    fn('Ticker', 'SlowFn01', 'Ticker/Jobs/Slow', { timeoutSeconds: 2 }),
    fn('Other', 'Handler01', 'Other/A/Handler'),
    fn('Other', 'Handler02', 'Other/B/Handler'),
    fn('Other', 'NoMetadata'),
  ].map((f) => [f.id, f]),
);

const invoker = new InTestInvoker({
  'Ticker/PublisherAB12CD34': (event) => ({ published: true, got: event }),
  'Ticker/GatewayDefaultHandlerEF56': (event) => ({ statusCode: 200, body: JSON.stringify(event.requestContext ?? null) }),
  'Ticker/BoomFn01': () => {
    throw new RangeError('tick out of range');
  },
  'Ticker/SlowFn01': () => {
    throw new HandlerTimedOut();
  },
  'Other/NoMetadata': () => undefined,
});

const api: WebSocketApiModel = {
  stackName: 'Ticker',
  logicalId: 'Api',
  apiId: 'cccccccccc',
  name: 'ticker',
  routeSelectionExpression: '$request.body.action',
  region: 'us-east-1',
  accountId: '123456789012',
  stages: [{ stageName: 'prod', stageVariables: {} }],
  routes: [
    { routeId: 'r1', routeKey: '$default', functionId: 'Ticker/GatewayDefaultHandlerEF56', authorizationType: 'NONE', apiKeyRequired: false, hasRouteResponse: true },
  ],
};

let gateway: Gateway;
let base: string;

beforeAll(async () => {
  gateway = await startGateway({
    apis: [api],
    invoker,
    port: 0,
    extraHttp: functionEndpoints({ functions, invoker, routes: new Map([['Ticker/GatewayDefaultHandlerEF56', ['$default']]]) }),
  });
  base = `http://127.0.0.1:${gateway.port}/_wsgate/functions`;
});

afterAll(async () => {
  await gateway?.close();
});

function post(name: string, body?: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/${encodeURIComponent(name)}/invoke`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
}

/** A raw request, to send headers fetch() will not let a caller set (Host, Origin). */
function rawRequest(path: string, headers: Record<string, string>, body = '{}'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: gateway.port, path, method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d) => (text += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('findFunction', () => {
  test('GIVEN the kinds of name WHEN looked up THEN id, logical id, physical name, construct path and a unique path suffix each find the function', () => {
    const publisher = functions['Ticker/PublisherAB12CD34'];
    for (const name of ['Ticker/PublisherAB12CD34', 'PublisherAB12CD34', publisher.functionName, 'Ticker/Publisher', 'Publisher']) {
      expect(findFunction(functions, name)).toEqual({ kind: 'found', fn: publisher });
    }
    expect(findFunction(functions, 'DefaultHandler')).toEqual({ kind: 'found', fn: functions['Ticker/GatewayDefaultHandlerEF56'] });
    expect(findFunction(functions, 'Gateway/DefaultHandler')).toEqual({ kind: 'found', fn: functions['Ticker/GatewayDefaultHandlerEF56'] });
  });

  test('GIVEN a suffix two paths share, a partial segment or nothing WHEN looked up THEN ambiguous or none', () => {
    const both = findFunction(functions, 'Handler');
    expect(both.kind).toBe('ambiguous');
    expect(both.kind === 'ambiguous' && both.candidates.map((c) => c.id).sort()).toEqual(['Other/Handler01', 'Other/Handler02']);
    expect(findFunction(functions, 'A/Handler')).toEqual({ kind: 'found', fn: functions['Other/Handler01'] });
    // A suffix is cut at a "/": "lisher" is not a segment of Ticker/Publisher.
    expect(findFunction(functions, 'lisher')).toEqual({ kind: 'none' });
    expect(findFunction(functions, '')).toEqual({ kind: 'none' });
    expect(findFunction(functions, 'Nope')).toEqual({ kind: 'none' });
  });
});

describe('POST /_wsgate/functions/{name}/invoke', () => {
  test('GIVEN a function on no route WHEN invoked by its construct path suffix with an event THEN 200 and its result as JSON', async () => {
    const res = await post('Publisher', '{"source":"aws.events","detail":{"n":1}}');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-wsgate-function')).toBe('Ticker/PublisherAB12CD34');
    expect(await res.json()).toEqual({ published: true, got: { source: 'aws.events', detail: { n: 1 } } });
    expect(invoker.eventsOf('Ticker/PublisherAB12CD34').at(-1)).toEqual({ source: 'aws.events', detail: { n: 1 } });
  });

  test('GIVEN an empty body WHEN invoked THEN the event is {}; a handler returning nothing THEN 200 null', async () => {
    expect(await (await post('Ticker/Publisher')).json()).toEqual({ published: true, got: {} });
    const nothing = await post('NoMetadata', '');
    expect(nothing.status).toBe(200);
    expect(await nothing.text()).toBe('null');
  });

  test('GIVEN a function that throws or times out WHEN invoked THEN 502 / 504 with the Lambda-style error object and X-Amz-Function-Error', async () => {
    const boom = await post('Boom', '{}');
    expect(boom.status).toBe(502);
    expect(boom.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(await boom.json()).toEqual({ errorType: 'RangeError', errorMessage: 'tick out of range' });
    const slow = await post('Slow', '{}');
    expect(slow.status).toBe(504);
    expect(await slow.json()).toEqual({ errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 2.00 seconds' });
  });

  test('GIVEN an unknown or ambiguous name WHEN invoked THEN 404 listing the known functions / 409 naming the candidates, and nothing runs', async () => {
    const calls = invoker.calls.length;
    const missing = await post('Publsher', '{}');
    expect(missing.status).toBe(404);
    const body = (await missing.json()) as { message: string; functions: Array<{ id: string; routes: string[] }> };
    expect(body.message).toMatch(/No function "Publsher".*Known: .*Ticker\/Publisher/);
    expect(body.functions.map((f) => f.id)).toContain('Ticker/PublisherAB12CD34');
    const ambiguous = await post('Handler', '{}');
    expect(ambiguous.status).toBe(409);
    expect(((await ambiguous.json()) as { message: string }).message).toMatch(/names 2 functions: Other\/A\/Handler, Other\/B\/Handler/);
    expect(invoker.calls.length).toBe(calls);
  });

  test('GIVEN invalid JSON WHEN invoked THEN 400 with a clear message, the function is not run, and an open connection keeps being served', async () => {
    const client = await QueuedClient.open(`ws://127.0.0.1:${gateway.port}/prod`);
    const calls = invoker.calls.length;
    const res = await post('Publisher', '{"source": oops}');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/not valid JSON .*send the event as a JSON document/);
    expect(invoker.calls.length).toBe(calls);
    client.send('{"action":"anything"}');
    expect(JSON.parse(await client.next())).toEqual(expect.objectContaining({ routeKey: '$default', connectionId: expect.any(String) }));
    // ...and the endpoint itself still answers.
    expect((await post('Publisher', '{}')).status).toBe(200);
    client.socket.close();
    await client.closed;
  });

  test('GIVEN another method, an oversized event, a foreign Origin or Host WHEN sent THEN 405 / 413 / 403 and nothing runs', async () => {
    const calls = invoker.calls.length;
    const get = await fetch(`${base}/Publisher/invoke`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await post('Publisher', `"${'x'.repeat(MAX_EVENT_BYTES)}"`)).status).toBe(413);
    const fromPage = await rawRequest('/_wsgate/functions/Publisher/invoke', { Host: `127.0.0.1:${gateway.port}`, Origin: 'https://evil.example' });
    expect(fromPage.status).toBe(403);
    const rebound = await rawRequest('/_wsgate/functions/Publisher/invoke', { Host: `attacker.example:${gateway.port}` });
    expect(rebound.status).toBe(403);
    expect(invoker.calls.length).toBe(calls);
    const sameOrigin = await rawRequest('/_wsgate/functions/Publisher/invoke', { Host: `127.0.0.1:${gateway.port}`, Origin: `http://127.0.0.1:${gateway.port}` });
    expect(sameOrigin.status).toBe(200);
  });
});

describe('GET /_wsgate/functions', () => {
  test('GIVEN the assembly WHEN listed THEN every function with the names it answers to and its routes', async () => {
    const res = await fetch(base);
    expect(res.status).toBe(200);
    const { functions: listed } = (await res.json()) as { functions: Array<Record<string, unknown>> };
    expect(listed).toHaveLength(Object.keys(functions).length);
    expect(listed).toContainEqual({
      id: 'Ticker/GatewayDefaultHandlerEF56',
      logicalId: 'GatewayDefaultHandlerEF56',
      functionName: 'Ticker-GatewayDefaultHandlerEF56-ABCDEF123456',
      constructPath: 'Ticker/Gateway/DefaultHandler',
      routes: ['$default'],
    });
    expect(listed).toContainEqual(expect.objectContaining({ id: 'Other/NoMetadata', constructPath: null, routes: [] }));
  });
});
