/**
 * Benchmark-only: the example chat's topology hand-written with aws-cdk-lib L2 constructs and prebuilt assets,
 * as a team would write it without wsgate: the connections table with its byRoom index, the signing secret, a
 * REQUEST authorizer, `$connect`/`$disconnect`/`$default` and join/leave/sendmessage as `lambda.Function`s
 * whose code is the same prebuilt bundles (assets/handlers/<name>), JSON logging to a log group per function,
 * X-Ray tracing, per-function grants, and a throttled stage with access logs. It is the baseline of the synth
 * benchmark's "abstraction cost" ratio. Never used by lib/.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** The repository root (holding assets/handlers), found from wherever this file was compiled to. */
function repositoryRoot(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'assets', 'handlers')) && fs.existsSync(path.join(dir, 'package-lock.json'))) return dir;
  }
  throw new Error(`l2-chat-stack: no repository root with assets/handlers above ${__dirname} (run npm run build:handlers)`);
}

const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  requestTime: '$context.requestTime',
  eventType: '$context.eventType',
  routeKey: '$context.routeKey',
  status: '$context.status',
  connectionId: '$context.connectionId',
  sourceIp: '$context.identity.sourceIp',
  principalId: '$context.authorizer.principalId',
  integrationLatency: '$context.integrationLatency',
  error: '$context.error.message',
  integrationError: '$context.integration.error',
});

export class L2ChatStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const assets = path.join(repositoryRoot(), 'assets', 'handlers');
    const table = new dynamodb.TableV2(this, 'Connections', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: RemovalPolicy.RETAIN,
      globalSecondaryIndexes: [
        {
          indexName: 'byRoom',
          partitionKey: { name: 'room', type: dynamodb.AttributeType.STRING },
          sortKey: { name: 'connectionId', type: dynamodb.AttributeType.STRING },
          projectionType: dynamodb.ProjectionType.INCLUDE,
          nonKeyAttributes: ['userId', 'expiresAt'],
        },
      ],
    });
    const secret = new secretsmanager.Secret(this, 'SigningSecret', {
      description: 'HS256 key that signs and verifies WebSocket connection tokens',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    const api = new apigwv2.WebSocketApi(this, 'Api', { apiName: 'Chat', routeSelectionExpression: '$request.body.action' });
    const stageName = 'prod';
    const callbackUrl = `https://${api.apiId}.execute-api.${this.region}.${this.urlSuffix}/${stageName}`;

    const fn = (name: string, environment: Record<string, string>): lambda.Function =>
      new lambda.Function(this, `${name}Handler`, {
        code: lambda.Code.fromAsset(path.join(assets, name)),
        handler: 'index.handler',
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: 256,
        timeout: Duration.seconds(10),
        tracing: lambda.Tracing.ACTIVE,
        environment,
        logGroup: new logs.LogGroup(this, `${name}Logs`, { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
        loggingFormat: lambda.LoggingFormat.JSON,
      });
    const tableEnv = { CONNECTIONS_TABLE: table.tableName };
    const roomIndex = { ROOM_INDEX: 'byRoom' };
    const callback = { CALLBACK_URL: callbackUrl };
    const authorizerFn = fn('authorizer', {
      TOKEN_SOURCE: 'querystring:token',
      JWT_ISSUER: 'wsgate-example',
      JWT_AUDIENCE: 'wsgate-chat',
      JWT_SECRET_ARN: secret.secretArn,
    });
    secret.grantRead(authorizerFn);
    const connect = fn('connect', { ...tableEnv, CONNECTION_TTL_SECONDS: '7500', SUBPROTOCOLS: '' });
    const disconnect = fn('disconnect', { ...tableEnv, ...roomIndex });
    const fallback = fn('default', { ...tableEnv, ...callback, ROUTE_KEYS: 'join,leave,sendmessage' });
    const join = fn('join', { ...tableEnv, ...roomIndex, ...callback, CONNECTION_TTL_SECONDS: '7500' });
    const leave = fn('leave', { ...tableEnv, ...roomIndex, ...callback });
    const send = fn('sendmessage', { ...tableEnv, ...roomIndex, ...callback, FANOUT_CONCURRENCY: '20' });

    // Least privilege per function, as the example's grants: what each handler calls, nothing more.
    const removesConnections = ['dynamodb:Query', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
    table.grant(connect, 'dynamodb:PutItem');
    table.grant(disconnect, ...removesConnections);
    table.grant(fallback, ...removesConnections);
    for (const f of [join, leave]) table.grant(f, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', ...removesConnections);
    table.grant(send, 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan', ...removesConnections);
    for (const f of [join, leave, send]) {
      f.addToRolePolicy(new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${table.tableArn}/index/byRoom`],
      }));
    }

    const authorizer = new WebSocketLambdaAuthorizer('Authorizer', authorizerFn, { identitySource: ['route.request.querystring.token'] });
    api.addRoute('$connect', { integration: new WebSocketLambdaIntegration('ConnectIntegration', connect), authorizer });
    api.addRoute('$disconnect', { integration: new WebSocketLambdaIntegration('DisconnectIntegration', disconnect) });
    api.addRoute('$default', { integration: new WebSocketLambdaIntegration('DefaultIntegration', fallback) });
    for (const [key, handler] of Object.entries({ join, leave, sendmessage: send })) {
      api.addRoute(key, { integration: new WebSocketLambdaIntegration(`${key}Integration`, handler) });
    }
    const stage = new apigwv2.WebSocketStage(this, 'Stage', {
      webSocketApi: api,
      stageName,
      autoDeploy: true,
      throttle: { rateLimit: 500, burstLimit: 1000 },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY })),
        format: apigateway.AccessLogFormat.custom(ACCESS_LOG_FORMAT),
      },
    });
    for (const handler of [fallback, join, leave, send]) stage.grantManagementApiAccess(handler);
  }
}
