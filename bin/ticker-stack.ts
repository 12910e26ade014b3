import * as path from 'path';
import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BundledHandler, RouteHandler, WebSocketGateway } from '../lib';
import { CHAT_TOKEN_AUDIENCE, CHAT_TOKEN_ISSUER } from './chat-stack';

/** The room the publisher sends to (its TICKER_ROOM); clients subscribe with `{"action":"join","data":{"room":"ticker"}}`. */
export const TICKER_ROOM = 'ticker';

/** Where `npm run build:handlers` puts the publisher's bundle (from lambda/ticker/handlers/publisher.ts). */
export const TICKER_PUBLISHER_ASSET = path.join(__dirname, '..', 'assets', 'examples', 'ticker-publisher');

/**
 * The ticker example: publishing from the backend. Clients join the `ticker` room over the WebSocket API
 * (the bundled join/leave routes); every minute an EventBridge schedule runs a function that is on no route
 * and sends a tick to the room through `wsgate/runtime`.
 */
export class TickerStack extends Stack {
  public readonly gateway: WebSocketGateway;
  public readonly publisher: lambda.Function;
  public readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.gateway = new WebSocketGateway(this, 'Ticker', {
      issuer: CHAT_TOKEN_ISSUER,
      audience: CHAT_TOKEN_AUDIENCE,
    });
    this.gateway.addRoute('join', { handler: RouteHandler.bundled(BundledHandler.JOIN) });
    this.gateway.addRoute('leave', { handler: RouteHandler.bundled(BundledHandler.LEAVE) });

    // Failed asynchronous invocations and undeliverable schedule events end up here.
    const deadLetters = new sqs.Queue(this, 'PublisherDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.DESTROY,
    });

    Validations.of(deadLetters).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason: 'This queue is itself the dead-letter queue of the publisher and its schedule; nothing consumes it to fail again.',
    });

    const logGroup = new logs.LogGroup(this, 'PublisherLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, 'PublisherRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'wsgate ticker example: the scheduled publisher',
    });
    logGroup.grantWrite(role);
    this.publisher = new lambda.Function(this, 'Publisher', {
      code: lambda.Code.fromAsset(TICKER_PUBLISHER_ASSET),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(30),
      environment: { TICKER_ROOM },
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      deadLetterQueue: deadLetters,
      role,
    });
    this.gateway.addPublisher(this.publisher);

    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'wsgate ticker example: one tick a minute',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.publisher, {
        deadLetterQueue: deadLetters,
        retryAttempts: 2,
        maxEventAge: Duration.minutes(2),
      })],
    });

    const runtimeReason =
      'The publisher is bundled by esbuild for target node22, like the gateway handlers; the runtime is pinned ' +
      'to nodejs22.x to match the bundle.';
    Validations.of(this.publisher).acknowledge({ id: 'AwsSolutions-L1', reason: runtimeReason });
    Validations.of(this.publisher).acknowledge({ id: 'Serverless-LambdaLatestVersion', reason: runtimeReason });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Active tracing grants xray:PutTraceSegments and xray:PutTelemetryRecords, which accept no resource-level permissions.',
    });

    new CfnOutput(this, 'WebSocketUrl', {
      description: 'Where ticker clients connect (add ?token=<JWT>), then send {"action":"join","data":{"room":"ticker"}}',
      value: this.gateway.webSocketUrl,
    });
    new CfnOutput(this, 'PublisherName', {
      description: 'The scheduled publisher function',
      value: this.publisher.functionName,
    });
  }
}
