/**
 * Client messages (spec §2.4, §3, §3.1, §4.2): route selection, integration call, route response or error frame.
 */
import type { FunctionInvoker, InvocationOutcome, RouteModel, ThrottleModel, WebSocketApiModel } from '../model';
import type { Connection } from './connection';
import { formatRequestTime, gatewayErrorFrame, messageEvent } from './events';
import type { GatewayLog } from './handshake';
import { newGatewayId } from './ids';
import { runIntegration, type IntegrationDeps } from './integrations';
import { badRequestBodyFrame, RequestValidator } from './request-validation';
import { RouteSelector, selectRouteKey } from './route-selection';

/** API Gateway's integration limit when the integration sets no TimeoutInMillis. */
export const INTEGRATION_TIMEOUT_MS_DEFAULT = 29_000;

/** A token bucket: `burstLimit` tokens, refilled at `rateLimit` per second; one message takes one. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(private readonly limits: ThrottleModel, now: number = Date.now()) {
    this.tokens = limits.burstLimit;
    this.last = now;
  }

  take(now: number = Date.now()): boolean {
    this.tokens = Math.min(this.limits.burstLimit, this.tokens + ((now - this.last) / 1000) * this.limits.rateLimit);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Per-API routing: the compiled expression and the routes by key (excluding `$connect` / `$disconnect`). */
export class MessageRouter {
  private readonly selector: RouteSelector;
  private readonly routes = new Map<string, RouteModel>();
  private readonly keys: Set<string>;
  /** `stage\nrouteKey` → its bucket (RouteSettings), and `stage\n` → the stage's DefaultRouteSettings bucket. */
  private readonly buckets = new Map<string, TokenBucket>();
  /** The routes' request models (ModelSelectionExpression), compiled once. */
  readonly validator: RequestValidator;

  /** False when the stage's (or the route's) throttling limit is used up. */
  admit(stage: string, routeKey: string): boolean {
    const route = this.buckets.get(`${stage}\n${routeKey}`);
    if (route) return route.take();
    const stageDefault = this.buckets.get(`${stage}\n`);
    return stageDefault ? stageDefault.take() : true;
  }

  /**
   * False when the stage's RouteSettings for `$connect` is used up. Only a `$connect` entry of its own counts: whether
   * a stage's DefaultRouteSettings also throttles handshakes is not documented by AWS, and the emulator chooses not to
   * (local/gateway/README.md).
   */
  admitConnect(stage: string): boolean {
    return this.buckets.get(`${stage}\n$connect`)?.take() ?? true;
  }

  constructor(api: WebSocketApiModel) {
    for (const stage of api.stages) {
      if (stage.throttling?.defaultRoute) this.buckets.set(`${stage.stageName}\n`, new TokenBucket(stage.throttling.defaultRoute));
      for (const [routeKey, limits] of Object.entries(stage.throttling?.routes ?? {})) this.buckets.set(`${stage.stageName}\n${routeKey}`, new TokenBucket(limits));
    }
    this.selector = new RouteSelector(api.routeSelectionExpression);
    for (const route of api.routes) {
      if (route.routeKey !== '$connect' && route.routeKey !== '$disconnect') this.routes.set(route.routeKey, route);
    }
    this.keys = new Set(this.routes.keys());
    this.validator = new RequestValidator([...this.routes.values()]);
  }

  /** The route for a message body, or undefined when nothing matches and there is no `$default` (spec §3). */
  route(body: string): RouteModel | undefined {
    const key = selectRouteKey(this.selector, this.keys, body);
    return key === undefined ? undefined : this.routes.get(key);
  }
}

function responseBody(result: unknown): string | undefined {
  if (result === null || typeof result !== 'object' || !('body' in result)) return undefined;
  const body = (result as { body?: unknown }).body;
  if (body === undefined || body === null) return undefined;
  // A non-string body is sent as its JSON text: [UNCONFIRMED] (Lambda proxy bodies are meant to be strings).
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/**
 * Handles one text message. Never throws: every outcome becomes a frame (or nothing) on this connection only.
 * - no route → the Forbidden frame (spec §3), connection kept;
 * - route without integration → nothing is sent: [UNCONFIRMED] (AWS refuses to deploy such routes) [INF];
 * - handler throw or timeout → the Internal server error frame (spec §3.1; the timeout frame text is [UNCONFIRMED],
 *   we use the same frame), connection kept;
 * - result body sent only when the route has a route response (spec §3.1), whatever its statusCode;
 * - no result within the integration timeout (TimeoutInMillis, else 29 s) → the frame
 *   `{"message": "Endpoint request timed out", ...}` ([UNCONFIRMED] text, spec §3.1) while the function runs on to its
 *   own timeout, as Lambda does; its late result is dropped.
 */
export async function handleMessage(
  connection: Connection,
  router: MessageRouter,
  body: string,
  invoker: FunctionInvoker,
  log: GatewayLog,
  integrationDeps?: IntegrationDeps,
): Promise<void> {
  const requestId = newGatewayId();
  const route = router.route(body);
  if (!route) {
    connection.sendText(gatewayErrorFrame('Forbidden', connection.id, requestId));
    return;
  }
  if (!router.admit(connection.stage, route.routeKey)) {
    // Throttled (stage DefaultRouteSettings or RouteSettings): the frame text is [UNCONFIRMED]; the connection stays open.
    log(`route ${route.routeKey} on ${connection.id}: throttled (stage ${connection.stage} limit reached)`);
    connection.sendText(gatewayErrorFrame('Too Many Requests', connection.id, requestId));
    return;
  }
  if (route.unsupported) {
    // A route the emulator cannot run (e.g. a non-Lambda integration) answers like a failed integration.
    log(`route ${route.routeKey}: ${route.unsupported}`);
    connection.sendText(gatewayErrorFrame('Internal server error', connection.id, requestId));
    return;
  }
  if (route.validation) {
    // Request validation (ModelSelectionExpression) runs before any integration; the backend is not called.
    const verdict = router.validator.validate(route, body);
    if (!verdict.valid) {
      log(`route ${route.routeKey} on ${connection.id}: request validation failed: ${verdict.reason}`);
      connection.sendText(badRequestBodyFrame(connection.id, newGatewayId()));
      return;
    }
  }
  if (route.integration) return handleIntegration(connection, route, body, requestId, log, integrationDeps);
  if (!route.functionId) return;
  const invocation = invoker
    .invoke(route.functionId, messageEvent(connection.facts, route.routeKey, body, connection.authorizer, Date.now(), requestId))
    .catch((err: unknown): InvocationOutcome => {
      log(`route ${route.routeKey}: the invoker failed: ${(err as Error).message}`);
      return { error: { errorType: 'InvokerError', errorMessage: String(err) }, durationMs: 0 };
    });
  const timeoutMs = route.integrationTimeoutMs ?? INTEGRATION_TIMEOUT_MS_DEFAULT;
  let timer: NodeJS.Timeout | undefined;
  const integrationTimeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([invocation, integrationTimeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    log(`route ${route.routeKey} on ${connection.id}: no result within the ${timeoutMs} ms integration timeout; the function runs on`);
    connection.sendText(gatewayErrorFrame('Endpoint request timed out', connection.id, requestId));
    void invocation.then((late) => log(`route ${route.routeKey} on ${connection.id}: the function finished after the integration timeout (${late.timedOut ? 'timed out' : late.error ? 'failed' : 'result dropped'})`));
    return;
  }
  if (outcome.error || outcome.timedOut) {
    log(`route ${route.routeKey} on ${connection.id}: ${outcome.timedOut ? 'timed out' : `${outcome.error!.errorType}: ${outcome.error!.errorMessage}`}`);
    connection.sendText(gatewayErrorFrame('Internal server error', connection.id, requestId));
    return;
  }
  if (!route.hasRouteResponse) return;
  const reply = responseBody(outcome.result);
  if (reply !== undefined) connection.sendText(reply);
}

/** A MOCK / HTTP_PROXY / HTTP / AWS integration (local/gateway/integrations/): same frames as a Lambda route. */
async function handleIntegration(
  connection: Connection,
  route: RouteModel,
  body: string,
  requestId: string,
  log: GatewayLog,
  deps: IntegrationDeps = { services: {}, region: connection.facts.region, accountId: connection.facts.accountId },
): Promise<void> {
  const facts = connection.facts;
  const now = Date.now();
  const authorizer = connection.authorizer;
  const timeoutMs = route.integrationTimeoutMs ?? INTEGRATION_TIMEOUT_MS_DEFAULT;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const outcome = await runIntegration({
    integration: route.integration!,
    routeKey: route.routeKey,
    body,
    variables: {
      body,
      stageVariables: facts.stageVariables,
      context: {
        connectionId: facts.connectionId,
        routeKey: route.routeKey,
        requestId,
        messageId: newGatewayId(),
        eventType: 'MESSAGE',
        stage: facts.stage,
        apiId: facts.apiId,
        domainName: facts.domainName,
        requestTimeEpoch: now,
        requestTime: formatRequestTime(now),
        connectedAt: facts.connectedAt,
        identity: { sourceIp: facts.sourceIp, ...(facts.userAgent !== undefined ? { userAgent: facts.userAgent } : {}) },
        ...(authorizer ? { authorizer } : {}),
      },
    },
    deps,
    signal: controller.signal,
  }).finally(() => clearTimeout(timer));
  if (outcome.kind === 'error') {
    log(`route ${route.routeKey} on ${connection.id}: ${outcome.log}`);
    const frame = outcome.frame === 'Unsupported Media Type'
      ? `{"message": "Unsupported Media Type", "connectionId":"${connection.id}", "requestId":"${requestId}"}`
      : gatewayErrorFrame(outcome.frame, connection.id, requestId);
    connection.sendText(frame);
    return;
  }
  if (route.hasRouteResponse && outcome.body !== '') connection.sendText(outcome.body);
}
