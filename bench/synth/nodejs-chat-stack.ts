/**
 * Benchmark-only: the example chat's topology (table with the byRoom index, signing secret, REQUEST authorizer,
 * $connect/$disconnect/$default and join/leave/sendmessage, throttled stage with access logs) written with
 * `NodejsFunction`, which runs esbuild on the handler sources at every synth. Never used by lib/.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** The repository root, found from wherever this file was compiled to. */
function repositoryRoot(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'lambda', 'gateway', 'handlers')) && fs.existsSync(path.join(dir, 'package-lock.json'))) return dir;
  }
  throw new Error(`nodejs-chat-stack: no repository root above ${__dirname}`);
}

export class NodejsChatStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const root = repositoryRoot();
    const table = new dynamodb.TableV2(this, 'Connections', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
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
    const secret = new secretsmanager.Secret(this, 'SigningSecret', { generateSecretString: { passwordLength: 48, excludePunctuation: true } });
    const api = new apigwv2.WebSocketApi(this, 'Api', { routeSelectionExpression: '$request.body.action' });
    const callbackUrl = `https://${api.apiId}.execute-api.${this.region}.${this.urlSuffix}/prod`;

    const fn = (name: string, environment: Record<string, string>): nodejs.NodejsFunction => {
      const f = new nodejs.NodejsFunction(this, `${name}Handler`, {
        // The gateway's own handlers live in lambda/gateway/handlers, the chat's in lambda/chat/handlers.
        entry: ['gateway', 'chat'].map((owner) => path.join(root, 'lambda', owner, 'handlers', `${name}.ts`)).find((f) => fs.existsSync(f))!,
        handler: 'handler',
        projectRoot: root,
        depsLockFilePath: path.join(root, 'package-lock.json'),
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: 256,
        timeout: Duration.seconds(10),
        environment,
        logGroup: new logs.LogGroup(this, `${name}Logs`, { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
        loggingFormat: lambda.LoggingFormat.JSON,
        // As scripts/build-handlers.mjs: minified CommonJS, SDK bundled, ES module builds preferred.
        bundling: { minify: true, target: 'node22', format: nodejs.OutputFormat.CJS, mainFields: ['module', 'main'], externalModules: [], sourceMap: false },
      });
      return f;
    };
    const table_ = { CONNECTIONS_TABLE: table.tableName };
    const roomIndex = { ROOM_INDEX: 'byRoom' };
    const callback = { CALLBACK_URL: callbackUrl };
    const authorizerFn = fn('authorizer', {
      TOKEN_SOURCE: 'querystring:token',
      JWT_ISSUER: 'wsgate-example',
      JWT_AUDIENCE: 'wsgate-chat',
      JWT_SECRET_ARN: secret.secretArn,
    });
    secret.grantRead(authorizerFn);
    const connect = fn('connect', { ...table_, CONNECTION_TTL_SECONDS: '7500', SUBPROTOCOLS: '' });
    const disconnect = fn('disconnect', { ...table_, ...roomIndex });
    const fallback = fn('default', { ...table_, ...callback, ROUTE_KEYS: 'join,leave,sendmessage' });
    const routes: Record<string, nodejs.NodejsFunction> = {
      join: fn('join', { ...table_, ...roomIndex, ...callback, CONNECTION_TTL_SECONDS: '7500' }),
      leave: fn('leave', { ...table_, ...roomIndex, ...callback }),
      sendmessage: fn('sendmessage', { ...table_, ...roomIndex, ...callback, FANOUT_CONCURRENCY: '20' }),
    };
    table.grantReadWriteData(connect);
    table.grantReadWriteData(disconnect);
    table.grantReadWriteData(fallback);

    const authorizer = new WebSocketLambdaAuthorizer('Authorizer', authorizerFn, { identitySource: ['route.request.querystring.token'] });
    api.addRoute('$connect', { integration: new WebSocketLambdaIntegration('ConnectIntegration', connect), authorizer });
    api.addRoute('$disconnect', { integration: new WebSocketLambdaIntegration('DisconnectIntegration', disconnect) });
    api.addRoute('$default', { integration: new WebSocketLambdaIntegration('DefaultIntegration', fallback) });
    for (const [key, handler] of Object.entries(routes)) {
      api.addRoute(key, { integration: new WebSocketLambdaIntegration(`${key}Integration`, handler) });
      table.grantReadWriteData(handler);
    }
    const stage = new apigwv2.WebSocketStage(this, 'Stage', {
      webSocketApi: api,
      stageName: 'prod',
      autoDeploy: true,
      throttle: { rateLimit: 500, burstLimit: 1000 },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY })),
      },
    });
    for (const handler of [fallback, ...Object.values(routes)]) stage.grantManagementApiAccess(handler);
  }
}
