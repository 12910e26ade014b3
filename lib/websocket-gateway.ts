import { Annotations, Duration, Lazy, RemovalPolicy, Stack, Token, Tokenization } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as apigwv2authorizers from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53targets from 'aws-cdk-lib/aws-route53-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IConstruct } from 'constructs';
import { ENV, LIMITS } from '../contract/gateway-contract';
import { BundledHandler, bundledHandlerDescriptor, GatewaySetting, RESERVED_ROUTE_HANDLERS } from './bundled-handler';
import { ConnectAuthorization } from './connect-authorization';
import { GatewayPermission } from './gateway-permission';
import { ConnectionsTable } from './connections-table';
import { DeliveryOptions, ShardedDelivery } from './delivery';
import { HandlerFunction, HandlerFunctionOptions } from './handler-function';
import { JwtAuthorizer, JwtVerificationOptions } from './jwt-authorizer';
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

/** The settings every user function wired to the gateway gets: what `wsgate/runtime` reads. */
const RUNTIME_SETTINGS: readonly GatewaySetting[] = ['tableName', 'roomIndex', 'callbackUrl', 'connectionTtlSeconds', 'fanoutConcurrency'];

/** The settings of sharded delivery, added to the functions that send when the gateway's `delivery` is set. */
const DELIVERY_SETTINGS: readonly GatewaySetting[] = ['deliveryQueueUrl', 'shardedAbove', 'shardSize'];

/** Which gateway set a function's runtime variables (weak: nothing outlives its app). */
const WIRED_FUNCTIONS = new WeakMap<lambda.Function, WebSocketGateway>();

/** Grants in the order they are applied, whatever order the permissions were given in. */
const PERMISSION_ORDER: readonly GatewayPermission[] = [
  GatewayPermission.RECORD_CONNECTIONS,
  GatewayPermission.MANAGE_ROOMS,
  GatewayPermission.READ_CONNECTIONS,
  GatewayPermission.REMOVE_CONNECTIONS,
  GatewayPermission.POST_TO_CONNECTIONS,
  GatewayPermission.CLOSE_CONNECTIONS,
];

/** A custom domain for the WebSocket API. */
export interface GatewayDomainOptions {
  /** The domain clients connect to, e.g. `ws.example.com`. */
  readonly domainName: string;

  /** An ACM certificate for `domainName`, in the stack's region: WebSocket APIs have regional custom domains only. */
  readonly certificate: acm.ICertificate;

  /**
   * A Route 53 hosted zone in which to create the alias `A` record of `domainName`.
   *
   * @default - no DNS record: point `domainName` at the API's regional domain name yourself
   */
  readonly hostedZone?: route53.IHostedZone;

  /**
   * The path under the domain the stage is mapped to: one path segment of at most 300 letters, digits and
   * `$-_.+!*'()`, e.g. `v1`. Clients connect to `wss://<domainName>/<basePath>`.
   *
   * @default - the stage is mapped to the root of the domain: `wss://<domainName>`
   */
  readonly basePath?: string;
}

/** Options of a custom route; used by `WebSocketGateway.addRoute`. */
export interface GatewayRouteOptions {
  /** What runs when the route is selected. */
  readonly handler: RouteHandler;

  /**
   * Send the integration's response `body` back to the client (a two-way route).
   *
   * @default false - one-way: the handler answers through the `@connections` API if at all
   */
  readonly returnResponse?: boolean;
}

/** Properties of a {@link WebSocketGateway}. */
export interface WebSocketGatewayProps extends JwtVerificationOptions, HandlerFunctionOptions {
  /**
   * How `$connect` is authorized: a JWT checked by the bundled Lambda authorizer, or AWS IAM (SigV4-signed
   * upgrade requests, allowed by `grantConnect`). With `ConnectAuthorization.iam()`, leave out `issuer`,
   * `audience`, `jwksUrl`, `signingSecret` and `tokenSource`: they configure the JWT authorizer.
   *
   * @default ConnectAuthorization.jwt() - the bundled JWT authorizer, configured by `issuer` and `audience`
   */
  readonly connectAuthorization?: ConnectAuthorization;

  /**
   * The `iss` claim a token must carry. Required with JWT authorization (the default).
   *
   * @default - none: allowed only with `ConnectAuthorization.iam()`
   */
  readonly issuer?: string;

  /**
   * The `aud` claim a token must carry. Required with JWT authorization (the default).
   *
   * @default - none: allowed only with `ConnectAuthorization.iam()`
   */
  readonly audience?: string;

  /**
   * Name of the API.
   *
   * @default - the construct's id
   */
  readonly apiName?: string;

  /**
   * How API Gateway picks the route of an incoming message: `$request.body.<path>`,
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
   * Subprotocols `$connect` accepts (`Sec-WebSocket-Protocol`). Only the bundled `$connect` handler reads
   * them; with your own `connectHandler`, echo the subprotocol yourself.
   *
   * @default - none: a client offering a subprotocol is refused
   */
  readonly subprotocols?: string[];

  /**
   * Lifetime written into the TTL attribute of connection and membership items. No connection
   * outlives 2 hours: API Gateway closes it.
   *
   * @default Duration.seconds(7500) - 2 hours and 5 minutes
   */
  readonly connectionTtl?: Duration;

  /**
   * The most `PostToConnection` calls the bundled `sendmessage` handler (and `sendToRoom`/`broadcast` of
   * `wsgate/runtime` in your functions) makes at once when it fans a message out (`FANOUT_CONCURRENCY`). Higher finishes large rooms sooner within the function timeout, at the
   * cost of more open sockets and more 429 throttling from the `@connections` API. A whole number from 1 to 1000,
   * checked at synth (tokens are not checked).
   *
   * @default 20
   */
  readonly fanoutConcurrency?: number;

  /**
   * What runs on `$connect`, after the authorizer allowed the connection. Your own function records the
   * connection itself (`recordConnection` from `wsgate/runtime`, permission `RECORD_CONNECTIONS`).
   *
   * @default RouteHandler.bundled(BundledHandler.CONNECT) - records the connection and negotiates the subprotocol
   */
  readonly connectHandler?: RouteHandler;

  /**
   * What runs on `$disconnect`. Your own function removes the connection itself (`removeConnection`,
   * permission `REMOVE_CONNECTIONS`).
   *
   * @default RouteHandler.bundled(BundledHandler.DISCONNECT) - removes the connection and its room memberships
   */
  readonly disconnectHandler?: RouteHandler;

  /**
   * What runs when no route matches a message.
   *
   * @default RouteHandler.bundled(BundledHandler.DEFAULT) - answers with an error frame naming the routes that exist
   */
  readonly defaultHandler?: RouteHandler;

  /**
   * A custom domain for the API: creates the domain, maps the stage to it (and an alias record when a hosted
   * zone is given), and makes `webSocketUrl` the domain's URL. `callbackUrl` stays the stage's
   * `execute-api` endpoint, which keeps accepting `@connections` calls next to the custom domain.
   *
   * @default - no custom domain: clients connect to the `execute-api` URL of the stage
   */
  readonly domainName?: GatewayDomainOptions;

  /**
   * Sharded delivery for large audiences: room sends and broadcasts (of the bundled `sendmessage` handler and
   * of `wsgate/runtime` in your route handlers and publishers) to more than `shardedAbove` recipients are
   * enqueued on an SQS queue as one message per shard, and a delivery worker function posts each shard.
   * Creates the queue, a dead-letter queue, the worker and (unless turned off) alarms.
   *
   * @default - no sharded delivery: every send is posted by the function that sends it
   */
  readonly delivery?: DeliveryOptions;
}

/**
 * An API Gateway WebSocket API with a JWT- or IAM-authorized `$connect`, connection tracking in DynamoDB,
 * `$connect`, `$disconnect` and `$default` handlers (bundled or your own), custom routes added with
 * `addRoute`, and grants for functions that publish to connections from elsewhere (`addPublisher`).
 */
export class WebSocketGateway extends Construct {
  /** The WebSocket API. */
  public readonly api: apigwv2.WebSocketApi;
  /** The stage (auto-deployed, throttled, with JSON access logs). */
  public readonly stage: apigwv2.WebSocketStage;
  /** The connections table. */
  public readonly table: ConnectionsTable;
  /** The `$connect` JWT authorizer (undefined with `ConnectAuthorization.iam()`). */
  public readonly authorizer?: JwtAuthorizer;
  /** The HS256 signing key secret (given or generated); undefined when tokens are checked against a JWKS URL. */
  public readonly signingSecret?: secretsmanager.ISecret;
  /** The log group of the stage's access logs. */
  public readonly accessLogGroup: logs.LogGroup;
  /**
   * Where clients connect: `wss://<api>.execute-api.<region>.<suffix>/<stage>`, or with `domainName`,
   * `wss://<domainName>` (`wss://<domainName>/<basePath>` with a base path).
   */
  public readonly webSocketUrl: string;
  /**
   * `https://<api>.execute-api.<region>.<suffix>/<stage>`: the `@connections` endpoint for posting to
   * clients. It stays the stage's own endpoint with a custom domain too: that endpoint keeps serving
   * `@connections` and is what the IAM grants are scoped to.
   */
  public readonly callbackUrl: string;
  /** The custom domain, when `domainName` is set. */
  public readonly customDomain?: apigwv2.DomainName;
  /** The mapping of the stage to the custom domain, when `domainName` is set. */
  public readonly apiMapping?: apigwv2.ApiMapping;
  /** The delivery queue, worker and alarms, when `delivery` is set. */
  public readonly delivery?: ShardedDelivery;

  private readonly props: WebSocketGatewayProps;
  private readonly connectAuthorization: ConnectAuthorization;
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
    if (props.domainName) this.validateDomain(props.domainName);

    this.table = props.connectionsTable ?? new ConnectionsTable(this, 'Connections');
    this.connectAuthorization = props.connectAuthorization ?? ConnectAuthorization.jwt();
    if (this.usesIam) {
      this.validateIamProps(props);
    } else {
      if (props.issuer === undefined || props.audience === undefined) {
        throw new Error(
          `${this.node.path}: ${props.issuer === undefined ? 'issuer' : 'audience'} is required: $connect is authorized by ` +
            'the bundled JWT authorizer (the default), which checks the token\'s iss and aud. Give issuer and audience, ' +
            'or set connectAuthorization: ConnectAuthorization.iam() for SigV4-signed connections.',
        );
      }
      this.authorizer = new JwtAuthorizer(this, 'Authorizer', { ...props, issuer: props.issuer, audience: props.audience });
      this.signingSecret = this.authorizer.signingSecret;
    }

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

    if (props.domainName) {
      const domain = props.domainName;
      this.customDomain = new apigwv2.DomainName(this, 'Domain', {
        domainName: domain.domainName,
        certificate: domain.certificate,
      });
      this.apiMapping = new apigwv2.ApiMapping(this, 'DomainMapping', {
        api: this.api,
        domainName: this.customDomain,
        stage: this.stage,
        apiMappingKey: domain.basePath,
      });
      if (domain.hostedZone) {
        new route53.ARecord(this, 'DomainAlias', {
          zone: domain.hostedZone,
          recordName: domain.domainName,
          target: route53.RecordTarget.fromAlias(
            new route53targets.ApiGatewayv2DomainProperties(
              this.customDomain.regionalDomainName,
              this.customDomain.regionalHostedZoneId,
            ),
          ),
        });
      }
      this.webSocketUrl = domain.basePath === undefined
        ? `wss://${domain.domainName}`
        : `wss://${domain.domainName}/${domain.basePath}`;
    }

    if (props.delivery) this.delivery = this.createDelivery(props.delivery);
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
    const bundled = options.handler.bundledHandler;
    if (bundled && RESERVED_ROUTE_HANDLERS.has(bundled)) {
      throw new Error(
        `${this.node.path}: cannot add route '${routeKey}': the bundled '${bundled.name}' handler serves only ` +
          `${RESERVED_ROUTE_HANDLERS.get(bundled)}, it cannot be used for a custom route. ` +
          'Set connectHandler / disconnectHandler to change what runs on $connect / $disconnect.',
      );
    }
    this.routeKeys.push(routeKey);
    const fn = this.routeFunction(options.handler);
    return this.createRoute(routeKey, fn, { returnResponse: options.returnResponse });
  }

  /**
   * Lets `fn` publish to this gateway's connections from code that is not a route handler (a scheduled job,
   * a queue consumer, an HTTP API): sets the environment variables `wsgate/runtime` reads (connections
   * table, room index, callback URL, connection TTL, fan-out concurrency) and grants `grantPublish`.
   */
  public addPublisher(fn: lambda.Function): iam.Grant {
    this.setRuntimeEnvironment(fn);
    const grant = this.grantPublish(fn);
    return this.delivery ? grant.combine(this.delivery.grantEnqueue(fn)) : grant;
  }

  /**
   * Allows `grantee` to send to one connection, a room or every connection: read connections and room
   * members (`READ_CONNECTIONS`), post to this stage's connections and remove the ones that are gone
   * (`POST_TO_CONNECTIONS`).
   */
  public grantPublish(grantee: iam.IGrantable): iam.Grant {
    return this.grant(grantee, GatewayPermission.READ_CONNECTIONS, GatewayPermission.POST_TO_CONNECTIONS);
  }

  /**
   * Grants `grantee` the given permissions on this gateway's connections table and stage, each as narrow
   * as `GatewayPermission` describes it.
   */
  public grant(grantee: iam.IGrantable, ...permissions: GatewayPermission[]): iam.Grant {
    const wanted = new Set(permissions);
    if (wanted.has(GatewayPermission.POST_TO_CONNECTIONS)) wanted.add(GatewayPermission.REMOVE_CONNECTIONS);
    let result: iam.Grant | undefined;
    for (const permission of PERMISSION_ORDER) {
      if (!wanted.has(permission)) continue;
      const grant = this.grantOne(grantee, permission);
      result = result ? result.combine(grant) : grant;
    }
    return result ?? iam.Grant.drop(grantee, 'no wsgate permission requested');
  }

  /**
   * Allows `grantee` to open connections to this stage with SigV4-signed requests: `execute-api:Invoke` on
   * `<api>/<stage>/$connect`. Only with `connectAuthorization: ConnectAuthorization.iam()` (with the JWT
   * authorizer API Gateway does not check IAM on `$connect`, so this throws).
   */
  public grantConnect(grantee: iam.IGrantable): iam.Grant {
    if (!this.usesIam) {
      throw new Error(
        `${this.node.path}: grantConnect needs connectAuthorization: ConnectAuthorization.iam(); $connect is authorized by ` +
          'the JWT authorizer, which does not check IAM permissions (give the client a token instead).',
      );
    }
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [Stack.of(this).formatArn({ service: 'execute-api', resource: this.api.apiId, resourceName: `${this.stageName}/$connect` })],
    });
  }

  /**
   * Allows `grantee` to post to, read and close connections of this stage:
   * `execute-api:ManageConnections` on `<api>/<stage>/POST/@connections/*` only.
   */
  public grantPostToConnections(grantee: iam.IGrantable): iam.Grant {
    return this.grantManageConnections(grantee, 'POST');
  }

  /**
   * Allows `grantee` to close connections of this stage (API Gateway then runs `$disconnect`):
   * `execute-api:ManageConnections` on `<api>/<stage>/DELETE/@connections/*` only.
   */
  public grantCloseConnections(grantee: iam.IGrantable): iam.Grant {
    return this.grantManageConnections(grantee, 'DELETE');
  }

  private grantOne(grantee: iam.IGrantable, permission: GatewayPermission): iam.Grant {
    switch (permission) {
      case GatewayPermission.RECORD_CONNECTIONS:
        return this.table.grantWriteConnection(grantee);
      case GatewayPermission.MANAGE_ROOMS:
        return this.table.grantManageMemberships(grantee);
      case GatewayPermission.READ_CONNECTIONS:
        return this.table.grantReadConnections(grantee);
      case GatewayPermission.REMOVE_CONNECTIONS:
        return this.table.grantRemoveConnection(grantee);
      case GatewayPermission.POST_TO_CONNECTIONS:
        return this.grantPostToConnections(grantee);
      case GatewayPermission.CLOSE_CONNECTIONS:
        return this.grantCloseConnections(grantee);
      default:
        throw new Error(`${this.node.path}: unknown GatewayPermission '${permission}'.`);
    }
  }

  /**
   * `execute-api:ManageConnections` on one method of this stage's `@connections`. The connection id is
   * the last path segment and exists only at runtime, so cdk-nag's wildcard finding on exactly this
   * resource is acknowledged on the grantee.
   */
  private grantManageConnections(grantee: iam.IGrantable, method: 'POST' | 'DELETE'): iam.Grant {
    const connectionsArn = Stack.of(this).formatArn({
      service: 'execute-api',
      resource: this.api.apiId,
      resourceName: `${this.stageName}/${method}/@connections/*`,
    });
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:ManageConnections'],
      resourceArns: [connectionsArn],
    });
    for (const owner of acknowledgementScopes(grantee)) {
      acknowledgeManageConnectionsWildcard(owner, this.manageConnectionsFinding(method));
    }
    return grant;
  }

  /** How cdk-nag names a ManageConnections resource in its IAM5 finding. */
  private manageConnectionsFinding(method: string): string {
    const apiLogicalId = Stack.of(this).getLogicalId(this.api.node.defaultChild as apigwv2.CfnApi);
    return `arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiLogicalId}>/${this.stageName}/${method}/@connections/*`;
  }

  /** The custom route keys, for the `$default` handler's error frame. */
  private get customRouteKeys(): string[] {
    return this.routeKeys.filter((key) => !RESERVED_ROUTE_KEYS.includes(key));
  }

  private addReservedRoutes(): void {
    const props = this.props;
    const connect = this.reservedRouteFunction('$connect', 'connectHandler', props.connectHandler, BundledHandler.CONNECT);
    if (connect !== this.bundledFunctions.get(BundledHandler.CONNECT) && (props.subprotocols ?? []).length > 0) {
      Annotations.of(this).addWarningV2(
        'wsgate:subprotocolsNeedBundledConnect',
        'subprotocols configure the bundled $connect handler only; your connectHandler must return the ' +
          'Sec-WebSocket-Protocol header itself, or API Gateway refuses clients that offer a subprotocol.',
      );
    }
    this.createRoute('$connect', connect, {
      authorizer: this.authorizer ? this.authorizer.routeAuthorizer : new apigwv2authorizers.WebSocketIamAuthorizer(),
      apiKeyRequired: props.apiKeyRequired,
    });
    const disconnect = this.reservedRouteFunction('$disconnect', 'disconnectHandler', props.disconnectHandler, BundledHandler.DISCONNECT);
    this.createRoute('$disconnect', disconnect, {});
    const fallback = this.reservedRouteFunction('$default', 'defaultHandler', props.defaultHandler, BundledHandler.DEFAULT);
    this.createRoute('$default', fallback, {});
  }

  /** The function of a reserved route: its own bundled handler unless the prop names another. */
  private reservedRouteFunction(
    routeKey: string,
    propName: string,
    handler: RouteHandler | undefined,
    bundled: BundledHandler,
  ): lambda.IFunction {
    if (handler === undefined) return this.functionFor(bundled);
    if (handler.bundledHandler !== undefined && handler.bundledHandler !== bundled) {
      throw new Error(
        `${this.node.path}: invalid ${propName}: the bundled '${handler.bundledHandler.name}' handler cannot serve ` +
          `${routeKey}. Use RouteHandler.bundled(BundledHandler.${bundledHandlerMember(bundled)}) or your own ` +
          'function with RouteHandler.fromFunction(fn, { permissions }).',
      );
    }
    return this.routeFunction(handler);
  }

  /** The function behind a route handler: a bundled one (created once) or the user's, wired to the gateway. */
  private routeFunction(handler: RouteHandler): lambda.IFunction {
    if (handler.bundledHandler !== undefined) return this.functionFor(handler.bundledHandler);
    const fn = handler.userFunction!;
    this.setRuntimeEnvironment(fn);
    this.grant(fn, ...handler.permissions);
    if (this.delivery && handler.permissions.includes(GatewayPermission.POST_TO_CONNECTIONS)) this.delivery.grantEnqueue(fn);
    return fn;
  }

  /**
   * Sets the variables `wsgate/runtime` reads on a user function. An imported function's environment cannot
   * be changed: a warning says what to set.
   */
  private setRuntimeEnvironment(fn: lambda.IFunction): void {
    if (fn instanceof lambda.Function) {
      const wiredBy = WIRED_FUNCTIONS.get(fn);
      if (wiredBy !== undefined && wiredBy !== this) {
        Annotations.of(fn).addWarningV2(
          'wsgate:functionWiredToTwoGateways',
          `${fn.node.path} is wired to ${wiredBy.node.path} and ${this.node.path}; its ${ENV.tableName} and ` +
            `${ENV.callbackUrl} now name ${this.node.path} only. Use one function per gateway, or pass the ` +
            'settings of the other gateway to createGatewayClient.',
        );
      }
      WIRED_FUNCTIONS.set(fn, this);
      for (const setting of this.runtimeSettings) fn.addEnvironment(ENV[setting], this.settingValue(setting));
      return;
    }
    Annotations.of(fn).addWarningV2(
      'wsgate:runtimeEnvironmentNotSet',
      `${fn.node.path} is not a lambda.Function defined in this app, so ${this.node.path} could not set ` +
        `${this.runtimeSettings.map((s) => ENV[s]).join(', ')} on it; wsgate/runtime in that function needs ` +
        'them (or pass tableName, roomIndex and callbackUrl to createGatewayClient).',
    );
  }

  /** The settings a user function gets: the runtime's, and the delivery settings when sharded delivery is on. */
  private get runtimeSettings(): readonly GatewaySetting[] {
    return this.delivery ? [...RUNTIME_SETTINGS, ...DELIVERY_SETTINGS] : RUNTIME_SETTINGS;
  }

  /** The value of a setting the gateway provides. */
  private settingValue(setting: GatewaySetting): string {
    switch (setting) {
      case 'tableName':
        return this.table.tableName;
      case 'roomIndex':
        return this.table.roomIndexName;
      case 'callbackUrl':
        return this.callbackUrl;
      case 'connectionTtlSeconds':
        return String((this.props.connectionTtl ?? Duration.seconds(LIMITS.defaultConnectionTtlSeconds)).toSeconds());
      case 'fanoutConcurrency':
        return Tokenization.stringifyNumber(this.props.fanoutConcurrency ?? LIMITS.defaultFanoutConcurrency);
      case 'subprotocols':
        return (this.props.subprotocols ?? []).join(',');
      case 'routeKeys':
        return Lazy.string({ produce: () => this.customRouteKeys.join(',') });
      case 'deliveryQueueUrl':
        return this.requireDelivery(setting).queue.queueUrl;
      case 'shardedAbove':
        return String(this.requireDelivery(setting).shardedAbove);
      case 'shardSize':
        return String(this.requireDelivery(setting).shardSize);
      default:
        throw new Error(`${this.node.path}: the gateway does not provide ${ENV[setting]}.`);
    }
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

  /** The function of a bundled handler: created on first use with the environment and grants of its descriptor. */
  private functionFor(handler: BundledHandler): lambda.IFunction {
    const existing = this.bundledFunctions.get(handler);
    if (existing) return existing;
    const descriptor = bundledHandlerDescriptor(handler);
    const enqueues = this.delivery !== undefined && descriptor.enqueuesDeliveryJobs === true;
    const settings = enqueues ? [...descriptor.environment, ...DELIVERY_SETTINGS] : descriptor.environment;
    const environment: { [name: string]: string } = {};
    for (const setting of settings) environment[ENV[setting]] = this.settingValue(setting);
    const worker = handler === BundledHandler.DELIVERY_WORKER;
    const fn = new HandlerFunction(this, `${handlerConstructId(handler)}Handler`, {
      handler,
      memorySize: this.props.memorySize,
      timeout: worker ? ShardedDelivery.WORKER_TIMEOUT : this.props.timeout,
      logRetention: this.props.logRetention,
      tracing: this.props.tracing,
      environment,
      invokedByQueue: worker,
    }).function;
    this.grant(fn, ...descriptor.permissions);
    if (enqueues) this.delivery!.grantEnqueue(fn);
    this.bundledFunctions.set(handler, fn);
    return fn;
  }

  /** The delivery queue and its worker, which posts shards and records their progress in the table. */
  private createDelivery(options: DeliveryOptions): ShardedDelivery {
    const worker = this.functionFor(BundledHandler.DELIVERY_WORKER) as lambda.Function;
    this.table.grantWriteDeliveryProgress(worker);
    const delivery = new ShardedDelivery(this, 'Delivery', { ...options, worker });
    // The worker hands a shard it paused back to the queue (ChangeMessageVisibility, granted by the event source).
    worker.addEnvironment(ENV.deliveryQueueUrl, delivery.queue.queueUrl);
    return delivery;
  }

  private requireDelivery(setting: GatewaySetting): ShardedDelivery {
    if (!this.delivery) throw new Error(`${this.node.path}: ${ENV[setting]} is set only with sharded delivery (the delivery prop).`);
    return this.delivery;
  }

  private get usesIam(): boolean {
    return this.connectAuthorization.authorizationType === 'AWS_IAM';
  }

  /** With IAM on `$connect`, the JWT authorizer's props contradict it. */
  private validateIamProps(props: WebSocketGatewayProps): void {
    const given = (['issuer', 'audience', 'jwksUrl', 'signingSecret', 'tokenSource'] as const).filter((name) => props[name] !== undefined);
    if (given.length > 0) {
      throw new Error(
        `${this.node.path}: ${given.join(', ')} cannot be combined with connectAuthorization: ConnectAuthorization.iam(): ` +
          `$connect then checks SigV4 signatures, not tokens, and ${given.length === 1 ? 'this prop configures' : 'these props configure'} ` +
          'the JWT authorizer. Remove them, or use ConnectAuthorization.jwt().',
      );
    }
  }

  private validateDomain(domain: GatewayDomainOptions): void {
    const name = domain.domainName;
    if (!Token.isUnresolved(name) && !/^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/.test(name)) {
      throw new Error(
        `${this.node.path}: invalid domainName.domainName '${name}': give a host name such as ws.example.com, ` +
          'without scheme, port or path.',
      );
    }
    const basePath = domain.basePath;
    if (basePath !== undefined && !Token.isUnresolved(basePath) && !/^[A-Za-z0-9$\-_.+!*'()]{1,300}$/.test(basePath)) {
      throw new Error(
        `${this.node.path}: invalid domainName.basePath '${basePath}': give one path segment of at most 300 letters, ` +
          "digits and $-_.+!*'() (for example v1), without slashes; leave it unset to map the stage to the root.",
      );
    }
  }
}

/**
 * Where a grant's cdk-nag acknowledgement goes: the bundled handler's wrapper, or the grantee and its
 * principal (a function's role may live outside the function).
 */
function acknowledgementScopes(grantee: iam.IGrantable): IConstruct[] {
  if (Construct.isConstruct(grantee) && grantee.node.scope instanceof HandlerFunction) return [grantee.node.scope];
  const scopes: IConstruct[] = [];
  const granteePath = Construct.isConstruct(grantee) ? grantee.node.path : undefined;
  if (Construct.isConstruct(grantee)) scopes.push(grantee);
  const principal: unknown = grantee.grantPrincipal;
  if (Construct.isConstruct(principal) && (principal as unknown) !== (grantee as unknown) && !principal.node.path.startsWith(`${granteePath}/`)) {
    scopes.push(principal);
  }
  return scopes;
}

/** `BundledHandler.SEND_MESSAGE` for 'sendmessage', as written in code. */
function bundledHandlerMember(handler: BundledHandler): string {
  const member = Object.entries(BundledHandler).find(([, value]) => value === handler)?.[0];
  return member ?? handler.name.toUpperCase();
}

/** `Join` for 'join', `DeliveryWorker` for 'delivery-worker'. */
function handlerConstructId(handler: BundledHandler): string {
  return handler.name.split('-').map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('');
}

/** JSON access log lines with the WebSocket `$context` variables (API Gateway's WebSocket `$context` variables, one JSON object per line). */
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
