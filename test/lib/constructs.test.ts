/**
 * The public constructs, one behaviour per test: ConnectionsTable, WebSocketGateway, JwtAuthorizer
 * options, RouteHandler / TokenSource factories and the synth-time checks.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CfnParameter, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  BundledHandler,
  ConnectionsTable,
  RouteHandler,
  TokenSource,
  WebSocketGateway,
  WebSocketGatewayProps,
} from '../../lib';
import { bundledHandlerDirectory } from '../../lib/bundled-handler';
import { actionsOf, allPolicyStatements, newValidatedStack } from './template-helpers';
import * as fc from 'fast-check';
import { validateCustomRouteKey, validateFanoutConcurrency, validateRouteSelectionExpression, validateStageName } from '../../lib/validation';

const AUTH = { issuer: 'https://issuer.example', audience: 'test-audience' };

function gatewayIn(stack: Stack, props: Partial<WebSocketGatewayProps> = {}): WebSocketGateway {
  return new WebSocketGateway(stack, 'Gateway', { ...AUTH, ...props });
}

function userFunction(stack: Stack, id = 'UserFunction'): lambda.Function {
  return new lambda.Function(stack, id, {
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 });'),
    handler: 'index.handler',
    runtime: lambda.Runtime.NODEJS_22_X,
  });
}

/** The literal text of an ARN built with Fn::Join, tokens shown as `{token}`. */
function arnText(value: any): string {
  if (typeof value === 'string') return value;
  const join = value?.['Fn::Join'];
  return join ? join[1].map((p: unknown) => (typeof p === 'string' ? p : '{token}')).join(join[0]) : '{token}';
}

function permissionScopes(template: Template): string[] {
  return Object.values(template.findResources('AWS::Lambda::Permission')).map((p: any) => arnText(p.Properties.SourceArn));
}

describe('ConnectionsTable', () => {
  test('GIVEN no props WHEN synthesized THEN an on-demand table is retained and CloudFormation names it', () => {
    const stack = newValidatedStack();
    const table = new ConnectionsTable(stack, 'Connections');
    const template = Template.fromStack(stack);
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        TableName: Match.absent(),
      }),
    });
    expect(table.node.defaultChild).toBeDefined();
    expect(table.roomIndexName).toBe('byRoom');
  });

  test('GIVEN removalPolicy DESTROY WHEN synthesized THEN the table is deleted with the stack', () => {
    const stack = newValidatedStack();
    new ConnectionsTable(stack, 'Connections', { removalPolicy: RemovalPolicy.DESTROY });
    Template.fromStack(stack).hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Delete' });
  });

  test('GIVEN an existing table WHEN granted THEN no table is created and grants name that table and its byRoom index', () => {
    const stack = newValidatedStack();
    const existing = dynamodb.TableV2.fromTableName(stack, 'Existing', 'my-connections');
    const table = new ConnectionsTable(stack, 'Connections', { existingTable: existing });
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    table.grantReadConnections(role);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    const resources = allPolicyStatements(template).map((s) => arnText(s.Resource));
    expect(resources).toEqual(
      expect.arrayContaining([expect.stringMatching(/:table\/my-connections$/), expect.stringMatching(/:table\/my-connections\/index\/byRoom$/)]),
    );
  });

  test.each([
    ['grantWriteConnection', ['dynamodb:PutItem']],
    ['grantRemoveConnection', ['dynamodb:Query', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']],
    ['grantManageMemberships', ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem']],
    ['grantReadConnections', ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan']],
  ] as const)('GIVEN a role WHEN %s THEN it gets exactly %j on the table', (grantName, expected) => {
    const stack = newValidatedStack();
    const table = new ConnectionsTable(stack, 'Connections');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const grant = table[grantName](role);
    expect(grant.success).toBe(true);
    const onTable = allPolicyStatements(Template.fromStack(stack)).filter((s) => !arnText(s.Resource).includes('/index/'));
    expect(onTable.flatMap(actionsOf).sort()).toEqual([...expected].sort());
  });
});

describe('WebSocketGateway', () => {
  test('GIVEN defaults WHEN synthesized THEN the main children are reachable and the URLs end with the prod stage', () => {
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack);
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGatewayV2::Stage', { StageName: 'prod' });
    expect(gateway.api.node.defaultChild).toBeDefined();
    expect(stack.resolve(gateway.webSocketUrl)['Fn::Join'][1].slice(-1)[0]).toMatch(/\/prod$/);
    expect(stack.resolve(gateway.callbackUrl)['Fn::Join'][1][0]).toBe('https://');
    expect(gateway.bundledFunction(BundledHandler.JOIN)).toBeUndefined();
    expect(gateway.bundledFunction(BundledHandler.CONNECT)).toBeDefined();
  });

  // spec §3: the examples of the route selection expression grammar
  test.each(['$request.body.action', '${request.body.action}', '${request.body.service}/${request.body.action}', '${request.body.action}-${request.body.invalidPath}', 'action', '\\$default', '$request.body.data.kind'])(
    'GIVEN routeSelectionExpression %s (spec §3) WHEN synthesized THEN the API uses it',
    (expression) => {
      const stack = newValidatedStack();
      gatewayIn(stack, { routeSelectionExpression: expression });
      Template.fromStack(stack).hasResourceProperties('AWS::ApiGatewayV2::Api', { RouteSelectionExpression: expression });
    },
  );

  test.each(['', '$request.header.action', '$default', '${request.body.action', '$request.body.', '$action', 'a$b'])(
    'GIVEN routeSelectionExpression %j outside the spec §3 grammar WHEN constructed THEN it throws naming the grammar',
    (expression) => {
      const stack = newValidatedStack();
      expect(() => gatewayIn(stack, { routeSelectionExpression: expression })).toThrow(
        /Invalid routeSelectionExpression .*\$request\.body\.<path>/,
      );
    },
  );

  test('GIVEN a token as routeSelectionExpression WHEN constructed THEN it is not checked', () => {
    const stack = newValidatedStack();
    expect(() => gatewayIn(stack, { routeSelectionExpression: Lazy.string({ produce: () => '$request.body.op' }) })).not.toThrow();
  });

  test.each(['', 'has space', 'a/b', '$default', 'x'.repeat(129)])('GIVEN stageName %j WHEN constructed THEN it throws the stage name rule', (stageName) => {
    const stack = newValidatedStack();
    expect(() => gatewayIn(stack, { stageName })).toThrow(/Invalid stageName .*letters, digits, hyphens/);
  });

  test('GIVEN stageName, throttling and retention props WHEN synthesized THEN the stage and every permission use them', () => {
    const stack = newValidatedStack();
    gatewayIn(stack, { stageName: 'live_v2', throttlingRateLimit: 42, throttlingBurstLimit: 84 });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'live_v2',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 42, ThrottlingBurstLimit: 84 },
    });
    const routeScopes = permissionScopes(template).filter((arn) => !arn.includes('/authorizers/'));
    expect(routeScopes.map((arn) => arn.replace(/^.*\{token\}\//, '')).sort()).toEqual(['live_v2/$connect', 'live_v2/$default', 'live_v2/$disconnect']);
  });

  test('GIVEN memorySize and timeout WHEN synthesized THEN every bundled function uses them', () => {
    const stack = newValidatedStack();
    gatewayIn(stack, { memorySize: 512, timeout: Duration.seconds(20) });
    const template = Template.fromStack(stack);
    template.allResourcesProperties('AWS::Lambda::Function', { MemorySize: 512, Timeout: 20 });
  });

  test('GIVEN a timeout above the 29 s integration timeout (spec §6) WHEN synthesized THEN each function warns with an id to acknowledge', () => {
    const stack = newValidatedStack();
    gatewayIn(stack, { timeout: Duration.seconds(60) });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('exceeds API Gateway\'s integration timeout of 29 s'));
    expect(warnings).toHaveLength(4); // authorizer, connect, disconnect, default
    expect(JSON.stringify(warnings[0].entry.data)).toMatch(/wsgate:handlerTimeoutAboveIntegrationTimeout/);
  });

  test('GIVEN the default timeout WHEN synthesized THEN nothing warns about it', () => {
    const stack = newValidatedStack();
    gatewayIn(stack);
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('integration timeout'));
  });

  test('GIVEN composite route keys with a slash (spec §3 ${request.body.service}/${request.body.action}) WHEN added THEN each gets its route and scoped permission', () => {
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack, { routeSelectionExpression: '${request.body.service}/${request.body.action}' });
    gateway.addRoute('chat/join', { handler: RouteHandler.bundled(BundledHandler.JOIN) });
    gateway.addRoute('chat/leave', { handler: RouteHandler.bundled(BundledHandler.LEAVE) });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'chat/join' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'chat/leave' });
    expect(permissionScopes(template).filter((arn) => /\/prod\/chat\/(join|leave)$/.test(arn))).toHaveLength(2);
  });

  test('GIVEN defaults WHEN synthesized THEN every function traces actively', () => {
    const stack = newValidatedStack();
    gatewayIn(stack);
    Template.fromStack(stack).allResourcesProperties('AWS::Lambda::Function', { TracingConfig: { Mode: 'Active' } });
  });

  test('GIVEN tracing DISABLED WHEN synthesized THEN no function traces and no role may write to X-Ray', () => {
    const stack = newValidatedStack();
    gatewayIn(stack, { tracing: lambda.Tracing.DISABLED });
    const template = Template.fromStack(stack);
    template.allResourcesProperties('AWS::Lambda::Function', { TracingConfig: Match.absent() });
    expect(allPolicyStatements(template).flatMap(actionsOf).filter((a) => a.startsWith('xray:'))).toEqual([]);
  });

  test('GIVEN TokenSource.header(Authorization) WHEN synthesized THEN the authorizer reads that header', () => {
    const stack = newValidatedStack();
    gatewayIn(stack, { tokenSource: TokenSource.header('Authorization') });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { IdentitySource: ['route.request.header.Authorization'] });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ TOKEN_SOURCE: 'header:Authorization' }) },
    });
  });

  test('GIVEN a token source name with a space WHEN made THEN it throws', () => {
    expect(() => TokenSource.queryString('my token')).toThrow(/Invalid token source name/);
  });

  test('GIVEN jwksUrl WHEN synthesized THEN the authorizer gets JWKS_URL and no secret exists', () => {
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack, { jwksUrl: 'https://issuer.example/.well-known/jwks.json' });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          TOKEN_SOURCE: 'querystring:token',
          JWT_ISSUER: AUTH.issuer,
          JWT_AUDIENCE: AUTH.audience,
          JWKS_URL: 'https://issuer.example/.well-known/jwks.json',
        },
      },
    });
    expect(gateway.signingSecret).toBeUndefined();
    expect(allPolicyStatements(template).flatMap(actionsOf).filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
  });

  test('GIVEN an existing signingSecret WHEN synthesized THEN no secret is created and the authorizer reads the given one', () => {
    const stack = newValidatedStack();
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Key', 'my-signing-key');
    const gateway = gatewayIn(stack, { signingSecret: secret });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(gateway.signingSecret).toBe(secret);
    const secretStatements = allPolicyStatements(template).filter((s) => actionsOf(s).includes('secretsmanager:GetSecretValue'));
    expect(secretStatements).toHaveLength(1);
    expect(arnText(secretStatements[0].Resource)).toMatch(/:secret:my-signing-key-\?\?\?\?\?\?$/);
  });

  test('GIVEN both jwksUrl and signingSecret WHEN constructed THEN it throws that they conflict', () => {
    const stack = newValidatedStack();
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Key', 'my-signing-key');
    expect(() => gatewayIn(stack, { jwksUrl: 'https://issuer.example/jwks', signingSecret: secret })).toThrow(/Conflicting authorizer keys/);
  });

  test.each([
    [{ jwksUrl: 'http://issuer.example/jwks' }, /Invalid jwksUrl .* https:\/\//],
    [{ issuer: ' ' }, /Invalid authorizer issuer/],
    [{ audience: '' }, /Invalid authorizer audience/],
  ])('GIVEN %j WHEN constructed THEN it throws %s', (props, message) => {
    const stack = newValidatedStack();
    expect(() => gatewayIn(stack, props)).toThrow(message);
  });

  test('GIVEN a user function on a route WHEN synthesized THEN API Gateway may invoke it for that route only', () => {
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack);
    const fn = userFunction(stack);
    gateway.addRoute('echo', { handler: RouteHandler.fromFunction(fn) });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 5); // authorizer, connect, disconnect, default + the user's
    const fnId = stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
    const own = Object.values(template.findResources('AWS::Lambda::Permission')).filter(
      (p: any) => p.Properties.FunctionName['Fn::GetAtt']?.[0] === fnId,
    );
    expect(own.map((p: any) => arnText(p.Properties.SourceArn).replace(/^.*\{token\}\//, ''))).toEqual(['prod/echo']);
  });

  test('GIVEN one bundled handler on two routes WHEN synthesized THEN one function has one permission per route', () => {
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack);
    gateway.addRoute('say', { handler: RouteHandler.bundled(BundledHandler.SEND_MESSAGE) });
    gateway.addRoute('shout', { handler: RouteHandler.bundled(BundledHandler.SEND_MESSAGE) });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 5);
    expect(permissionScopes(template).filter((arn) => /\/prod\/(say|shout)$/.test(arn))).toHaveLength(2);
    template.resourceCountIs('AWS::ApiGatewayV2::Integration', 5);
  });

  test.each([
    ['no fanoutConcurrency', {}, '20'],
    ['fanoutConcurrency 150', { fanoutConcurrency: 150 }, '150'],
    ['fanoutConcurrency 1000', { fanoutConcurrency: 1000 }, '1000'],
  ])('GIVEN %s WHEN a sendmessage route is added THEN its function gets that FANOUT_CONCURRENCY', (_n, props, expected) => {
    const stack = newValidatedStack();
    gatewayIn(stack, props).addRoute('sendmessage', { handler: RouteHandler.bundled(BundledHandler.SEND_MESSAGE) });
    const withFanout = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))
      .map((f: any) => f.Properties.Environment?.Variables?.FANOUT_CONCURRENCY)
      .filter((v) => v !== undefined);
    expect(withFanout).toEqual([expected]);
  });

  test.each([0, -5, 1001, 2.5, NaN])('GIVEN fanoutConcurrency %p WHEN constructed THEN it throws naming the prop and its range', (fanoutConcurrency) => {
    const stack = newValidatedStack();
    expect(() => gatewayIn(stack, { fanoutConcurrency })).toThrow(/Invalid fanoutConcurrency .*whole number from 1 to 1000/);
  });

  test('GIVEN fanoutConcurrency from a CloudFormation parameter (a token) WHEN synthesized THEN it is not checked and is passed through', () => {
    const stack = newValidatedStack();
    const parameter = new CfnParameter(stack, 'Fanout', { type: 'Number', default: 50 });
    gatewayIn(stack, { fanoutConcurrency: parameter.valueAsNumber }).addRoute('sendmessage', { handler: RouteHandler.bundled(BundledHandler.SEND_MESSAGE) });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ FANOUT_CONCURRENCY: { Ref: 'Fanout' } }) },
    });
  });

  test('GIVEN returnResponse WHEN a route is added THEN it is two-way with the $default route response (spec §3.1)', () => {
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack);
    gateway.addRoute('ping', { handler: RouteHandler.fromFunction(userFunction(stack)), returnResponse: true });
    gateway.addRoute('fire', { handler: RouteHandler.fromFunction(userFunction(stack, 'Other')) });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'ping', RouteResponseSelectionExpression: '$default' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'fire', RouteResponseSelectionExpression: Match.absent() });
    template.resourceCountIs('AWS::ApiGatewayV2::RouteResponse', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::RouteResponse', { RouteResponseKey: '$default' });
  });

  test('GIVEN routes added after construction WHEN synthesized THEN ROUTE_KEYS of $default lists them all', () => {
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack);
    gateway.addRoute('join', { handler: RouteHandler.bundled(BundledHandler.JOIN) });
    gateway.addRoute('custom', { handler: RouteHandler.fromFunction(userFunction(stack)) });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ROUTE_KEYS: 'join,custom' }) },
    });
  });

  test.each([
    ['$custom', /custom route keys must not start with '\$'/],
    ['', /must not be empty/],
    ['r'.repeat(129), /at most 128 characters/],
    ['$default', /creates the \$connect, \$disconnect, \$default routes itself/],
    ['$connect', /creates the .* routes itself/],
  ])('GIVEN route key %j WHEN added THEN it throws %s (spec §3)', (routeKey, message) => {
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack);
    expect(() => gateway.addRoute(routeKey, { handler: RouteHandler.fromFunction(userFunction(stack)) })).toThrow(message);
  });

  test('GIVEN a route key of exactly 128 characters WHEN added THEN it is accepted', () => {
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack);
    expect(() => gateway.addRoute('k'.repeat(128), { handler: RouteHandler.fromFunction(userFunction(stack)) })).not.toThrow();
  });

  test('GIVEN a route key already used WHEN added again THEN it throws', () => {
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack);
    const handler = RouteHandler.fromFunction(userFunction(stack));
    gateway.addRoute('join', { handler });
    expect(() => gateway.addRoute('join', { handler })).toThrow(/already has a route with this key/);
  });

  test('GIVEN 300 routes (spec §6) WHEN one more is added THEN it throws the quota', () => {
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack);
    const handler = RouteHandler.fromFunction(userFunction(stack));
    for (let i = 0; i < 300 - 3; i++) gateway.addRoute(`r${i}`, { handler });
    expect(() => gateway.addRoute('one-too-many', { handler })).toThrow(/at most 300 routes/);
  });

  test('GIVEN an unresolved route key WHEN added THEN it is not checked', () => {
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack);
    const key = Lazy.string({ produce: () => 'late' });
    expect(() => gateway.addRoute(key, { handler: RouteHandler.fromFunction(userFunction(stack)) })).not.toThrow();
  });

  test('GIVEN the $connect-only handlers WHEN used for a custom route THEN it throws', () => {
    expect(() => RouteHandler.bundled(BundledHandler.CONNECT)).toThrow(/cannot be used for a custom route/);
    expect(() => RouteHandler.bundled(BundledHandler.AUTHORIZER)).toThrow(/cannot be used for a custom route/);
  });

  test('GIVEN apiKeyRequired WHEN synthesized THEN $connect requires the x-api-key header', () => {
    const stack = newValidatedStack();
    gatewayIn(stack, { apiKeyRequired: true });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ApiKeySelectionExpression: '$request.header.x-api-key' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$connect', ApiKeyRequired: true });
  });

  test('GIVEN defaults WHEN synthesized THEN no API key is required', () => {
    const stack = newValidatedStack();
    gatewayIn(stack);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ApiKeySelectionExpression: Match.absent() });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$connect', ApiKeyRequired: Match.absent() });
  });

  test('GIVEN a user role WHEN grantPostToConnections THEN it may ManageConnections on <api>/<stage>/POST/@connections/* only', () => {
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack, { stageName: 'beta' });
    const role = new iam.Role(stack, 'Poster', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    gateway.grantPostToConnections(role);
    const roleId = stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
    const statements = Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(statements).toHaveLength(1);
    expect(statements[0].Action).toBe('execute-api:ManageConnections');
    expect(arnText(statements[0].Resource)).toBe('arn:{token}:execute-api:{token}:{token}:{token}/beta/POST/@connections/*');
  });

  test('GIVEN a shared ConnectionsTable WHEN two gateways use it THEN one table serves both', () => {
    const stack = newValidatedStack();
    const table = new ConnectionsTable(stack, 'Shared');
    const a = new WebSocketGateway(stack, 'A', { ...AUTH, connectionsTable: table });
    const b = new WebSocketGateway(stack, 'B', { ...AUTH, connectionsTable: table });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 2);
    expect(a.table).toBe(table);
    expect(b.table).toBe(table);
  });

  test('GIVEN subprotocols and connectionTtl WHEN synthesized THEN $connect receives them', () => {
    const stack = newValidatedStack();
    gatewayIn(stack, { subprotocols: ['chat.v1', 'chat.v2'], connectionTtl: Duration.hours(3) });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SUBPROTOCOLS: 'chat.v1,chat.v2', CONNECTION_TTL_SECONDS: String(3 * 3600) }) },
    });
  });
});

describe('bundled handler assets', () => {
  test('GIVEN a folder without the built bundle WHEN looked up THEN it throws telling to run npm run build', () => {
    const emptyRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-assets-'));
    expect(() => bundledHandlerDirectory('join', emptyRoot)).toThrow(/bundled handler 'join' was not found.*Run `npm run build`/);
  });

  test('GIVEN a built bundle WHEN looked up THEN its folder is returned', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-assets-'));
    fs.mkdirSync(path.join(root, 'join'));
    fs.writeFileSync(path.join(root, 'join', 'index.js'), 'exports.handler = async () => ({});');
    expect(bundledHandlerDirectory('join', root)).toBe(path.join(root, 'join'));
  });
});

describe('synth-time validators (fast-check properties)', () => {
  const pathSegment = fc.stringMatching(/^[A-Za-z0-9_]{1,8}$/);
  const jsonPath = fc.array(pathSegment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('.'));
  // Pieces of the spec §3 grammar; static text never contains `$` or `\` here, so each piece stays what it is.
  const piece = fc.oneof(
    jsonPath.map((p) => `$request.body.${p}`),
    jsonPath.map((p) => `\${request.body.${p}}`),
    fc.constant('\\$'),
    fc.stringMatching(/^[A-Za-z0-9 /:_.-]{1,6}$/),
  );
  const validExpression = fc.array(piece, { minLength: 1, maxLength: 4 }).map((parts) => parts.join(''));

  test('PROPERTY: GIVEN any expression built from the spec §3 grammar WHEN validated THEN it is accepted', () => {
    fc.assert(fc.property(validExpression, (expression) => {
      validateRouteSelectionExpression(expression);
    }), { numRuns: 500 });
  });

  test('PROPERTY: GIVEN any string WHEN validated as an expression THEN it is accepted or refused with the named rule, never another error', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), (expression) => {
      try {
        validateRouteSelectionExpression(expression);
      } catch (error) {
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).message).toMatch(/^Invalid routeSelectionExpression '[\s\S]*': .* at position \d+\. A WebSocket route selection expression is made of/);
      }
    }), { numRuns: 1000 });
  });

  test('PROPERTY: GIVEN any string WHEN validated as a stage name THEN it is accepted exactly when it is 1–128 of [A-Za-z0-9_-]', () => {
    const boundary = fc.integer({ min: 0, max: 130 }).map((n) => 'a'.repeat(n));
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 130 }), fc.stringMatching(/^[A-Za-z0-9_-]{0,130}$/), boundary), (name) => {
      const expected = /^[A-Za-z0-9_-]{1,128}$/.test(name);
      if (expected) expect(() => validateStageName(name)).not.toThrow();
      else expect(() => validateStageName(name)).toThrow(/^Invalid stageName .*1 to 128 characters/s);
    }), { numRuns: 1000 });
  });

  test('PROPERTY: GIVEN any string WHEN validated as a custom route key THEN it is accepted exactly when non-empty, ≤ 128, not $-prefixed and new', () => {
    const existing = ['$connect', '$disconnect', '$default', 'join'];
    const boundary = fc.integer({ min: 0, max: 130 }).map((n) => 'k'.repeat(n));
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 130 }), fc.constantFrom('join', '$x', ''), boundary), (key) => {
      const expected = key.length > 0 && key.length <= 128 && !key.startsWith('$') && !existing.includes(key);
      if (expected) expect(() => validateCustomRouteKey(key, existing)).not.toThrow();
      else expect(() => validateCustomRouteKey(key, existing)).toThrow(/route key|Cannot add route|already/);
    }), { numRuns: 1000 });
  });

  test('PROPERTY: GIVEN any number WHEN validated as fanoutConcurrency THEN it is accepted exactly when a whole number from 1 to 1000', () => {
    fc.assert(fc.property(fc.oneof(fc.integer({ min: -5, max: 1100 }), fc.double({ noNaN: false })), (value) => {
      const expected = Number.isInteger(value) && value >= 1 && value <= 1000;
      if (expected) expect(() => validateFanoutConcurrency(value)).not.toThrow();
      else expect(() => validateFanoutConcurrency(value)).toThrow(/^Invalid fanoutConcurrency/);
    }), { numRuns: 1000 });
  });
});
