/**
 * Local IAM end to end (local/iam/credentials.ts, services/dynamo-iam-proxy.ts, the @connections check in
 * gateway/management-api.ts): the example chat synthesized for real, with ONE grant removed from its template
 * (the disconnect handler's delete, dynamodb:BatchWriteItem), run by the real emulator with real `ws` clients and the real
 * AWS SDK. Exactly that call is refused, with DynamoDB's AccessDeniedException naming action and resource, and
 * the log names the missing statement; every other call of the chat passes. `@connections` refuses unsigned,
 * badly signed, unknown-key and clock-skewed requests (403 with API Gateway's error types) and accepts the
 * developer key. Error texts AWS does not document exactly are the choices listed in local/gateway/README.md.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiGatewayManagementApiClient, GetConnectionCommand, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { App } from 'aws-cdk-lib';
import { ChatStack } from '../../bin/chat-stack';
import { signDevToken } from '../../local/dev-token';
import { startEmulator, type RunningEmulator } from '../../local/emulator';
import { startGateway } from '../../local/gateway';
import { DEVELOPER_CREDENTIALS, IamAuthority } from '../../local/iam/credentials';
import type { FunctionModel, WebSocketApiModel } from '../../local/model';
import { roleOf } from '../../local/assembly/functions';
import { StackResolver } from '../../local/assembly/intrinsics';
import type { StackArtifact } from '../../local/assembly/template';
import { eventually, InTestInvoker, QueuedClient } from './gateway-test-kit';

let workDir: string;
let emulator: RunningEmulator;
let wsUrl: string;
const gatewayLog: string[] = [];
const functionOutput: string[] = [];

/** Removes `action` from every statement of the policy whose logical id starts with `policyPrefix`. */
function removeGrant(templateFile: string, policyPrefix: string, action: string): void {
  const template = JSON.parse(fs.readFileSync(templateFile, 'utf8'));
  const [logicalId] = Object.keys(template.Resources).filter((id) => id.startsWith(policyPrefix));
  expect(logicalId).toBeDefined();
  let removed = 0;
  for (const statement of template.Resources[logicalId].Properties.PolicyDocument.Statement) {
    if (Array.isArray(statement.Action) && statement.Action.includes(action)) {
      statement.Action = statement.Action.filter((a: string) => a !== action);
      removed++;
    }
  }
  expect(removed).toBe(1);
  fs.writeFileSync(templateFile, JSON.stringify(template));
}

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-iam-'));
  const assemblyDir = path.join(workDir, 'cdk.out');
  const app = new App({ outdir: assemblyDir });
  new ChatStack(app, 'WsgateChat');
  app.synth();
  removeGrant(path.join(assemblyDir, 'WsgateChat.template.json'), 'ChatDisconnectHandlerRoleDefaultPolicy', 'dynamodb:BatchWriteItem');
  emulator = await startEmulator({
    assemblyDir,
    port: 0,
    log: (line) => gatewayLog.push(line),
    functionLog: (id, stream, line) => functionOutput.push(`${id} ${stream} ${line}`),
  });
  wsUrl = emulator.endpoints[0].websocketUrl;
});

afterAll(async () => {
  await emulator?.close();
  fs.rmSync(workDir, { recursive: true, force: true });
});

async function connectAs(user: string): Promise<QueuedClient> {
  return QueuedClient.open(`${wsUrl}?token=${encodeURIComponent(await signDevToken({ user }))}`);
}

function tableScan(): Promise<Array<Record<string, any>>> {
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: emulator.dynamodbEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  );
  return client.send(new ScanCommand({ TableName: emulator.model.tables[0].tableName })).then((r) => (r.Items ?? []) as Array<Record<string, any>>);
}

const iamLines = (): string[] => gatewayLog.filter((l) => l.startsWith('IAM:'));

/** An `@connections` client signing with the session credentials local IAM gives a function's role, no retries. */
function roleManagementClient(iam: IamAuthority, functionId: string, callbackUrl: string): ApiGatewayManagementApiClient {
  const env = iam.credentialsFor(functionId)!;
  return new ApiGatewayManagementApiClient({
    endpoint: callbackUrl, region: 'us-east-1', maxAttempts: 1,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN },
  });
}

function sdk(credentials: { accessKeyId: string; secretAccessKey: string }, extra: Record<string, unknown> = {}): ApiGatewayManagementApiClient {
  return new ApiGatewayManagementApiClient({ endpoint: emulator.endpoints[0].callbackUrl, region: 'us-east-1', credentials, maxAttempts: 1, ...extra });
}

describe('function roles (the chat with the disconnect handler\'s BatchWriteItem grant removed)', () => {
  test('GIVEN the chat WHEN users connect, join, talk and one disconnects THEN only the disconnect handler\'s BatchWriteItem is refused, naming the missing statement', async () => {
    // GIVEN two users in one room (connect: PutItem; join: GetItem/PutItem; sendmessage: Query on the index + ManageConnections)
    const alice = await connectAs('alice');
    const bob = await connectAs('bob');
    alice.send({ action: 'join', data: { room: 'lobby' } });
    expect(await alice.nextJson()).toEqual({ type: 'joined', room: 'lobby' });
    bob.send({ action: 'join', data: { room: 'lobby' } });
    expect(await bob.nextJson()).toEqual({ type: 'joined', room: 'lobby' });
    alice.send({ action: 'sendmessage', data: { room: 'lobby', text: 'hi' } });
    for (const member of [alice, bob]) expect(await member.nextJson()).toMatchObject({ type: 'message', room: 'lobby', from: 'alice', text: 'hi' });
    expect(iamLines()).toEqual([]);
    const aliceId = (await tableScan()).find((i) => i.sk === 'meta' && i.userId === 'alice')!.connectionId as string;

    // WHEN alice disconnects
    alice.socket.close();
    await alice.closed;

    // THEN exactly one kind of call was refused: the disconnect role's dynamodb:BatchWriteItem (its delete) on the table ARN
    const table = emulator.model.tables[0].tableName;
    const refusal = await eventually(() => iamLines()[0], 'an IAM refusal in the log');
    expect(refusal).toMatch(new RegExp(
      `^IAM: function WsgateChat/ChatDisconnectHandler\\w+ \\(role \\S+\\) refused dynamodb:BatchWriteItem on arn:aws:dynamodb:us-east-1:123456789012:table/${table}: ` +
        `missing statement: Allow dynamodb:BatchWriteItem on arn:aws:dynamodb:us-east-1:123456789012:table/${table} .*` +
        'statement WsgateChat/ChatDisconnectHandlerRoleDefaultPolicy\\w+#2 allows dynamodb:Query on that resource, but not dynamodb:BatchWriteItem',
    ));
    expect(new Set(iamLines().map((l) => l.replace(/ on arn:\S+:.*$/, '')))).toEqual(new Set([expect.stringMatching(/refused dynamodb:BatchWriteItem$/)]));
    // and the function saw DynamoDB's AccessDeniedException text naming its assumed role, action and resource
    const denied = await eventually(() => functionOutput.find((l) => l.includes('is not authorized to perform')), 'the SDK error in the function log');
    expect(denied).toMatch(new RegExp(
      `User: arn:aws:sts::123456789012:assumed-role/[^/]+/[^ ]+ is not authorized to perform: dynamodb:BatchWriteItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/${table} because no identity-based policy allows the dynamodb:BatchWriteItem action`,
    ));
    // and so alice's connection item stays in the table (the delete never happened)
    expect((await tableScan()).some((i) => i.connectionId === aliceId && i.sk === 'meta')).toBe(true);

    // and bob, whose functions hold their grants, still talks
    bob.send({ action: 'sendmessage', data: { room: 'lobby', text: 'still here' } });
    expect(await bob.nextJson()).toMatchObject({ type: 'message', from: 'bob', text: 'still here' });
    bob.socket.close();
    await bob.closed;
  });

  test('GIVEN the chat WHEN the emulator starts THEN it reports the developer key, and every role of the chat is evaluated without a warning (no unknown managed policy, condition or unresolved statement)', () => {
    expect(emulator.developerCredentials).toEqual(DEVELOPER_CREDENTIALS);
    expect(DEVELOPER_CREDENTIALS.accessKeyId).toMatch(/^AKIA[A-Z0-9]{16}$/);
    expect(emulator.warnings.filter((w) => /IAM|role|policy|condition/i.test(w))).toEqual([]);
  });
});

describe('dynamoChecks: \'proxy\' (the emulator\'s DynamoDB proxy checks every call, as for Python functions)', () => {
  test('GIVEN the same chat in proxy mode WHEN a user disconnects THEN the same BatchWriteItem refusal, while connect and join pass', async () => {
    // GIVEN a second emulator on the same assembly, its functions' DynamoDB calls checked in the emulator's process
    const proxyLog: string[] = [];
    const proxied = await startEmulator({ assemblyDir: path.join(workDir, 'cdk.out'), port: 0, dynamoChecks: 'proxy', log: (line) => proxyLog.push(line), functionLog: () => undefined });
    try {
      const url = `${proxied.endpoints[0].websocketUrl}?token=${encodeURIComponent(await signDevToken({ user: 'carol' }))}`;
      const carol = await QueuedClient.open(url);
      carol.send({ action: 'join', data: { room: 'lobby' } });
      expect(await carol.nextJson()).toEqual({ type: 'joined', room: 'lobby' });
      expect(proxyLog.filter((l) => l.startsWith('IAM:'))).toEqual([]);
      // WHEN
      carol.socket.close();
      await carol.closed;
      // THEN
      const refusal = await eventually(() => proxyLog.find((l) => l.startsWith('IAM:')), 'an IAM refusal in the proxy-mode log');
      expect(refusal).toMatch(/^IAM: function WsgateChat\/ChatDisconnectHandler\w+ \(role \S+\) refused dynamodb:BatchWriteItem on arn:aws:dynamodb:us-east-1:123456789012:table\//);
    } finally {
      await proxied.close();
    }
  });
});

describe('@connections SigV4 (API Gateway answers 403)', () => {
  let connectionId: string;
  let carol: QueuedClient;
  beforeAll(async () => {
    carol = await connectAs('carol');
    let items: Array<Record<string, any>> = [];
    for (let i = 0; i < 200 && !items.some((x) => x.userId === 'carol'); i++) {
      items = await tableScan();
      await new Promise((r) => setTimeout(r, 25));
    }
    connectionId = items.find((i) => i.sk === 'meta' && i.userId === 'carol')!.connectionId;
  });
  afterAll(() => carol.socket.close());

  test('GIVEN an unsigned POST (curl) WHEN sent THEN 403 MissingAuthenticationTokenException and nothing is delivered', async () => {
    const response = await fetch(`${emulator.endpoints[0].callbackUrl}/@connections/${encodeURIComponent(connectionId)}`, { method: 'POST', body: 'unsigned' });
    expect(response.status).toBe(403);
    expect(response.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(await response.json()).toEqual({ message: 'Missing Authentication Token' });
    await sdk(DEVELOPER_CREDENTIALS).send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'sentinel' }));
    expect(await carol.next()).toBe('sentinel');
  });

  test('GIVEN a wrong secret, an unknown key, a clock 10 minutes off or a malformed header WHEN calling THEN the SDK throws AWS\'s typed 403 errors', async () => {
    const call = (client: ApiGatewayManagementApiClient) => client.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    await expect(call(sdk({ accessKeyId: DEVELOPER_CREDENTIALS.accessKeyId, secretAccessKey: 'wrong' }))).rejects.toMatchObject({
      name: 'InvalidSignatureException', $metadata: { httpStatusCode: 403 },
      message: expect.stringMatching(/^The request signature we calculated does not match the signature you provided\..*The Canonical String for this request should have been\n'GET\n\/prod\/%40connections\//s),
    });
    await expect(call(sdk({ accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x' }))).rejects.toMatchObject({
      name: 'UnrecognizedClientException', $metadata: { httpStatusCode: 403 }, message: 'The security token included in the request is invalid.',
    });
    await expect(call(sdk(DEVELOPER_CREDENTIALS, { systemClockOffset: -10 * 60 * 1000 }))).rejects.toMatchObject({
      name: 'InvalidSignatureException', message: expect.stringMatching(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/),
    });
    const malformed = await fetch(`${emulator.endpoints[0].callbackUrl}/@connections/${encodeURIComponent(connectionId)}`, { headers: { Authorization: 'AWS4-HMAC-SHA256 Credential=garbage' } });
    expect(malformed.status).toBe(403);
    expect(malformed.headers.get('x-amzn-errortype')).toBe('IncompleteSignatureException');
    // and the emulator still serves the connection
    expect((await call(sdk(DEVELOPER_CREDENTIALS))).Identity?.SourceIp).toBe('127.0.0.1');
  });
});

describe('@connections with a function role\'s credentials', () => {
  test('GIVEN a role allowed ManageConnections on POST of stage prod only WHEN it posts and gets through the SDK THEN the post is delivered and the get is refused 403 AccessDeniedException naming action and resource', async () => {
    const api: WebSocketApiModel = {
      stackName: 'S', logicalId: 'Api', apiId: 'rrrrrrrrrr', name: 'r', routeSelectionExpression: '$request.body.action', region: 'us-east-1', accountId: '123456789012',
      stages: [{ stageName: 'prod', stageVariables: {} }],
      routes: [{ routeId: 'c', routeKey: '$connect', functionId: 'connect', authorizationType: 'NONE', apiKeyRequired: false, hasRouteResponse: false }],
    };
    const fn = {
      id: 'S/Pusher', stackName: 'S', logicalId: 'Pusher', functionName: 'S-Pusher-1', handler: 'index.handler', runtime: 'nodejs22.x',
      codeDir: '/nonexistent', environment: {}, timeoutSeconds: 3, memorySize: 128, accountId: '123456789012',
      role: {
        id: 'S/PusherRole', roleName: 'S-PusherRole-1', arn: 'arn:aws:iam::123456789012:role/S-PusherRole-1', managedPolicyArns: [], warnings: [],
        policies: [{ name: 'S/PusherPolicy', document: { Statement: [{ Effect: 'Allow', Action: 'execute-api:ManageConnections', Resource: 'arn:aws:execute-api:us-east-1:123456789012:rrrrrrrrrr/prod/POST/@connections/*' }] } }],
      },
    } as FunctionModel;
    const log: string[] = [];
    const iam = new IamAuthority({ functions: { [fn.id]: fn }, accountId: '123456789012', log: (l) => log.push(l) });
    const invoker = new InTestInvoker({ connect: () => ({ statusCode: 200 }) });
    const gateway = await startGateway({ apis: [api], invoker, port: 0, iam });
    try {
      const client = await QueuedClient.open(gateway.endpoints[0].websocketUrl);
      const connectionId: string = invoker.eventsOf('connect')[0].requestContext.connectionId;
      const management = roleManagementClient(iam, fn.id, gateway.endpoints[0].callbackUrl);
      await management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'from the role' }));
      expect(await client.next()).toBe('from the role');
      await expect(management.send(new GetConnectionCommand({ ConnectionId: connectionId }))).rejects.toMatchObject({
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 403 },
        message: `User: arn:aws:sts::123456789012:assumed-role/S-PusherRole-1/S-Pusher-1 is not authorized to perform: execute-api:ManageConnections on resource: arn:aws:execute-api:us-east-1:123456789012:rrrrrrrrrr/prod/GET/@connections/${connectionId} because no identity-based policy allows the execute-api:ManageConnections action`,
      });
      expect(log).toEqual([expect.stringMatching(/^IAM: function S\/Pusher \(role S-PusherRole-1\) refused execute-api:ManageConnections on .*\/prod\/GET\/@connections\/.*statement S\/PusherPolicy#0 allows execute-api:ManageConnections only on .*\/prod\/POST\/@connections\/\*\)$/)]);
      management.destroy();
      client.socket.close();
    } finally {
      await gateway.close();
    }
  });
});

describe('permissions boundaries', () => {
  // A role whose policy allows every @connections method, capped by a boundary (a managed policy of the template)
  // that allows POST only; and a role whose boundary is an AWS managed policy ARN.
  const template = {
    Resources: {
      Role: { Type: 'AWS::IAM::Role', Properties: { PermissionsBoundary: { Ref: 'Boundary' } } },
      Boundary: {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: { PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'execute-api:ManageConnections', Resource: { 'Fn::Sub': 'arn:aws:execute-api:us-east-1:${AWS::AccountId}:bbbbbbbbbb/prod/POST/@connections/*' } }] } },
      },
      RolePolicy: {
        Type: 'AWS::IAM::Policy',
        Properties: { Roles: [{ Ref: 'Role' }], PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'execute-api:ManageConnections', Resource: '*' }] } },
      },
      ArnBounded: { Type: 'AWS::IAM::Role', Properties: { PermissionsBoundary: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AdministratorAccess']] } } },
    },
  };
  const stack = { stackName: 'B', assemblyDir: '/nonexistent', template } as unknown as StackArtifact;
  const resolver = new StackResolver(stack, { region: 'us-east-1', accountId: '123456789012' });

  test('GIVEN roles with a PermissionsBoundary WHEN read from the template THEN the boundary is the managed policy\'s resolved document, or the ARN', () => {
    const { role } = roleOf(stack, resolver, { 'Fn::GetAtt': ['Role', 'Arn'] });
    expect(role?.permissionsBoundary).toEqual({
      name: 'B/Boundary',
      document: { Statement: [{ Effect: 'Allow', Action: 'execute-api:ManageConnections', Resource: 'arn:aws:execute-api:us-east-1:123456789012:bbbbbbbbbb/prod/POST/@connections/*' }] },
    });
    expect(role?.policies.map((p) => p.name)).toEqual(['B/RolePolicy']);
    expect(roleOf(stack, resolver, { 'Fn::GetAtt': ['ArnBounded', 'Arn'] }).role?.permissionsBoundary).toEqual({
      name: 'arn:aws:iam::aws:policy/AdministratorAccess',
      arn: 'arn:aws:iam::aws:policy/AdministratorAccess',
    });
  });

  test('GIVEN a role allowed every @connections method but bounded to POST WHEN it posts and gets through the SDK THEN the post is delivered and the get is refused 403 naming the permissions boundary', async () => {
    // GIVEN
    const { role } = roleOf(stack, resolver, { 'Fn::GetAtt': ['Role', 'Arn'] });
    const fn = {
      id: 'B/Pusher', stackName: 'B', logicalId: 'Pusher', functionName: 'B-Pusher-1', handler: 'index.handler', runtime: 'nodejs22.x',
      codeDir: '/nonexistent', environment: {}, timeoutSeconds: 3, memorySize: 128, accountId: '123456789012', role,
    } as FunctionModel;
    const api: WebSocketApiModel = {
      stackName: 'B', logicalId: 'Api', apiId: 'bbbbbbbbbb', name: 'b', routeSelectionExpression: '$request.body.action', region: 'us-east-1', accountId: '123456789012',
      stages: [{ stageName: 'prod', stageVariables: {} }],
      routes: [{ routeId: 'c', routeKey: '$connect', functionId: 'connect', authorizationType: 'NONE', apiKeyRequired: false, hasRouteResponse: false }],
    };
    const log: string[] = [];
    const iam = new IamAuthority({ functions: { [fn.id]: fn }, accountId: '123456789012', log: (l) => log.push(l) });
    expect(iam.warnings).toEqual([]);
    const invoker = new InTestInvoker({ connect: () => ({ statusCode: 200 }) });
    const gateway = await startGateway({ apis: [api], invoker, port: 0, iam });
    try {
      const client = await QueuedClient.open(gateway.endpoints[0].websocketUrl);
      const connectionId: string = invoker.eventsOf('connect')[0].requestContext.connectionId;
      const management = roleManagementClient(iam, fn.id, gateway.endpoints[0].callbackUrl);
      // WHEN / THEN
      await management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'within the boundary' }));
      expect(await client.next()).toBe('within the boundary');
      await expect(management.send(new GetConnectionCommand({ ConnectionId: connectionId }))).rejects.toMatchObject({
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 403 },
        message: `User: arn:aws:sts::123456789012:assumed-role/${role!.roleName}/B-Pusher-1 is not authorized to perform: execute-api:ManageConnections on resource: arn:aws:execute-api:us-east-1:123456789012:bbbbbbbbbb/prod/GET/@connections/${connectionId} because no permissions boundary allows the execute-api:ManageConnections action`,
      });
      expect(log).toEqual([expect.stringMatching(/^IAM: function B\/Pusher \(role .*\) refused execute-api:ManageConnections on .*\/prod\/GET\/@connections\/.* by its permissions boundary: missing statement/)]);
      management.destroy();
      client.socket.close();
    } finally {
      await gateway.close();
    }
  });
});
