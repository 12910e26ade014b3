import { App, Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ChatStack } from '../../../bin/chat-stack';
import { BundledHandler, ConnectionsTable, GatewayDashboard, RouteHandler, TokenSource, WebSocketGateway } from '../../../lib';

/**
 * The stacks the template checkers lint: the example app plus stacks that exercise the other
 * construct options (token in a header, JWKS keys, a given secret, an existing table with a
 * customer-managed key, a user's own function on a two-way route, an API key, custom stage).
 */
export const CHECKED_STACKS = {
  /** The example chat, as `cdk synth` produces it. */
  chat: 'WsgateChat',
  /** Header token, JWKS keys, custom stage name, throttling, TTL, subprotocols, log retention. */
  headerJwks: 'CheckHeaderJwks',
  /** Existing table (with a customer-managed key), given signing secret, user function route, API key. */
  existingTable: 'CheckExistingTable',
  /** A table imported by name from outside the stack, bundled routes only. */
  importedTable: 'CheckImportedTable',
  /** Sharded delivery (queue, dead-letter queue, worker, alarms to a topic), a publisher and the dashboard. */
  sharded: 'CheckSharded',
} as const;

/** Synthesizes every checked stack into `outdir` (template validation on, as in cdk.json). */
export function synthesizeCheckedStacks(outdir: string): void {
  const app = new App({ outdir, context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
  new ChatStack(app, CHECKED_STACKS.chat);
  headerJwksStack(app);
  existingTableStack(app);
  importedTableStack(app);
  shardedStack(app);
  app.synth();
}

function shardedStack(app: App): void {
  const stack = new Stack(app, CHECKED_STACKS.sharded);
  const alarmTopic = new sns.Topic(stack, 'Alarms', { enforceSSL: true, masterKey: kms.Alias.fromAliasName(stack, 'SnsKey', 'alias/aws/sns') });
  const gateway = new WebSocketGateway(stack, 'Gateway', {
    issuer: 'https://issuer.example.com/',
    audience: 'wsgate-check',
    delivery: { shardedAbove: 500, shardSize: 2000, workerConcurrency: 20, alarmTopic },
  });
  gateway.addRoute('sendmessage', { handler: RouteHandler.bundled(BundledHandler.SEND_MESSAGE) });
  new GatewayDashboard(stack, 'Dashboard', { gateway });
}

function headerJwksStack(app: App): void {
  const stack = new Stack(app, CHECKED_STACKS.headerJwks);
  const gateway = new WebSocketGateway(stack, 'Gateway', {
    issuer: 'https://issuer.example.com/',
    audience: 'wsgate-check',
    jwksUrl: 'https://issuer.example.com/.well-known/jwks.json',
    tokenSource: TokenSource.header('Authorization'),
    stageName: 'v1',
    throttlingRateLimit: 50,
    throttlingBurstLimit: 100,
    connectionTtl: Duration.minutes(30),
    subprotocols: ['chat.v1', 'chat.v2'],
    logRetention: logs.RetentionDays.ONE_WEEK,
    accessLogRetention: logs.RetentionDays.THREE_MONTHS,
    memorySize: 512,
    timeout: Duration.seconds(20),
  });
  gateway.addRoute('sendmessage', { handler: RouteHandler.bundled(BundledHandler.SEND_MESSAGE) });
}

function existingTableStack(app: App): void {
  // A table with a customer-managed key needs a region-specific stack.
  const stack = new Stack(app, CHECKED_STACKS.existingTable, { env: { account: '111111111111', region: 'eu-west-1' } });
  const key = new kms.Key(stack, 'TableKey', { enableKeyRotation: true });
  const string = dynamodb.AttributeType.STRING;
  const table = new dynamodb.TableV2(stack, 'Table', {
    partitionKey: { name: 'pk', type: string },
    sortKey: { name: 'sk', type: string },
    encryption: dynamodb.TableEncryptionV2.customerManagedKey(key),
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    timeToLiveAttribute: ConnectionsTable.TTL_ATTRIBUTE,
    globalSecondaryIndexes: [
      {
        indexName: ConnectionsTable.ROOM_INDEX_NAME,
        partitionKey: { name: 'room', type: string },
        sortKey: { name: 'connectionId', type: string },
        projectionType: dynamodb.ProjectionType.INCLUDE,
        nonKeyAttributes: ['userId', ConnectionsTable.TTL_ATTRIBUTE],
      },
    ],
  });
  const signingSecret = new secretsmanager.Secret(stack, 'Secret', {
    generateSecretString: { passwordLength: 48, excludePunctuation: true },
  });
  const gateway = new WebSocketGateway(stack, 'Gateway', {
    issuer: 'check-issuer',
    audience: 'check-audience',
    signingSecret,
    connectionsTable: new ConnectionsTable(stack, 'Connections', { existingTable: table }),
    apiKeyRequired: true,
  });
  const echo = new lambda.Function(stack, 'Echo', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async (e) => ({ statusCode: 200, body: e.body });'),
    logGroup: new logs.LogGroup(stack, 'EchoLogs', { retention: logs.RetentionDays.ONE_WEEK }),
  });
  gateway.grantPostToConnections(echo);
  gateway.addRoute('echo', { handler: RouteHandler.fromFunction(echo), returnResponse: true });
  gateway.addRoute('join', { handler: RouteHandler.bundled(BundledHandler.JOIN) });
}

function importedTableStack(app: App): void {
  const stack = new Stack(app, CHECKED_STACKS.importedTable);
  const table = dynamodb.TableV2.fromTableName(stack, 'Table', 'shared-connections');
  const gateway = new WebSocketGateway(stack, 'Gateway', {
    issuer: 'check-issuer',
    audience: 'check-audience',
    connectionsTable: new ConnectionsTable(stack, 'Connections', { existingTable: table }),
    routeSelectionExpression: '${request.body.service}/${request.body.action}',
  });
  gateway.addRoute('chat/join', { handler: RouteHandler.bundled(BundledHandler.JOIN) });
  gateway.addRoute('chat/leave', { handler: RouteHandler.bundled(BundledHandler.LEAVE) });
  gateway.addRoute('chat/send', { handler: RouteHandler.bundled(BundledHandler.SEND_MESSAGE) });
}
