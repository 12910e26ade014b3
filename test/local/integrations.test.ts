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
import { parseAwsUri, sqsQueryToJson } from '../../local/gateway/integrations/aws-service';
import { mapRequest, mapResponse, selectIntegrationResponse } from '../../local/gateway/integrations/mapping';
import type { IntegrationModel } from '../../local/model';
import type { TemplateVariables } from '../../local/vtl';
import { synthIntegrationsApp } from './fixtures/integrations/integrations-app';
import { eventually, QueuedClient } from './gateway-test-kit';
import { scanTable } from './support/emulator-kit';

let workDir: string;
let emulator: RunningEmulator;
let backend: http.Server;
let deadPort: number;
const backendRequests: Array<{ method: string; url: string; contentType?: string; headers: http.IncomingHttpHeaders; body: string }> = [];
const gatewayLog: string[] = [];
const clients: QueuedClient[] = [];

beforeAll(async () => {
  backend = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      backendRequests.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], headers: req.headers, body });
      if (req.url === '/hang') return; // never answers: the integration timeout ends it
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ echoed: JSON.parse(body) }));
    });
  });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', () => resolve()));
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-integrations-'));
  // A port that was free a moment ago and that nothing listens on now.
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  deadPort = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  synthIntegrationsApp(path.join(workDir, 'cdk.out'), `http://127.0.0.1:${(backend.address() as AddressInfo).port}`, deadPort);
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
  backend?.closeAllConnections();
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
    expect(emulator.warnings.filter((w) => /Integration|not run locally|not IAM-checked/.test(w))).toEqual([]);
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
    expect(backendRequests).toContainEqual(expect.objectContaining({ method: 'POST', url: '/echo', contentType: 'application/json', body: message }));
  });

  test('GIVEN an HTTP_PROXY route with TimeoutInMillis 50 WHEN the backend never answers THEN the client gets Endpoint request timed out and the connection stays open', async () => {
    // GIVEN
    const client = await connect();
    const connectionId = await connectionIdOf(client);

    // WHEN
    client.socket.send(JSON.stringify({ action: 'slow' }));

    // THEN
    expect(await client.nextJson()).toEqual({ message: 'Endpoint request timed out', connectionId, requestId: expect.any(String) });
    expect(backendRequests.some((r) => r.url === '/hang')).toBe(true);
    client.socket.send(JSON.stringify({ action: 'mock' }));
    expect((await client.nextJson()).route).toBe('mock');
  });
  test('GIVEN an HTTP_PROXY URI with ${stageVariables.deadPort} WHEN nothing listens there THEN the client gets Internal server error and the log names the integration and the failure', async () => {
    // GIVEN
    const client = await connect();
    const connectionId = await connectionIdOf(client);

    // WHEN
    client.socket.send(JSON.stringify({ action: 'offline' }));

    // THEN
    expect(await client.nextJson()).toEqual({ message: 'Internal server error', connectionId, requestId: expect.any(String) });
    const line = await eventually(() => gatewayLog.find((l) => l.includes('route offline')), 'the offline log line');
    expect(line).toMatch(/integration Integrations\/offlineIntegration \(HTTP_PROXY http:\/\/127\.0\.0\.1:\$\{stageVariables\.deadPort\}\/\) failed: fetch failed \(.*ECONNREFUSED 127\.0\.0\.1:\d+\)/);
    expect(line).toContain(`ECONNREFUSED 127.0.0.1:${deadPort}`);
  });
});

describe('HTTP integrations (non-proxy)', () => {
  test('GIVEN an HTTP route with a request template, header parameters and a 201 integration response WHEN a message arrives THEN the backend gets the mapped body and headers and the client the mapped reply', async () => {
    // GIVEN
    const client = await connect();
    const connectionId = await connectionIdOf(client);

    // WHEN
    client.socket.send(JSON.stringify({ action: 'transform', text: 'ping' }));
    const reply = await client.nextJson();

    // THEN
    expect(reply).toEqual({ reply: 'ping' });
    const request = backendRequests.find((r) => r.method === 'PUT' && r.headers['x-connection'] === connectionId)!;
    expect(JSON.parse(request.body)).toEqual({ who: connectionId, said: 'ping' });
    expect(request.headers['x-colour']).toBe('green');
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

describe('request and response mapping (pure)', () => {
  const vars: TemplateVariables = {
    body: '',
    stageVariables: {},
    context: {
      connectionId: 'C1', routeKey: 'r', requestId: 'q', messageId: 'm', eventType: 'MESSAGE', stage: 'dev', apiId: 'a',
      domainName: 'd', requestTimeEpoch: 0, requestTime: '', connectedAt: 0, identity: { sourceIp: '127.0.0.1' },
    },
  };
  const integration = (over: Partial<IntegrationModel>): IntegrationModel => ({
    id: 'S/I', type: 'MOCK', requestTemplates: {}, passthroughBehavior: 'WHEN_NO_MATCH', requestParameters: {}, responses: [], ...over,
  });

  test('GIVEN each PassthroughBehavior WHEN no template matches THEN WHEN_NO_MATCH passes, WHEN_NO_TEMPLATES passes only without templates, NEVER refuses', () => {
    // GIVEN
    const body = JSON.stringify({ type: 'other' });
    const withTemplates = { requestTemplates: { join: 'J' }, templateSelectionExpression: '${request.body.type}' };

    // WHEN / THEN
    expect(mapRequest(integration({ ...withTemplates, passthroughBehavior: 'WHEN_NO_MATCH' }), body, vars, 'r')).toEqual({ kind: 'mapped', body });
    expect(mapRequest(integration({ ...withTemplates, passthroughBehavior: 'WHEN_NO_TEMPLATES' }), body, vars, 'r')).toEqual({ kind: 'refused', reason: expect.stringMatching(/key "other" .*WHEN_NO_TEMPLATES: 415/) });
    expect(mapRequest(integration({ passthroughBehavior: 'WHEN_NO_TEMPLATES' }), body, vars, 'r')).toEqual({ kind: 'mapped', body });
    expect(mapRequest(integration({ passthroughBehavior: 'NEVER' }), body, vars, 'r')).toEqual({ kind: 'refused', reason: expect.stringMatching(/NEVER: 415/) });
  });

  test('GIVEN a selection expression WHEN the key matches, misses with a $default template, or the body is not JSON THEN the matching, then the $default template renders', () => {
    // GIVEN
    const i = integration({ templateSelectionExpression: '${request.body.type}', requestTemplates: { join: 'J:$input.path(\'$.room\')', $default: 'D' } });

    // WHEN / THEN
    expect(mapRequest(i, JSON.stringify({ type: 'join', room: 'r1' }), vars, 'r')).toEqual({ kind: 'mapped', body: 'J:r1', templateKey: 'join' });
    expect(mapRequest(i, JSON.stringify({ type: 'leave' }), vars, 'r')).toEqual({ kind: 'mapped', body: 'D', templateKey: '$default' });
    expect(mapRequest(i, 'not json', vars, 'r')).toEqual({ kind: 'mapped', body: 'D', templateKey: '$default' });
  });

  test('GIVEN integration response keys WHEN a status code is selected THEN a /regex/ must match the whole code, a plain key equals it, $default catches the rest', () => {
    // GIVEN
    const responses = [{ key: '$default', templates: {} }, { key: '/2\\d\\d/', templates: {} }, { key: '404', templates: {} }, { key: '/5/', templates: {} }];

    // WHEN / THEN
    expect(selectIntegrationResponse(responses, 201)?.key).toBe('/2\\d\\d/');
    expect(selectIntegrationResponse(responses, 404)?.key).toBe('404');
    expect(selectIntegrationResponse(responses, 500)?.key).toBe('$default');
    expect(selectIntegrationResponse(responses.slice(1), 500)).toBeUndefined();
  });

  test('GIVEN integration responses WHEN none matches, none exist, or the template is chosen by ${integration.response.statuscode} THEN the message fails, the body passes, or that template renders', () => {
    // GIVEN
    const backend = { statusCode: 409, body: '{"why":"taken"}' };

    // WHEN / THEN
    expect(mapResponse(integration({ responses: [{ key: '/2\\d\\d/', templates: { $default: 'ok' } }] }), backend, vars, 'r'))
      .toEqual({ kind: 'failed', reason: expect.stringMatching(/no integration response of S\/I matches status 409 .*No match for output mapping/) });
    expect(mapResponse(integration({}), backend, vars, 'r')).toEqual({ kind: 'reply', body: backend.body });
    const byStatus = integration({ responses: [{ key: '$default', templateSelectionExpression: '${integration.response.statuscode}', templates: { 409: 'conflict: $input.path(\'$.why\')', $default: 'other' } }] });
    expect(mapResponse(byStatus, backend, vars, 'r')).toEqual({ kind: 'reply', body: 'conflict: taken' });
    expect(mapResponse(byStatus, { statusCode: 500, body: '{}' }, vars, 'r')).toEqual({ kind: 'reply', body: 'other' });
  });

  test('GIVEN AWS integration URIs and an SQS query-protocol body WHEN parsed THEN service, kind and the JSON-protocol input come out', () => {
    expect(parseAwsUri('arn:aws:apigateway:eu-west-1:sqs:path/123456789012/inbox', 'us-east-1')).toEqual({ region: 'eu-west-1', service: 'sqs', kind: 'path', value: '123456789012/inbox' });
    expect(parseAwsUri('arn:aws:apigateway::dynamodb:action/PutItem', 'us-east-1')).toEqual({ region: 'us-east-1', service: 'dynamodb', kind: 'action', value: 'PutItem' });
    expect(parseAwsUri('arn:aws:lambda:us-east-1:1:function:f', 'us-east-1')).toBeUndefined();
    expect(sqsQueryToJson('Action=SendMessage&MessageBody=a+b%26c&DelaySeconds=5&MessageAttribute.1.Name=kind&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=chat', 'https://sqs.us-east-1.amazonaws.com/1/q'))
      .toEqual({ action: 'SendMessage', input: { QueueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q', MessageBody: 'a b&c', DelaySeconds: 5, MessageAttributes: { kind: { DataType: 'String', StringValue: 'chat' } } } });
    expect(sqsQueryToJson('Action=DeleteQueue', 'u')).toEqual({ error: expect.stringMatching(/translates Action=SendMessage, not Action=DeleteQueue/) });
  });
});
