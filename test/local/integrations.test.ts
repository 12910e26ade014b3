/**
 * Non-Lambda integrations in the real emulator (local/gateway/integrations/): MOCK with route and integration
 * responses, HTTP_PROXY to an in-test HTTP server, AWS DynamoDB PutItem and SQS SendMessage through local IAM with
 * the integration's role, PassthroughBehavior NEVER, a validated route and a broken Velocity template. One emulator
 * for the file, real `ws` clients, the real SDK reading the table and the queue.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startEmulator, type RunningEmulator } from '../../local/emulator';
import { synthIntegrationsApp } from './fixtures/integrations/integrations-app';
import { eventually, QueuedClient } from './gateway-test-kit';
import { scanTable } from './support/emulator-kit';

let workDir: string;
let emulator: RunningEmulator;
let backend: http.Server;
const backendRequests: Array<{ method: string; url: string; contentType?: string; body: string }> = [];
const gatewayLog: string[] = [];
const clients: QueuedClient[] = [];

beforeAll(async () => {
  backend = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      backendRequests.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body });
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ echoed: JSON.parse(body) }));
    });
  });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', () => resolve()));
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-integrations-'));
  synthIntegrationsApp(path.join(workDir, 'cdk.out'), `http://127.0.0.1:${(backend.address() as AddressInfo).port}/echo`);
  emulator = await startEmulator({
    assemblyDir: path.join(workDir, 'cdk.out'),
    port: 0,
    log: (line) => gatewayLog.push(line),
    functionLog: () => undefined,
  });
});

afterAll(async () => {
  for (const c of clients) c.socket.close();
  await emulator?.close();
  await new Promise((r) => backend?.close(r));
  fs.rmSync(workDir, { recursive: true, force: true });
});

async function connect(): Promise<QueuedClient> {
  const client = await QueuedClient.open(emulator.endpoints[0].websocketUrl);
  clients.push(client);
  return client;
}

/** The connection id API Gateway puts in its error frames and `$context.connectionId`, read back through MOCK. */
async function connectionIdOf(client: QueuedClient): Promise<string> {
  client.socket.send(JSON.stringify({ action: 'mock' }));
  return (await client.nextJson()).connectionId;
}

describe('the assembly model of non-Lambda integrations', () => {
  test('GIVEN the fixture app WHEN the emulator loads it THEN every route is runnable and the model carries templates, responses, roles and models', () => {
    // GIVEN / WHEN
    const routes = emulator.model.apis[0].routes;

    // THEN
    expect(routes.filter((r) => r.unsupported)).toEqual([]);
    const byKey = Object.fromEntries(routes.map((r) => [r.routeKey, r]));
    expect(byKey.mock.integration).toEqual(expect.objectContaining({
      type: 'MOCK',
      templateSelectionExpression: '${request.body.kind}',
      passthroughBehavior: 'WHEN_NO_MATCH',
      requestTemplates: { $default: '{"statusCode": 200}', teapot: '{"statusCode": 418}' },
    }));
    expect(byKey.mock.integration!.responses.map((r) => r.key).sort()).toEqual(['$default', '/4\\d\\d/']);
    expect(byKey.http.integration).toEqual(expect.objectContaining({ type: 'HTTP_PROXY', method: 'POST' }));
    expect(byKey.save.integration!.uri).toMatch(/^arn:aws:apigateway:[a-z0-9-]+:dynamodb:action\/PutItem$/);
    expect(byKey.save.integration!.credentialsRole?.roleName).toBeTruthy();
    expect(byKey.enqueue.integration!.requestParameters).toEqual({ 'integration.request.header.Content-Type': "'application/x-www-form-urlencoded'" });
    expect(byKey.validated.validation).toEqual({
      modelSelectionExpression: '$default',
      models: { $default: expect.objectContaining({ name: 'ChatMessage' }) },
    });
  });
});

describe('MOCK integrations', () => {
  test('GIVEN a MOCK route with a route response WHEN a message selects the $default template THEN the $default integration response renders $context and $stageVariables', async () => {
    // GIVEN
    const client = await connect();

    // WHEN
    client.socket.send(JSON.stringify({ action: 'mock', kind: 'anything' }));
    const reply = await client.nextJson();

    // THEN
    expect(reply).toEqual({ connectionId: expect.stringMatching(/^[A-Za-z0-9_=-]+$/), stage: 'dev', greeting: 'hello', route: 'mock' });
  });

  test('GIVEN a template keyed "teapot" returning statusCode 418 WHEN the message has kind teapot THEN the /4\\d\\d/ integration response answers', async () => {
    // GIVEN
    const client = await connect();

    // WHEN
    client.socket.send(JSON.stringify({ action: 'mock', kind: 'teapot' }));

    // THEN
    expect(await client.nextJson()).toEqual({ error: 'I am a teapot' });
  });

  test('GIVEN PassthroughBehavior NEVER and no $default template WHEN no template matches THEN the client gets Unsupported Media Type and the connection stays open', async () => {
    // GIVEN
    const client = await connect();
    const connectionId = await connectionIdOf(client);

    // WHEN
    client.socket.send(JSON.stringify({ action: 'strict', kind: 'other' }));
    const frame = await client.nextJson();

    // THEN
    expect(frame).toEqual({ message: 'Unsupported Media Type', connectionId, requestId: expect.any(String) });
    expect(gatewayLog.some((l) => /route strict .*PassthroughBehavior is NEVER: 415/.test(l))).toBe(true);
    client.socket.send(JSON.stringify({ action: 'strict', kind: 'known' }));
    client.socket.send(JSON.stringify({ action: 'mock' }));
    expect((await client.nextJson()).route).toBe('mock');
  });
});

describe('HTTP_PROXY integrations', () => {
  test('GIVEN an HTTP_PROXY route with a route response WHEN a message arrives THEN it is POSTed unchanged to the URL and the reply body comes back', async () => {
    // GIVEN
    const client = await connect();
    const message = JSON.stringify({ action: 'http', text: 'über' });

    // WHEN
    client.socket.send(message);
    const reply = await client.nextJson();

    // THEN
    expect(reply).toEqual({ echoed: { action: 'http', text: 'über' } });
    expect(backendRequests).toContainEqual({ method: 'POST', url: '/echo', contentType: 'application/json', body: message });
  });
});

describe('AWS service integrations', () => {
  test('GIVEN a DynamoDB PutItem integration with a JSON template and a role allowed to write WHEN a message arrives THEN the item is in the table and the 2xx response template answers', async () => {
    // GIVEN
    const client = await connect();
    const connectionId = await connectionIdOf(client);

    // WHEN
    client.socket.send(JSON.stringify({ action: 'save', text: 'say "hi"' }));
    const reply = await client.nextJson();

    // THEN
    expect(reply).toEqual({ saved: true });
    const table = emulator.model.tables.find((t) => t.logicalId.startsWith('Messages'))!;
    const items = await scanTable(emulator, table.tableName);
    expect(items).toContainEqual({ pk: connectionId, text: 'say "hi"', stage: 'dev' });
  });

  test('GIVEN a PutItem integration whose role has no grant WHEN a message arrives THEN local IAM refuses it (AccessDeniedException) and nothing is written', async () => {
    // GIVEN
    const client = await connect();
    const connectionId = await connectionIdOf(client);

    // WHEN
    client.socket.send(JSON.stringify({ action: 'denied', text: 'nope' }));
    const reply = await client.next();

    // THEN: no integration response: the backend's error body passes through to the route response.
    expect(JSON.parse(reply).__type).toMatch(/AccessDeniedException$/);
    expect(reply).toMatch(/is not authorized to perform: dynamodb:PutItem/);
    const table = emulator.model.tables.find((t) => t.logicalId.startsWith('Messages'))!;
    expect((await scanTable(emulator, table.tableName)).filter((i) => i.pk === connectionId)).toEqual([]);
  });

  test('GIVEN the SQS SendMessage pattern (form-encoded template, Content-Type parameter) WHEN a message arrives THEN the message body lands in the queue and nothing is sent back', async () => {
    // GIVEN
    const client = await connect();
    const message = JSON.stringify({ action: 'enqueue', order: { id: 7, note: 'a&b=c' } });
    const sqs = new SQSClient({ endpoint: emulator.sqsEndpoint, region: emulator.model.apis[0].region, credentials: emulator.developerCredentials! });
    const queueUrl = emulator.model.queues!.find((q) => q.queueName.includes('Inbox'))!.queueUrl;

    // WHEN
    client.socket.send(message);

    // THEN
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 10, MaxNumberOfMessages: 1 }));
    expect(received.Messages?.map((m) => m.Body)).toEqual([message]);
    client.socket.send(JSON.stringify({ action: 'mock' }));
    expect((await client.nextJson()).route).toBe('mock');
    sqs.destroy();
  });
});

describe('request validation', () => {
  test('GIVEN a route with ModelSelectionExpression and a draft-4 model WHEN a valid body arrives THEN the integration runs', async () => {
    // GIVEN
    const client = await connect();

    // WHEN
    client.socket.send(JSON.stringify({ action: 'validated', text: 'short' }));

    // THEN
    expect(await client.nextJson()).toEqual({ accepted: true });
  });

  test('GIVEN the same route WHEN the body breaks the model THEN the client gets "Bad request body", the backend is not called and the connection stays open', async () => {
    // GIVEN
    const client = await connect();
    const connectionId = await connectionIdOf(client);

    // WHEN
    client.socket.send(JSON.stringify({ action: 'validated', text: 'far too long for ten' }));
    const frame = await client.next();

    // THEN
    expect(JSON.parse(frame)).toEqual({ message: 'Bad request body', connectionId, messageId: expect.any(String) });
    expect(frame.startsWith('{"message" : "Bad request body", "connectionId": ')).toBe(true);
    expect(gatewayLog.some((l) => /route validated .*request validation failed: model ChatMessage: \/text must NOT have more than 10 characters/.test(l))).toBe(true);
    client.socket.send(JSON.stringify({ action: 'validated', text: 'ok' }));
    expect(await client.nextJson()).toEqual({ accepted: true });
  });
});

describe('a broken Velocity template', () => {
  test('GIVEN a request template with a syntax error WHEN its route is used THEN the client gets Internal server error, the log names route, template and line, and the emulator keeps serving', async () => {
    // GIVEN
    const client = await connect();
    const connectionId = await connectionIdOf(client);

    // WHEN
    client.socket.send(JSON.stringify({ action: 'broken' }));
    const frame = await client.nextJson();

    // THEN
    expect(frame).toEqual({ message: 'Internal server error', connectionId, requestId: expect.any(String) });
    const line = await eventually(() => gatewayLog.find((l) => l.includes('template error')), 'the template error log line');
    expect(line).toMatch(/route broken .*request template "\$default" of integration Integrations\/brokenIntegration \(route broken\) \(line 2\): Parse error/);
    client.socket.send(JSON.stringify({ action: 'mock' }));
    expect((await client.nextJson()).route).toBe('mock');
  });
});
