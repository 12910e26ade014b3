import { Duration, Lazy, RemovalPolicy, Stack, Tokenization } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { BundledHandler } from './bundled-handler';
import { ConnectionsTable } from './connections-table';
import { HandlerFunction, HandlerFunctionOptions } from './handler-function';
import { JwtAuthorizer, JwtAuthorizerOptions } from './jwt-authorizer';
import { RouteHandler } from './route-handler';
import {
  acknowledgeManageConnectionsWildcard,
  acknowledgeRouteWithoutAuthorizer,
} from './nag-acknowledgements';
import { RouteScopedLambdaIntegration } from './route-integration';
import {
  RESERVED_ROUTE_KEYS,
  validateCustomRouteKey,
  validateFanoutConcurrency,
  validateRouteSelectionExpression,
  validateStageName,
} from './validation';

/** PostToConnection calls the sendmessage handler makes at once unless `fanoutConcurrency` says otherwise. */
const DEFAULT_FANOUT_CONCURRENCY = 20;

/** Options of a custom route; used by `WebSocketGateway.addRoute`. */
export interface GatewayRouteOptions {
  /** What runs when the route is selected. */
  readonly handler: RouteHandler;

  /**
   * Send the integration's response `body` back to the client (a two-way route, spec §3.1).
   *
   * @default false - one-way: the handler answers through the `@connections` API if at all
   */
  readonly returnResponse?: boolean;
}

/** Properties of a {@link WebSocketGateway}. */
export interface WebSocketGatewayProps extends JwtAuthorizerOptions, HandlerFunctionOptions {
  /**
   * Name of the API.
   *
   * @default - the construct's id
   */
  readonly apiName?: string;

  /**
   * How API Gateway picks the route of an incoming message (spec §3): `$request.body.<path>`,
   * `${request.body.<path>}`, static text and `\$`, possibly mixed. Checked at synth.
   *
   * @default '$request.body.action'
   */
  readonly routeSelectionExpression?: string;

  /**
   * Name of the stage, the last segment of the WebSocket URL.
   *
   * @default 'prod'
   */
  readonly stageName?: string;

  /**
   * Steady-state request rate allowed on every route of the stage, per second.
   *
   * @default 500 - messages per second across all connections, then API Gateway answers 429
   */
  readonly throttlingRateLimit?: number;

  /**
   * Burst of requests allowed on every route of the stage above the rate limit.
   *
   * @default 1000
   */
  readonly throttlingBurstLimit?: number;

  /**
   * How long the stage's JSON access logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly accessLogRetention?: logs.RetentionDays;

  /**
   * The connections table to record connections and memberships in.
   *
   * @default - a new `ConnectionsTable` with its defaults (removal policy RETAIN)
   */
  readonly connectionsTable?: ConnectionsTable;

  /**
   * Require an API key (header `x-api-key`) on `$connect`, in addition to the token.
   * You create the usage plan and keys.
   *
   * @default false - no API key is required
   */
  readonly apiKeyRequired?: boolean;

  /**
   * Subprotocols `$connect` accepts (`Sec-WebSocket-Protocol`, spec §2.3).
   *
   * @default - none: a client offering a subprotocol is refused
   */
  readonly subprotocols?: string[];

  /**
   * Lifetime written into the TTL attribute of connection and membership items. No connection
   * outlives 2 hours (spec §6).
   *
   * @default Duration.seconds(7500) - 2 hours and 5 minutes
   */
  readonly connectionTtl?: Duration;

  /**
   * The most `PostToConnection` calls the bundled `sendmessage` handler makes at once when it fans a message
   * out to a room (`FANOUT_CONCURRENCY`). Higher finishes large rooms sooner within the function timeout, at the
   * cost of more open sockets and more 429 throttling from the `@connections` API. A whole number from 1 to 1000,
   * checked at synth (tokens are not checked).
   *
   * @default 20
   */
  readonly fanoutConcurrency?: number;
}

/**
 * An API Gateway WebSocket API with a JWT-authorized `$connect`, connection tracking in DynamoDB,
 * `$disconnect` and `$default` handlers, and custom routes added with `addRoute`.
 */
export class WebSocketGateway extends Construct {
  /** The WebSocket API. */
  public readonly api: apigwv2.WebSocketApi;
  /** The stage (auto-deployed, throttled, with JSON access logs). */
  public readonly stage: apigwv2.WebSocketStage;
  /** The connections table. */
  public readonly table: ConnectionsTable;
  /** The `$connect` authorizer. */
  public readonly authorizer: JwtAuthorizer;
  /** The HS256 signing key secret (given or generated); undefined when tokens are checked against a JWKS URL. */
  public readonly signingSecret?: secretsmanager.ISecret;
  /** The log group of the stage's access logs. */
  public readonly accessLogGroup: logs.LogGroup;
  /** `wss://…/<stage>`: where clients connect. */
  public readonly webSocketUrl: string;
  /** `https://…/<stage>`: the `@connections` endpoint for posting to clients. */
  public readonly callbackUrl: string;

  private readonly props: WebSocketGatewayProps;
  private readonly stageName: string;
  private readonly routeKeys: string[] = [...RESERVED_ROUTE_KEYS];
  private readonly bundledFunctions = new Map<BundledHandler, lambda.IFunction>();

  constructor(scope: Construct, id: string, props: WebSocketGatewayProps) {
    super(scope, id);
    this.props = props;
    const routeSelectionExpression = props.routeSelectionExpression ?? '$request.body.action';
    validateRouteSelectionExpression(routeSelectionExpression);
    this.stageName = props.stageName ?? 'prod';
    validateStageName(this.stageName);
    if (props.fanoutConcurrency !== undefined) validateFanoutConcurrency(props.fanoutConcurrency);

    this.table = props.connectionsTable ?? new ConnectionsTable(this, 'Connections');
    this.authorizer = new JwtAuthorizer(this, 'Authorizer', props);
    this.signingSecret = this.authorizer.signingSecret;

    this.api = new apigwv2.WebSocketApi(this, 'Api', {
      apiName: props.apiName ?? id,
      routeSelectionExpression,
      apiKeySelectionExpression: props.apiKeyRequired
        ? apigwv2.WebSocketApiKeySelectionExpression.HEADER_X_API_KEY
        : undefined,
    });

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new apigwv2.WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: this.stageName,
      autoDeploy: true,
      throttle: {
        rateLimit: props.throttlingRateLimit ?? 500,
        burstLimit: props.throttlingBurstLimit ?? 1000,
      },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogGroup),
        format: jsonAccessLogFormat(),
      },
    });
    this.webSocketUrl = this.stage.url;
    this.callbackUrl = this.stage.callbackUrl;

    this.addReservedRoutes();
  }

  /**
   * The function the gateway created for a bundled handler, to grant it more or add alarms.
   * Undefined when no route uses that handler.
   */
  public bundledFunction(handler: BundledHandler): lambda.IFunction | undefined {
    return this.bundledFunctions.get(handler);
  }

  /**
   * Adds a custom route. The key is checked at synth: not empty, at most 128 characters, not starting
   * with `$`, not already used, and at most 300 routes per API.
   */
  public addRoute(routeKey: string, options: GatewayRouteOptions): apigwv2.WebSocketRoute {
    validateCustomRouteKey(routeKey, this.routeKeys);
    this.routeKeys.push(routeKey);
    const fn = options.handler.userFunction ?? this.functionFor(options.handler.bundledHandler!);
    return this.createRoute(routeKey, fn, { returnResponse: options.returnResponse });
  }

  /**
   * Allows `grantee` to post to, read and close connections of this stage:
   * `execute-api:ManageConnections` on `<api>/<stage>/POST/@connections/*` only.
   */
  public grantPostToConnections(grantee: iam.IGrantable): iam.Grant {
    const connectionsArn = Stack.of(this).formatArn({
      service: 'execute-api',
      resource: this.api.apiId,
      resourceName: `${this.stageName}/POST/@connections/*`,
    });
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:ManageConnections'],
      resourceArns: [connectionsArn],
    });
  }

  /** Lets a bundled handler post to clients; the connection-id wildcard is acknowledged for it. */
  private grantBundledHandlerPost(fn: lambda.IFunction): void {
    this.grantPostToConnections(fn);
    acknowledgeManageConnectionsWildcard(fn.node.scope ?? fn, this.postToConnectionsFinding());
  }

  /** How cdk-nag names the ManageConnections resource in its IAM5 finding. */
  private postToConnectionsFinding(): string {
    const apiLogicalId = Stack.of(this).getLogicalId(this.api.node.defaultChild as apigwv2.CfnApi);
    return `arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiLogicalId}>/${this.stageName}/POST/@connections/*`;
  }

  /** The custom route keys, for the `$default` handler's error frame. */
  private get customRouteKeys(): string[] {
    return this.routeKeys.filter((key) => !RESERVED_ROUTE_KEYS.includes(key));
  }

  private addReservedRoutes(): void {
    const connect = this.functionFor(BundledHandler.CONNECT);
    this.createRoute('$connect', connect, {
      authorizer: this.authorizer.routeAuthorizer,
      apiKeyRequired: this.props.apiKeyRequired,
    });
    this.createRoute('$disconnect', this.functionFor(BundledHandler.DISCONNECT), {});
    this.createRoute('$default', this.functionFor(BundledHandler.DEFAULT), {});
  }

  private createRoute(
    routeKey: string,
    fn: lambda.IFunction,
    options: { authorizer?: apigwv2.IWebSocketRouteAuthorizer; apiKeyRequired?: boolean; returnResponse?: boolean },
  ): apigwv2.WebSocketRoute {
    const route = new apigwv2.WebSocketRoute(this, `Route${routeKey}`, {
      webSocketApi: this.api,
      routeKey,
      integration: new RouteScopedLambdaIntegration('Integration', fn, this.stageName),
      ...options,
    });
    if (!options.authorizer) acknowledgeRouteWithoutAuthorizer(route);
    return route;
  }

  /** The function of a bundled handler: created on first use with its environment and grants. */
  private functionFor(handler: BundledHandler): lambda.IFunction {
    const existing = this.bundledFunctions.get(handler);
    if (existing) return existing;
    const fn = new HandlerFunction(this, `${handlerConstructId(handler)}Handler`, {
      handler,
      memorySize: this.props.memorySize,
      timeout: this.props.timeout,
      logRetention: this.props.logRetention,
      tracing: this.props.tracing,
      environment: this.environmentFor(handler),
    }).function;
    this.grantFor(handler, fn);
    this.bundledFunctions.set(handler, fn);
    return fn;
  }

  /** Environment variables exactly as CONTRIBUTING.md "Environment variables" lists them per handler. */
  private environmentFor(handler: BundledHandler): { [name: string]: string } {
    const table = { CONNECTIONS_TABLE: this.table.tableName };
    const roomIndex = { ROOM_INDEX: this.table.roomIndexName };
    const callback = { CALLBACK_URL: this.callbackUrl };
    const ttl = { CONNECTION_TTL_SECONDS: String((this.props.connectionTtl ?? Duration.seconds(7500)).toSeconds()) };
    switch (handler) {
      case BundledHandler.CONNECT:
        return { ...table, ...ttl, SUBPROTOCOLS: (this.props.subprotocols ?? []).join(',') };
      case BundledHandler.DISCONNECT:
        return { ...table, ...roomIndex };
      case BundledHandler.DEFAULT:
        return {
          ...table,
          ...callback,
          ROUTE_KEYS: Lazy.string({ produce: () => this.customRouteKeys.join(',') }),
        };
      case BundledHandler.JOIN:
        return { ...table, ...roomIndex, ...callback, ...ttl };
      case BundledHandler.LEAVE:
        return { ...table, ...roomIndex, ...callback };
      case BundledHandler.SEND_MESSAGE:
        return { ...table, ...roomIndex, ...callback, FANOUT_CONCURRENCY: Tokenization.stringifyNumber(this.props.fanoutConcurrency ?? DEFAULT_FANOUT_CONCURRENCY) };
      default:
        throw new Error(`wsgate: no environment is defined for the bundled '${handler.name}' handler.`);
    }
  }

  /** Least privilege per bundled handler. Every handler that posts may delete a gone connection (410). */
  private grantFor(handler: BundledHandler, fn: lambda.IFunction): void {
    switch (handler) {
      case BundledHandler.CONNECT:
        this.table.grantWriteConnection(fn);
        return;
      case BundledHandler.DISCONNECT:
        this.table.grantRemoveConnection(fn);
        return;
      case BundledHandler.DEFAULT:
        this.table.grantRemoveConnection(fn);
        this.grantBundledHandlerPost(fn);
        return;
      case BundledHandler.JOIN:
      case BundledHandler.LEAVE:
        this.table.grantManageMemberships(fn);
        this.table.grantRemoveConnection(fn);
        this.grantBundledHandlerPost(fn);
        return;
      case BundledHandler.SEND_MESSAGE:
        this.table.grantReadConnections(fn);
        this.table.grantRemoveConnection(fn);
        this.grantBundledHandlerPost(fn);
        return;
      default:
        throw new Error(`wsgate: no permissions are defined for the bundled '${handler.name}' handler.`);
    }
  }
}

function handlerConstructId(handler: BundledHandler): string {
  return handler.name.charAt(0).toUpperCase() + handler.name.slice(1);
}

/** JSON access log lines with the WebSocket `$context` variables (spec §10 D12). */
function jsonAccessLogFormat(): apigateway.AccessLogFormat {
  return apigateway.AccessLogFormat.custom(
    JSON.stringify({
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
    }),
  );
}
