/**
 * WebSocketGateway: the API, stage, routes and functions it creates; your own handlers on `$connect`,
 * `$disconnect` and `$default`; publishers; the custom domain; and the synth-time checks of its props.
 */
import { CfnParameter, Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  BundledHandler,
  ConnectAuthorization,
  ConnectionsTable,
  GatewayPermission,
  RouteHandler,
  TokenSource,
  WebSocketGateway,
} from '../../lib';
import {
  actionsOf,
  allPolicyStatements,
  arnText,
  AUTH,
  gatewayIn,
  newValidatedStack,
  permissionScopes,
  stableTemplateJson,
  statementsOfRole,
  userFunction,
} from './template-helpers';

/** The environment variables of a function in the template. */
function environmentOf(stack: Stack, template: Template, fn: lambda.IFunction): Record<string, unknown> {
  const id = stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
  return template.toJSON().Resources[id].Properties.Environment?.Variables ?? {};
}

/** Route key -> logical id of the function its integration invokes. */
function routeTargets(template: Template): Record<string, string> {
  const resources = template.toJSON().Resources as Record<string, any>;
  const targets: Record<string, string> = {};
  for (const route of Object.values(resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')) {
    const integrationId = route.Properties.Target['Fn::Join'][1][1].Ref;
    const uri = resources[integrationId].Properties.IntegrationUri['Fn::Join'][1];
    const getAtt = uri.find((part: any) => part?.['Fn::GetAtt'])['Fn::GetAtt'];
    targets[route.Properties.RouteKey] = getAtt[0];
  }
  return targets;
}

function certificateIn(stack: Stack): acm.ICertificate {
  return acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:111111111111:certificate/abc');
}

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

describe('WebSocketGateway: your own $connect, $disconnect and $default handlers', () => {
  test('GIVEN user functions on all three reserved routes WHEN synthesized THEN each route invokes its function and no bundled route function exists', () => {
    // GIVEN
    const stack = newValidatedStack();
    const connect = userFunction(stack, 'Connect');
    const disconnect = userFunction(stack, 'Disconnect');
    const fallback = userFunction(stack, 'Fallback');
    // WHEN
    const gateway = gatewayIn(stack, {
      connectHandler: RouteHandler.fromFunction(connect, { permissions: [GatewayPermission.RECORD_CONNECTIONS] }),
      disconnectHandler: RouteHandler.fromFunction(disconnect, { permissions: [GatewayPermission.REMOVE_CONNECTIONS] }),
      defaultHandler: RouteHandler.fromFunction(fallback, { permissions: [GatewayPermission.POST_TO_CONNECTIONS] }),
    });
    // THEN
    const template = Template.fromStack(stack);
    const id = (fn: lambda.Function) => stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
    expect(routeTargets(template)).toEqual({ $connect: id(connect), $disconnect: id(disconnect), $default: id(fallback) });
    template.resourceCountIs('AWS::Lambda::Function', 4); // the authorizer + the three user functions
    for (const handler of [BundledHandler.CONNECT, BundledHandler.DISCONNECT, BundledHandler.DEFAULT]) {
      expect(gateway.bundledFunction(handler)).toBeUndefined();
    }
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$connect', AuthorizationType: 'CUSTOM' });
    const scopes = permissionScopes(template).filter((arn) => !arn.includes('/authorizers/')).map((arn) => arn.replace(/^.*\{token\}\//, ''));
    expect(scopes.sort()).toEqual(['prod/$connect', 'prod/$default', 'prod/$disconnect']);
  });

  test('GIVEN a user $connect function WHEN synthesized THEN it gets every runtime variable from the gateway', () => {
    const stack = newValidatedStack();
    const connect = userFunction(stack, 'Connect');
    const gateway = gatewayIn(stack, { connectHandler: RouteHandler.fromFunction(connect), connectionTtl: Duration.hours(1), fanoutConcurrency: 7 });
    const template = Template.fromStack(stack);
    const tableId = stack.getLogicalId(gateway.table.table.node.defaultChild as any);
    expect(environmentOf(stack, template, connect)).toEqual({
      CONNECTIONS_TABLE: { Ref: tableId },
      ROOM_INDEX: 'byRoom',
      CALLBACK_URL: stack.resolve(gateway.callbackUrl),
      CONNECTION_TTL_SECONDS: '3600',
      FANOUT_CONCURRENCY: '7',
    });
  });

  test('GIVEN each reserved handler set to its own bundled handler WHEN synthesized THEN the template equals the default one', () => {
    const byDefault = newValidatedStack();
    gatewayIn(byDefault);
    const explicit = newValidatedStack();
    gatewayIn(explicit, {
      connectHandler: RouteHandler.bundled(BundledHandler.CONNECT),
      disconnectHandler: RouteHandler.bundled(BundledHandler.DISCONNECT),
      defaultHandler: RouteHandler.bundled(BundledHandler.DEFAULT),
    });
    expect(stableTemplateJson(Template.fromStack(explicit))).toEqual(stableTemplateJson(Template.fromStack(byDefault)));
  });

  test.each([
    ['connectHandler', BundledHandler.JOIN, /invalid connectHandler: the bundled 'join' handler cannot serve \$connect.*BundledHandler\.CONNECT/],
    ['connectHandler', BundledHandler.AUTHORIZER, /invalid connectHandler: the bundled 'authorizer' handler cannot serve \$connect/],
    ['disconnectHandler', BundledHandler.CONNECT, /invalid disconnectHandler: .* cannot serve \$disconnect.*BundledHandler\.DISCONNECT/],
    ['defaultHandler', BundledHandler.SEND_MESSAGE, /invalid defaultHandler: the bundled 'sendmessage' handler cannot serve \$default/],
  ] as const)('GIVEN %s set to the bundled %p handler WHEN constructed THEN it throws naming the prop', (prop, handler, message) => {
    const stack = newValidatedStack();
    expect(() => gatewayIn(stack, { [prop]: RouteHandler.bundled(handler) })).toThrow(message);
  });

  test.each([BundledHandler.CONNECT, BundledHandler.DISCONNECT, BundledHandler.AUTHORIZER])(
    'GIVEN the bundled %p handler WHEN added as a custom route THEN it throws that it serves only its own route',
    (handler) => {
      const stack = newValidatedStack();
      const gateway = gatewayIn(stack);
      expect(() => gateway.addRoute('mine', { handler: RouteHandler.bundled(handler) })).toThrow(
        /Gateway: cannot add route 'mine': the bundled '\w+' handler serves only \$(dis)?connect.*cannot be used for a custom route/,
      );
    },
  );

  test('GIVEN subprotocols with a user $connect function WHEN synthesized THEN a warning says the function must echo them', () => {
    const stack = newValidatedStack();
    gatewayIn(stack, { subprotocols: ['chat.v1'], connectHandler: RouteHandler.fromFunction(userFunction(stack)) });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('subprotocols configure the bundled \\$connect handler only'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0].entry.data)).toMatch(/wsgate:subprotocolsNeedBundledConnect/);
  });

  test('GIVEN an imported function on a route WHEN synthesized THEN a warning with an id says the runtime variables were not set', () => {
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack);
    const imported = lambda.Function.fromFunctionArn(stack, 'Imported', 'arn:aws:lambda:us-east-1:111111111111:function:elsewhere');
    gateway.addRoute('elsewhere', { handler: RouteHandler.fromFunction(imported) });
    const warnings = Annotations.fromStack(stack).findWarning('/TestStack/Imported', Match.stringLikeRegexp('could not set CONNECTIONS_TABLE, ROOM_INDEX, CALLBACK_URL'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0].entry.data)).toMatch(/wsgate:runtimeEnvironmentNotSet/);
  });

  test('GIVEN one function wired to two gateways WHEN synthesized THEN a warning with an id says its variables name the second only', () => {
    const stack = newValidatedStack();
    const fn = userFunction(stack);
    new WebSocketGateway(stack, 'A', AUTH).addRoute('a', { handler: RouteHandler.fromFunction(fn) });
    new WebSocketGateway(stack, 'B', AUTH).addPublisher(fn);
    const warnings = Annotations.fromStack(stack).findWarning('/TestStack/UserFunction', Match.stringLikeRegexp('is wired to TestStack/A and TestStack/B'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0].entry.data)).toMatch(/wsgate:functionWiredToTwoGateways/);
  });

  test('GIVEN a user function defined in the app WHEN wired THEN nothing warns about its environment', () => {
    const stack = newValidatedStack();
    const fn = userFunction(stack);
    const gateway = gatewayIn(stack);
    gateway.addRoute('own', { handler: RouteHandler.fromFunction(fn) });
    gateway.addRoute('again', { handler: RouteHandler.fromFunction(fn) });
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('could not set|is wired to'));
  });

  test('GIVEN a custom route selection expression WHEN the bundled chat routes are added THEN it synthesizes with their routes and functions', () => {
    // GIVEN an expression that does not read `action`: the chat handlers take their command from the route
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack, { routeSelectionExpression: '$request.body.type' });
    // WHEN
    gateway.addRoute('join', { handler: RouteHandler.bundled(BundledHandler.JOIN) });
    gateway.addRoute('sendmessage', { handler: RouteHandler.bundled(BundledHandler.SEND_MESSAGE) });
    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { RouteSelectionExpression: '$request.body.type' });
    const targets = routeTargets(template);
    expect(Object.keys(targets).sort()).toEqual(['$connect', '$default', '$disconnect', 'join', 'sendmessage']);
    expect(targets.join).toBe(stack.getLogicalId(gateway.bundledFunction(BundledHandler.JOIN)!.node.defaultChild as lambda.CfnFunction));
  });
});

describe('WebSocketGateway: publishing from the backend', () => {
  test('GIVEN a role WHEN grantPublish THEN it may read connections and the room index, remove gone ones and POST to connections, nothing more', () => {
    // GIVEN
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack, { stageName: 'live' });
    const role = new iam.Role(stack, 'Publisher', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    // WHEN
    const grant = gateway.grantPublish(role);
    // THEN
    expect(grant.success).toBe(true);
    const statements = statementsOfRole(stack, Template.fromStack(stack), role);
    const byResource = statements.map((s) => [arnText(s.Resource), actionsOf(s).sort()]);
    expect(byResource).toEqual([
      ['{token}', ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan']],
      ['{token}/index/byRoom', ['dynamodb:Query']],
      ['{token}', ['dynamodb:BatchWriteItem', 'dynamodb:Query']],
      ['arn:{token}:execute-api:{token}:{token}:{token}/live/POST/@connections/*', ['execute-api:ManageConnections']],
    ]);
  });

  test('GIVEN a function on no route WHEN addPublisher THEN it gets the runtime variables and the publish grants, and API Gateway may not invoke it', () => {
    // GIVEN
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack, { fanoutConcurrency: 50 });
    const publisher = userFunction(stack, 'Publisher');
    // WHEN
    gateway.addPublisher(publisher);
    // THEN
    const template = Template.fromStack(stack);
    expect(environmentOf(stack, template, publisher)).toMatchObject({
      ROOM_INDEX: 'byRoom',
      CALLBACK_URL: stack.resolve(gateway.callbackUrl),
      CONNECTION_TTL_SECONDS: '7500',
      FANOUT_CONCURRENCY: '50',
    });
    const actions = statementsOfRole(stack, template, publisher.role!).flatMap(actionsOf);
    expect(new Set(actions)).toEqual(new Set([
      'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:BatchWriteItem', 'execute-api:ManageConnections',
    ]));
    const publisherId = stack.getLogicalId(publisher.node.defaultChild as lambda.CfnFunction);
    const invokes = Object.values(template.findResources('AWS::Lambda::Permission')).filter(
      (p: any) => p.Properties.FunctionName['Fn::GetAtt']?.[0] === publisherId,
    );
    expect(invokes).toEqual([]);
  });

  test('GIVEN a shared table WHEN a function publishes through two gateways THEN each grant names its own stage', () => {
    const stack = newValidatedStack();
    const table = new ConnectionsTable(stack, 'Shared');
    const a = new WebSocketGateway(stack, 'A', { ...AUTH, connectionsTable: table, stageName: 'a' });
    const b = new WebSocketGateway(stack, 'B', { ...AUTH, connectionsTable: table, stageName: 'b' });
    const role = new iam.Role(stack, 'Publisher', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    a.grantPublish(role);
    b.grantPublish(role);
    const posts = statementsOfRole(stack, Template.fromStack(stack), role)
      .filter((s) => actionsOf(s).includes('execute-api:ManageConnections'))
      .map((s) => arnText(s.Resource).replace(/^.*\{token\}\//, ''));
    expect(posts.sort()).toEqual(['a/POST/@connections/*', 'b/POST/@connections/*']);
  });
});

describe('WebSocketGateway: custom domain', () => {
  test('GIVEN a domain, certificate, hosted zone and base path WHEN synthesized THEN the domain, its mapping to the stage and an alias record exist', () => {
    // GIVEN
    const stack = newValidatedStack();
    const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z123', zoneName: 'example.com' });
    // WHEN
    const gateway = gatewayIn(stack, {
      domainName: { domainName: 'ws.example.com', certificate: certificateIn(stack), hostedZone: zone, basePath: 'v1' },
    });
    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'ws.example.com',
      DomainNameConfigurations: [Match.objectLike({
        CertificateArn: 'arn:aws:acm:us-east-1:111111111111:certificate/abc',
        EndpointType: 'REGIONAL',
      })],
    });
    const apiId = stack.getLogicalId(gateway.api.node.defaultChild as any);
    const stageId = stack.getLogicalId(gateway.stage.node.defaultChild as any);
    const domainId = stack.getLogicalId(gateway.customDomain!.node.defaultChild as any);
    // The mapping names the stage and is created after it.
    template.hasResource('AWS::ApiGatewayV2::ApiMapping', {
      DependsOn: Match.arrayWith([stageId]),
      Properties: { ApiId: { Ref: apiId }, DomainName: { Ref: domainId }, Stage: 'prod', ApiMappingKey: 'v1' },
    });
    template.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'ws.example.com.',
      Type: 'A',
      HostedZoneId: 'Z123',
      AliasTarget: {
        DNSName: { 'Fn::GetAtt': [domainId, 'RegionalDomainName'] },
        HostedZoneId: { 'Fn::GetAtt': [domainId, 'RegionalHostedZoneId'] },
      },
    });
    expect(gateway.webSocketUrl).toBe('wss://ws.example.com/v1');
    // Posting keeps using the stage's execute-api endpoint, which the IAM grants are scoped to.
    expect(stack.resolve(gateway.callbackUrl)).toEqual(stack.resolve(gateway.stage.callbackUrl));
  });

  test('GIVEN a domain without hosted zone and base path WHEN synthesized THEN the stage maps to the root and no DNS record is made', () => {
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack, { domainName: { domainName: 'ws.example.com', certificate: certificateIn(stack) } });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', { ApiMappingKey: Match.absent() });
    template.resourceCountIs('AWS::Route53::RecordSet', 0);
    expect(gateway.webSocketUrl).toBe('wss://ws.example.com');
  });

  test('GIVEN a custom domain WHEN the bundled routes are wired THEN their CALLBACK_URL is still the stage endpoint', () => {
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack, { domainName: { domainName: 'ws.example.com', certificate: certificateIn(stack) } });
    const template = Template.fromStack(stack);
    expect(environmentOf(stack, template, gateway.bundledFunction(BundledHandler.DEFAULT)!).CALLBACK_URL).toEqual(stack.resolve(gateway.stage.callbackUrl));
  });

  test('GIVEN no domain WHEN synthesized THEN no domain resources exist', () => {
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ApiGatewayV2::DomainName', 0);
    template.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 0);
    expect(gateway.customDomain).toBeUndefined();
  });

  test.each([
    [{ basePath: '/v1' }, /invalid domainName\.basePath '\/v1': give one path segment/],
    [{ basePath: 'a/b' }, /invalid domainName\.basePath 'a\/b'/],
    [{ basePath: '' }, /invalid domainName\.basePath ''/],
    [{ domainName: 'wss://ws.example.com' }, /invalid domainName\.domainName 'wss:\/\/ws\.example\.com': give a host name/],
    [{ domainName: 'ws.example.com/chat' }, /invalid domainName\.domainName/],
  ])('GIVEN domain options %j WHEN constructed THEN it throws naming the prop', (override, message) => {
    const stack = newValidatedStack();
    expect(() => gatewayIn(stack, { domainName: { domainName: 'ws.example.com', certificate: certificateIn(stack), ...override } })).toThrow(message);
  });

  test('GIVEN a domain name and base path as tokens WHEN constructed THEN they are not checked', () => {
    const stack = newValidatedStack();
    const late = (v: string) => Lazy.string({ produce: () => v });
    expect(() => gatewayIn(stack, { domainName: { domainName: late('x'), certificate: certificateIn(stack), basePath: late('/') } })).not.toThrow();
  });
});

describe('WebSocketGateway: IAM authorization on $connect', () => {
  /** A gateway without the JWT props (gatewayIn adds them), on a validated stack. */
  function iamGateway(stack: Stack, props: Record<string, unknown> = {}): WebSocketGateway {
    return new WebSocketGateway(stack, 'Gateway', { connectAuthorization: ConnectAuthorization.iam(), ...props });
  }

  test('GIVEN ConnectAuthorization.iam() WHEN synthesized THEN $connect is AWS_IAM, no authorizer, authorizer function or signing secret exists, and the bundled $connect still records connections', () => {
    // GIVEN
    const stack = newValidatedStack();
    // WHEN
    const gateway = iamGateway(stack);
    const template = Template.fromStack(stack);
    // THEN
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$connect', AuthorizationType: 'AWS_IAM', AuthorizerId: Match.absent() });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$disconnect', AuthorizationType: 'NONE' });
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(gateway.authorizer).toBeUndefined();
    expect(gateway.signingSecret).toBeUndefined();
    expect(gateway.bundledFunction(BundledHandler.AUTHORIZER)).toBeUndefined();
    expect(gateway.bundledFunction(BundledHandler.CONNECT)).toBeDefined();
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Array<any>;
    expect(functions.some((f) => f.Properties.Environment?.Variables?.JWT_ISSUER !== undefined)).toBe(false);
  });

  test('GIVEN ConnectAuthorization.jwt() given explicitly WHEN synthesized THEN the template equals the default one', () => {
    const byDefault = newValidatedStack();
    gatewayIn(byDefault);
    const explicit = newValidatedStack();
    gatewayIn(explicit, { connectAuthorization: ConnectAuthorization.jwt() });
    expect(stableTemplateJson(Template.fromStack(explicit))).toEqual(stableTemplateJson(Template.fromStack(byDefault)));
    Template.fromStack(explicit).hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$connect', AuthorizationType: 'CUSTOM' });
  });

  test('GIVEN IAM on $connect and a role WHEN grantConnect THEN the role may execute-api:Invoke on <api>/<stage>/$connect only', () => {
    // GIVEN
    const stack = newValidatedStack();
    const gateway = iamGateway(stack, { stageName: 'live' });
    const role = new iam.Role(stack, 'Backend', { assumedBy: new iam.AccountRootPrincipal() });
    // WHEN
    const grant = gateway.grantConnect(role);
    // THEN
    expect(grant.success).toBe(true);
    const statements = statementsOfRole(stack, Template.fromStack(stack), role);
    expect(statements).toHaveLength(1);
    expect(statements[0].Action).toBe('execute-api:Invoke');
    expect(statements[0].Effect).toBe('Allow');
    expect(arnText(statements[0].Resource)).toBe('arn:{token}:execute-api:{token}:{token}:{token}/live/$connect');
  });

  test('GIVEN IAM on $connect WHEN combined with apiKeyRequired and subprotocols THEN both apply to the IAM-authorized route', () => {
    const stack = newValidatedStack();
    iamGateway(stack, { apiKeyRequired: true, subprotocols: ['chat.v1'] });
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$connect', AuthorizationType: 'AWS_IAM', ApiKeyRequired: true });
  });

  test.each([
    ['issuer', { issuer: 'https://issuer.example' }, /Gateway: issuer cannot be combined with connectAuthorization: ConnectAuthorization\.iam\(\): \$connect then checks SigV4 signatures, not tokens, and this prop configures the JWT authorizer/],
    ['issuer and audience', { ...AUTH }, /Gateway: issuer, audience cannot be combined with connectAuthorization: ConnectAuthorization\.iam\(\).*these props configure/],
    ['jwksUrl', { jwksUrl: 'https://issuer.example/jwks.json' }, /Gateway: jwksUrl cannot be combined/],
    ['tokenSource', { tokenSource: TokenSource.header('Authorization') }, /Gateway: tokenSource cannot be combined/],
  ])('GIVEN IAM on $connect and %s WHEN constructed THEN it throws naming the contradicting props', (_name, props, message) => {
    const stack = newValidatedStack();
    expect(() => iamGateway(stack, props)).toThrow(message);
  });

  test('GIVEN IAM on $connect and a signingSecret WHEN constructed THEN it throws naming signingSecret', () => {
    const stack = newValidatedStack();
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Key', 'jwt-key');
    expect(() => iamGateway(stack, { signingSecret: secret })).toThrow(/Gateway: signingSecret cannot be combined with connectAuthorization/);
  });

  test('GIVEN JWT authorization (the default) WHEN issuer or audience is missing THEN it throws naming the missing prop and both ways out', () => {
    const stack = newValidatedStack();
    expect(() => new WebSocketGateway(stack, 'NoIssuer', { audience: 'a' })).toThrow(
      /NoIssuer: issuer is required: \$connect is authorized by the bundled JWT authorizer \(the default\).*or set connectAuthorization: ConnectAuthorization\.iam\(\)/,
    );
    expect(() => new WebSocketGateway(stack, 'NoAudience', { issuer: 'https://issuer.example', connectAuthorization: ConnectAuthorization.jwt() })).toThrow(/NoAudience: audience is required/);
  });

  test('GIVEN JWT authorization WHEN grantConnect THEN it throws: API Gateway does not check IAM on a JWT-authorized $connect', () => {
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack);
    const role = new iam.Role(stack, 'Backend', { assumedBy: new iam.AccountRootPrincipal() });
    expect(() => gateway.grantConnect(role)).toThrow(/Gateway: grantConnect needs connectAuthorization: ConnectAuthorization\.iam\(\)/);
  });
});
