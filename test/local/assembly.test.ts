/**
 * The emulator's assembly reader (local/assembly): real CDK apps synthesized into a temp cloud assembly, read back
 * into the AssemblyModel, then run end to end through the invoker and a local dynalite.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnOutput, Duration, Fn, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AssemblyError, loadAssembly } from '../../local/assembly/load';
import { AssemblyModel } from '../../local/model';
import { createInvoker } from '../../local/runtime/invoker';
import { createTables, startLocalDynamo } from '../../local/services/local-dynamo';

const HANDLERS = path.join(__dirname, 'fixtures', 'handlers');
const API_ID = /^[a-z0-9]{10}$/;

function synthChatLikeApp(outdir: string): void {
  const app = new App({ outdir, context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
  const stack = new Stack(app, 'ChatStack');
  const code = lambda.Code.fromAsset(HANDLERS);
  const table = new dynamodb.Table(stack, 'Connections', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: 'expiresAt',
  });
  table.addGlobalSecondaryIndex({
    indexName: 'byRoom',
    partitionKey: { name: 'room', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'connectionId', type: dynamodb.AttributeType.STRING },
    projectionType: dynamodb.ProjectionType.INCLUDE,
    nonKeyAttributes: ['userId'],
  });
  new dynamodb.TableV2(stack, 'Audit', {
    partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
    localSecondaryIndexes: [{ indexName: 'byTime', sortKey: { name: 'at', type: dynamodb.AttributeType.NUMBER } }],
    sortKey: { name: 'seq', type: dynamodb.AttributeType.NUMBER },
    timeToLiveAttribute: 'ttl',
  });
  const secret = new secretsmanager.Secret(stack, 'JwtSecret');
  const node = (id: string, handler: string, extra: Partial<lambda.FunctionProps> = {}) =>
    new lambda.Function(stack, id, { runtime: lambda.Runtime.NODEJS_22_X, handler, code, ...extra });
  const authorizerFn = node('AuthorizerFn', 'cjs.handler', { environment: { JWT_SECRET_ARN: secret.secretArn } });
  const connectFn = node('ConnectFn', 'aws-services.putAndGet', { environment: { TABLE_NAME: table.tableName }, timeout: Duration.seconds(7), memorySize: 512, reservedConcurrentExecutions: 5 });
  const messageFn = node('MessageFn', 'cjs.handler');
  const python = new lambda.Function(stack, 'PythonFn', { runtime: lambda.Runtime.PYTHON_3_12, handler: 'app.handler', code });
  const api = new apigwv2.WebSocketApi(stack, 'ChatApi', {
    connectRouteOptions: {
      integration: new WebSocketLambdaIntegration('Connect', connectFn),
      authorizer: new WebSocketLambdaAuthorizer('Auth', authorizerFn, { identitySource: ['route.request.querystring.token'] }),
    },
    defaultRouteOptions: { integration: new WebSocketLambdaIntegration('DefaultInteg', messageFn) },
  });
  api.addRoute('sendmessage', { integration: new WebSocketLambdaIntegration('Send', messageFn), returnResponse: true });
  api.addRoute('python', { integration: new WebSocketLambdaIntegration('Py', python) });
  api.addRoute('aliased', { integration: new WebSocketLambdaIntegration('Live', messageFn.addAlias('live')) });
  const stage = new apigwv2.WebSocketStage(stack, 'Prod', { webSocketApi: api, stageName: 'prod', autoDeploy: true, stageVariables: { colour: 'blue' } });
  messageFn.addEnvironment('CALLBACK_URL', stage.callbackUrl);
  messageFn.addEnvironment('SUB_FORM', Fn.sub('${Api}|${AWS::AccountId}|${!Literal}|${Who}', { Api: api.apiId, Who: Fn.select(1, Fn.split(',', 'a,b,c')) }));
  messageFn.addEnvironment('TABLE_ARN', table.tableArn);
  // An HTTP integration the emulator cannot run (an L1 route beside the L2 ones).
  const http = new apigwv2.CfnIntegration(stack, 'HttpInteg', { apiId: api.apiId, integrationType: 'HTTP_PROXY', integrationUri: 'https://example.com', integrationMethod: 'POST', connectionType: 'VPC_LINK', connectionId: 'vpclink1' });
  new apigwv2.CfnRoute(stack, 'HttpRoute', { apiId: api.apiId, routeKey: 'forward', target: `integrations/${http.ref}` });
  new CfnOutput(stack, 'SharedApiId', { value: api.apiId, exportName: 'chat-api-id' });
  // A function on no route, triggered by a schedule the emulator does not run.
  const tick = node('TickFn', 'cjs.handler');
  new events.Rule(stack, 'EveryMinute', { schedule: events.Schedule.rate(Duration.minutes(1)), targets: [new targets.LambdaFunction(tick)] });

  const consumer = new Stack(app, 'ConsumerStack');
  new lambda.Function(consumer, 'UsesImport', {
    runtime: lambda.Runtime.NODEJS_22_X, handler: 'cjs.handler', code: lambda.Code.fromAsset(HANDLERS),
    environment: { IMPORTED_API: Fn.importValue('chat-api-id') },
  });
  app.synth();
}

let outdir: string;
let model: AssemblyModel;
/** `Stack/LogicalId` of the function whose logical id starts with `prefix` (CDK appends a hash). */
const fnId = (prefix: string) => Object.values(model.functions).find((f) => f.stackName === 'ChatStack' && f.logicalId.startsWith(prefix))!.id;

beforeAll(() => {
  outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-assembly-'));
  synthChatLikeApp(outdir);
  model = loadAssembly(outdir, { stack: 'ChatStack' });
});

afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

describe('loadAssembly: WebSocket API, routes, integrations, authorizer, stage', () => {
  test('GIVEN a synthesized WebSocket API WHEN loaded THEN its id looks like API Gateway\'s and is stable across loads', () => {
    expect(model.apis).toHaveLength(1);
    const [api] = model.apis;
    expect(api.apiId).toMatch(API_ID);
    expect(loadAssembly(outdir).apis[0].apiId).toBe(api.apiId);
    expect(api).toEqual(expect.objectContaining({ stackName: 'ChatStack', name: 'ChatApi', routeSelectionExpression: '$request.body.action', region: 'us-east-1', accountId: '123456789012' }));
    expect(api.stages).toEqual([{ stageName: 'prod', stageVariables: { colour: 'blue' } }]);
  });

  test('GIVEN AWS_PROXY Lambda integrations WHEN loaded THEN each route points back at its function (integration URI resolved)', () => {
    const byKey = Object.fromEntries(model.apis[0].routes.map((r) => [r.routeKey, r]));
    expect(Object.keys(byKey).sort()).toEqual(['$connect', '$default', 'aliased', 'forward', 'python', 'sendmessage']);
    expect(byKey.$connect.functionId).toBe(fnId('ConnectFn'));
    expect(byKey.sendmessage.functionId).toBe(byKey.$default.functionId);
    expect(byKey.aliased.functionId).toBe(byKey.$default.functionId); // integration URI of an alias ARN
    expect(model.functions[byKey.sendmessage.functionId!].logicalId).toMatch(/^MessageFn/);
    expect(byKey.sendmessage.hasRouteResponse).toBe(true); // returnResponse: true → RouteResponse $default (spec §3.1)
    expect(byKey.$default.hasRouteResponse).toBe(false);
    for (const route of Object.values(byKey)) expect(route.routeId).toMatch(/^[a-z0-9]{7}$/);
  });

  test('GIVEN a REQUEST authorizer on $connect (spec §2.2) WHEN loaded THEN the route carries it with its identity sources', () => {
    const connect = model.apis[0].routes.find((r) => r.routeKey === '$connect')!;
    expect(connect.authorizationType).toBe('CUSTOM');
    expect(connect.authorizer).toEqual({ authorizerId: expect.stringMatching(/^[a-z0-9]{7}$/), name: 'Auth', functionId: fnId('AuthorizerFn'), identitySource: ['route.request.querystring.token'] });
  });

  test('GIVEN a private (VPC_LINK) HTTP_PROXY integration WHEN loaded THEN the route is marked unsupported and a warning names stack, resource and what to do', () => {
    const forward = model.apis[0].routes.find((r) => r.routeKey === 'forward')!;
    expect(forward.functionId).toBeUndefined();
    expect(forward.unsupported).toMatch(/ChatStack\/HttpInteg: ConnectionType VPC_LINK is not supported .*point the integration at a public URL/);
    expect(forward.integration).toBeUndefined();
    expect(model.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/ChatStack\/HttpInteg: ConnectionType VPC_LINK/)]));
  });
});

describe('loadAssembly: functions and intrinsics', () => {
  test('GIVEN CALLBACK_URL built from the API and stage WHEN loaded THEN it is https://<apiId>.execute-api.us-east-1.amazonaws.com/prod', () => {
    const messageFn = Object.values(model.functions).find((f) => f.logicalId.startsWith('MessageFn'))!;
    const { apiId } = model.apis[0];
    expect(messageFn.environment.CALLBACK_URL).toBe(`https://${apiId}.execute-api.us-east-1.amazonaws.com/prod`);
    expect(messageFn.environment.SUB_FORM).toBe(`${apiId}|123456789012|\${Literal}|b`);
    expect(messageFn.environment.TABLE_ARN).toBe(`arn:aws:dynamodb:us-east-1:123456789012:table/${model.tables.find((t) => t.logicalId.startsWith('Connections'))!.tableName}`);
  });

  test('GIVEN an EventBridge schedule targeting a function on no route WHEN loaded THEN the function is loaded and a warning says how to invoke it', () => {
    // A schedule is not run: the warning says how to invoke its target by hand.
    expect(model.warnings).toEqual(expect.arrayContaining([
      expect.stringMatching(/^ChatStack\/EveryMinute[A-Z0-9]*: the EventBridge rule \(schedule rate\(1 minute\)\) is not run by the emulator; invoke ChatStack\/TickFn[A-Z0-9]+ yourself: `wsgate invoke ChatStack\/TickFn`/),
    ]));
    // ...and the function on no route is loaded with the others.
    expect(Object.values(model.functions).find((f) => f.constructPath === 'ChatStack/TickFn')).toEqual(expect.objectContaining({ handler: 'cjs.handler' }));
  });

  test('GIVEN a function WHEN loaded THEN name, handler, runtime, asset folder, timeout, memory and reserved concurrency are read', () => {
    const fn = model.functions[fnId('ConnectFn')];
    expect(fn.functionName).toMatch(/^ChatStack-ConnectFn[A-Z0-9]{8}-[A-Za-z0-9]{12}$/);
    expect(fn).toEqual(expect.objectContaining({ handler: 'aws-services.putAndGet', runtime: 'nodejs22.x', timeoutSeconds: 7, memorySize: 512 }));
    // The construct path comes from the assembly's aws:cdk:logicalId metadata, without the trailing /Resource.
    expect(fn.constructPath).toBe('ChatStack/ConnectFn');
    expect(fs.readFileSync(path.join(fn.codeDir, 'aws-services.js'), 'utf8')).toBe(fs.readFileSync(path.join(HANDLERS, 'aws-services.js'), 'utf8'));
    expect(model.functions[fnId('AuthorizerFn')]).toEqual(expect.objectContaining({ timeoutSeconds: 3, memorySize: 128 }));
    // ReservedConcurrentExecutions bounds the local instances (and throttles past it); absent: not reserved.
    expect(fn.reservedConcurrency).toBe(5);
    expect(model.functions[fnId('AuthorizerFn')].reservedConcurrency).toBeUndefined();
  });

  test('GIVEN a secret WHEN loaded THEN its ARN is listed and a function referencing it gets the same ARN', () => {
    const arns = Object.values(model.secrets);
    expect(arns).toHaveLength(1);
    expect(arns[0]).toMatch(/^arn:aws:secretsmanager:us-east-1:123456789012:secret:JwtSecret[A-Za-z0-9-]*-[A-Za-z0-9]{6}$/);
    expect(model.functions[fnId('AuthorizerFn')].environment.JWT_SECRET_ARN).toBe(arns[0]);
  });

  test('GIVEN a Python function WHEN loaded THEN it is supported (python3.x runs under the emulator) with its handler and runtime', () => {
    const python = Object.values(model.functions).find((f) => f.logicalId.startsWith('PythonFn'))!;
    expect(python.unsupported).toBeUndefined();
    expect(python).toEqual(expect.objectContaining({ runtime: 'python3.12', handler: 'app.handler' }));
  });

  test('GIVEN Fn::ImportValue of another stack\'s export WHEN loaded THEN it resolves to the exporting stack\'s value', () => {
    const all = loadAssembly(outdir);
    const consumer = Object.values(all.functions).find((f) => f.stackName === 'ConsumerStack')!;
    expect(consumer.environment.IMPORTED_API).toBe(model.apis[0].apiId);
  });

  test('GIVEN region and account options WHEN loaded THEN pseudo parameters and ids follow them', () => {
    const eu = loadAssembly(outdir, { stack: 'ChatStack', region: 'eu-west-1', accountId: '210987654321' });
    const messageFn = Object.values(eu.functions).find((f) => f.logicalId.startsWith('MessageFn'))!;
    expect(messageFn.environment.CALLBACK_URL).toBe(`https://${eu.apis[0].apiId}.execute-api.eu-west-1.amazonaws.com/prod`);
    expect(eu.apis[0]).toEqual(expect.objectContaining({ region: 'eu-west-1', accountId: '210987654321' }));
    expect(messageFn).toEqual(expect.objectContaining({ region: 'eu-west-1', accountId: '210987654321' }));
  });
});

describe('loadAssembly: tables', () => {
  test('GIVEN a Table with GSI and TTL and a TableV2 with LSI WHEN loaded THEN CreateTable inputs and TTL attributes are read', () => {
    const connections = model.tables.find((t) => t.logicalId.startsWith('Connections'))!;
    expect(connections.tableName).toMatch(/^ChatStack-Connections[A-Z0-9]*-[A-Z0-9]{12}$/);
    expect(connections.ttlAttribute).toBe('expiresAt');
    expect(connections.createTableInput).toEqual(expect.objectContaining({
      TableName: connections.tableName,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      GlobalSecondaryIndexes: [expect.objectContaining({ IndexName: 'byRoom', Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['userId'] } })],
    }));
    const audit = model.tables.find((t) => t.logicalId.startsWith('Audit'))!;
    expect(audit.ttlAttribute).toBe('ttl');
    expect(audit.createTableInput.LocalSecondaryIndexes).toEqual([expect.objectContaining({ IndexName: 'byTime' })]);
  });

  test('GIVEN the loaded model WHEN its tables are created in dynalite and a function writes THEN the unmodified handler finds its table', async () => {
    const dynamo = await startLocalDynamo();
    const invoker = createInvoker({ functions: model.functions, dynamodb: dynamo.endpoint, log: () => undefined });
    try {
      expect((await createTables(dynamo.endpoint, model.tables)).sort()).toEqual(model.tables.map((t) => t.tableName).sort());
      const out = await invoker.invoke(fnId('ConnectFn'), { pk: 'conn#e2e', note: 'through the model' });
      expect(out).toEqual(expect.objectContaining({ result: { note: 'through the model' } }));
    } finally {
      await invoker.close();
      await dynamo.close();
    }
  });
});

describe('loadAssembly: bad input gets a clear error', () => {
  test('GIVEN a folder without manifest, an unknown stack, a bad region or broken JSON WHEN loaded THEN AssemblyError names the problem', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-empty-'));
    expect(() => loadAssembly(empty)).toThrow(/is not a cloud assembly: it has no manifest\.json/);
    expect(() => loadAssembly(outdir, { stack: 'Nope' })).toThrow(/Stack Nope is not in the assembly .*ChatStack/);
    expect(() => loadAssembly(outdir, { region: 'mars' })).toThrow(AssemblyError);
    expect(() => loadAssembly(outdir, { accountId: '12' })).toThrow(/accountId "12" is not 12 digits/);
    fs.writeFileSync(path.join(empty, 'manifest.json'), '{ nope');
    expect(() => loadAssembly(empty)).toThrow(/manifest is not valid JSON/);
    fs.rmSync(empty, { recursive: true, force: true });
  });

  test('GIVEN a hand-written template with a missing asset, a dangling Ref and an unknown attribute WHEN loaded THEN warnings name each', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-broken-'));
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ version: '1', artifacts: { Broken: { type: 'aws:cloudformation:stack', environment: 'aws://unknown-account/unknown-region', properties: { templateFile: 'Broken.template.json' } } } }));
    fs.writeFileSync(path.join(dir, 'Broken.template.json'), JSON.stringify({ Resources: {
      Fn: { Type: 'AWS::Lambda::Function', Metadata: { 'aws:asset:path': 'asset.gone' }, Properties: { Runtime: 'nodejs22.x', Handler: 'index.handler', Environment: { Variables: { A: { Ref: 'Ghost' }, B: { 'Fn::GetAtt': ['Fn', 'Colour'] } } } } },
    } }));
    const broken = loadAssembly(dir);
    const fn = broken.functions['Broken/Fn'];
    expect(fn.unsupported).toMatch(/Broken\/Fn: asset folder .*asset\.gone is missing/);
    expect(fn.unsupported).toMatch(/Broken\/Fn: Properties\.Environment\.Variables\.A refers to Ghost, which is not in the template/);
    expect(fn.unsupported).toMatch(/Broken\/Fn: Fn::GetAtt Colour of AWS::Lambda::Function is not supported/);
    expect(broken.warnings).toHaveLength(1);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
