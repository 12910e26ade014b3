/**
 * The example chat app (bin/chat-stack.ts) as a user deploys it: everything the construct-library
 * issue's "Done when" lists, asserted on the synthesized template.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CHAT_TOKEN_AUDIENCE, CHAT_TOKEN_ISSUER, ChatStack } from '../../bin/chat-stack';
import { actionsOf, allPolicyStatements, stableTemplateJson, VALIDATION_CONTEXT } from './template-helpers';

// GIVEN the example app, synthesized once for every test of this file (synth validation is costly)
const app = new App({ context: VALIDATION_CONTEXT });
const stack = new ChatStack(app, 'WsgateChat');
const template = Template.fromStack(stack);
const assembly = app.synth();
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: any }>;

function resourcesOfType(type: string): Array<{ logicalId: string; properties: any }> {
  return Object.entries(resources)
    .filter(([, r]) => r.Type === type)
    .map(([logicalId, r]) => ({ logicalId, properties: r.Properties }));
}

/** The Fn::Join parts of an ARN, with tokens as `{token}`, so its literal suffix can be read. */
function arnText(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join) return join[1].map((part) => (typeof part === 'string' ? part : '{token}')).join(join[0]);
  return '{token}';
}

describe('example chat app template', () => {
  test('THEN CloudFormation validation reports zero findings', () => {
    const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
    const violations = (report.pluginReports ?? []).flatMap((r: { violations?: unknown[] }) => r.violations ?? []);
    expect(violations).toEqual([]);
  });

  test('THEN it is a WEBSOCKET API selecting routes with $request.body.action (spec §3)', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.action',
    });
  });

  test('THEN $connect uses a CUSTOM REQUEST authorizer reading the token query string (spec §2.2)', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    const [authorizer] = resourcesOfType('AWS::ApiGatewayV2::Authorizer');
    expect(authorizer.properties).toMatchObject({
      AuthorizerType: 'REQUEST',
      IdentitySource: ['route.request.querystring.token'],
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: '$connect',
      AuthorizationType: 'CUSTOM',
      AuthorizerId: { Ref: authorizer.logicalId },
    });
  });

  test('THEN no route but $connect is authorized (authorization exists only on $connect, spec §2.1)', () => {
    const others = resourcesOfType('AWS::ApiGatewayV2::Route').filter((r) => r.properties.RouteKey !== '$connect');
    expect(others.length).toBeGreaterThan(0);
    for (const route of others) {
      expect(route.properties.AuthorizerId).toBeUndefined();
      expect(route.properties.AuthorizationType).toBe('NONE');
    }
  });

  test('THEN the routes are $connect, $disconnect, $default, join, leave and sendmessage, each with its own integration', () => {
    const keys = resourcesOfType('AWS::ApiGatewayV2::Route').map((r) => r.properties.RouteKey).sort();
    expect(keys).toEqual(['$connect', '$default', '$disconnect', 'join', 'leave', 'sendmessage']);
    const targets = resourcesOfType('AWS::ApiGatewayV2::Route').map((r) => JSON.stringify(r.properties.Target));
    expect(new Set(targets).size).toBe(keys.length);
    template.resourceCountIs('AWS::ApiGatewayV2::Integration', keys.length);
    template.allResourcesProperties('AWS::ApiGatewayV2::Integration', { IntegrationType: 'AWS_PROXY' });
  });

  test('THEN the stage auto-deploys, throttles every route and writes JSON access logs to a log group with retention', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    const [stage] = resourcesOfType('AWS::ApiGatewayV2::Stage');
    expect(stage.properties).toMatchObject({
      StageName: 'prod',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: expect.any(Number), ThrottlingBurstLimit: expect.any(Number) },
    });
    const logGroupId = stage.properties.AccessLogSettings.DestinationArn['Fn::GetAtt'][0];
    expect(resources[logGroupId].Type).toBe('AWS::Logs::LogGroup');
    expect(resources[logGroupId].Properties.RetentionInDays).toEqual(expect.any(Number));
    const format = JSON.parse(stage.properties.AccessLogSettings.Format);
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      routeKey: '$context.routeKey',
      connectionId: '$context.connectionId',
      status: '$context.status',
    });
  });

  test('THEN the connections table has TTL on expiresAt, point-in-time recovery, encryption and the byRoom index', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true },
      Replicas: Match.arrayWith([
        Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
      ]),
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byRoom',
          KeySchema: [
            { AttributeName: 'room', KeyType: 'HASH' },
            { AttributeName: 'connectionId', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['userId', 'expiresAt'] },
        },
      ],
    });
    template.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(resourcesOfType('AWS::DynamoDB::GlobalTable')[0].properties.TableName).toBeUndefined();
  });

  test('THEN execute-api:ManageConnections is granted only on the stage\'s POST/@connections/*', () => {
    const manage = allPolicyStatements(template).filter((s) => actionsOf(s).some((a) => a.startsWith('execute-api:')));
    expect(manage.length).toBeGreaterThan(0);
    for (const statement of manage) {
      expect(actionsOf(statement)).toEqual(['execute-api:ManageConnections']);
      const resourceList = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
      for (const resource of resourceList) {
        expect(arnText(resource)).toMatch(/^arn:\{token\}:execute-api:\{token\}:\{token\}:\{token\}\/prod\/POST\/@connections\/\*$/);
      }
    }
  });

  test('THEN no IAM statement allows the action * or a whole service (service:*)', () => {
    const statements = allPolicyStatements(template);
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      for (const action of actionsOf(statement)) {
        expect(action).not.toBe('*');
        expect(action).not.toMatch(/:\*$/);
      }
    }
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
  });

  test('THEN a * resource appears only on the X-Ray write actions, which accept no resource-level permissions', () => {
    const starred = allPolicyStatements(template).filter((s) => JSON.stringify(s.Resource) === '"*"');
    expect(starred.length).toBeGreaterThan(0);
    for (const statement of starred) {
      expect(actionsOf(statement).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    }
  });

  test('THEN every Lambda permission has a SourceArn scoped to one route of the stage or to the authorizer', () => {
    const permissions = resourcesOfType('AWS::Lambda::Permission');
    // one per route plus the authorizer's
    expect(permissions).toHaveLength(resourcesOfType('AWS::ApiGatewayV2::Route').length + 1);
    const scopes = permissions.map((p) => {
      expect(p.properties.Principal).toBe('apigateway.amazonaws.com');
      expect(p.properties.SourceArn).toBeDefined();
      return arnText(p.properties.SourceArn).replace(/^arn:\{token\}:execute-api:\{token\}:\{token\}:\{token\}\//, '');
    });
    expect(scopes.sort()).toEqual(
      ['authorizers/{token}', 'prod/$connect', 'prod/$default', 'prod/$disconnect', 'prod/join', 'prod/leave', 'prod/sendmessage'].sort(),
    );
  });

  test('THEN every function runs nodejs22.x on arm64 with a log group that has retention', () => {
    const functions = resourcesOfType('AWS::Lambda::Function');
    expect(functions).toHaveLength(7); // authorizer, connect, disconnect, default, join, leave, sendmessage
    for (const fn of functions) {
      expect(fn.properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler' });
      const logGroupId = fn.properties.LoggingConfig.LogGroup.Ref;
      expect(resources[logGroupId].Properties.RetentionInDays).toEqual(expect.any(Number));
    }
  });

  test('THEN the authorizer verifies wsgate-example / wsgate-chat tokens with the generated secret, which it may read', () => {
    const [secret] = resourcesOfType('AWS::SecretsManager::Secret');
    expect(secret.properties.GenerateSecretString).toMatchObject({ PasswordLength: 64 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          TOKEN_SOURCE: 'querystring:token',
          JWT_ISSUER: CHAT_TOKEN_ISSUER,
          JWT_AUDIENCE: CHAT_TOKEN_AUDIENCE,
          JWT_SECRET_ARN: { Ref: secret.logicalId },
        },
      },
    });
    const readsSecret = allPolicyStatements(template).filter((s) => JSON.stringify(s.Resource) === JSON.stringify({ Ref: secret.logicalId }));
    expect(readsSecret).toHaveLength(1);
    expect(actionsOf(readsSecret[0])).toEqual(expect.arrayContaining(['secretsmanager:GetSecretValue']));
  });

  test('THEN $default is told the custom route keys (ROUTE_KEYS) and the callback URL', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          ROUTE_KEYS: 'join,leave,sendmessage',
          CALLBACK_URL: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
        }),
      },
    });
  });

  test('THEN the stack outputs the WebSocket URL, the callback URL and the signing secret ARN', () => {
    const outputs = template.toJSON().Outputs;
    expect(arnText(outputs.WebSocketUrl.Value)).toMatch(/^wss:\/\/\{token\}\.execute-api\.\{token\}\.\{token\}\/prod$/);
    expect(arnText(outputs.CallbackUrl.Value)).toMatch(/^https:\/\/\{token\}\.execute-api\.\{token\}\.\{token\}\/prod$/);
    const [secret] = resourcesOfType('AWS::SecretsManager::Secret');
    expect(outputs.SigningSecretArn.Value).toEqual({ Ref: secret.logicalId });
  });

  test('THEN the whole template matches its snapshot (asset hashes replaced)', () => {
    expect(stableTemplateJson(template)).toMatchSnapshot();
  });
});
