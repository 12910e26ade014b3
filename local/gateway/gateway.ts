/**
 * The WebSocket gateway: serves every stage of every WebSocket API of an assembly model on one 127.0.0.1 port,
 * with the `@connections` endpoint on the same port (spec §9 checklist).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FunctionInvoker, ThrottleModel, WebSocketApiModel } from '../model';
import { Connection, GOING_AWAY, MESSAGE_TOO_BIG, type CloseStatus } from './connection';
import { disconnectEvent, type ConnectionFacts, type HandshakeRequest } from './events';
import { decideHandshake, type GatewayLog } from './handshake';
import { rejectUpgrade, sendJson } from './http-responses';
import { newGatewayId } from './ids';
import type { IamAuthority } from '../iam/credentials';
import { ConnectionsBottleneck, handleConnectionsRequest, matchConnectionsPath, type ConnectionsBottleneckOptions } from './management-api';
import type { IntegrationDeps, ServiceEndpoints } from './integrations';
import { handleMessage, MessageRouter, TokenBucket } from './messages';
import { SharedPortServer, type TlsIdentity } from './shared-port-server';
import { StageResolver } from './stage-resolver';

/** Message payload limit: 128 KB → close 1009 (spec §2.4); the 32 KB frame limit is connection.ts's FrameSizeGuard. */
export const MAX_MESSAGE_BYTES = 128 * 1024;
export const IDLE_TIMEOUT_MS_DEFAULT = 10 * 60 * 1000;
export const MAX_DURATION_MS_DEFAULT = 2 * 60 * 60 * 1000;
export const PORT_DEFAULT = 3001;

/** Extra HTTP endpoints (e.g. `/_wsgate/...`): return true when the request was answered. */
export type ExtraHttpHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

export interface GatewayOptions {
  readonly apis: WebSocketApiModel[];
  readonly invoker: FunctionInvoker;
  /** @default 3001; 0 picks a free port */
  readonly port?: number;
  /** Certificate for HTTPS on the same port. @default - plain HTTP and ws only */
  readonly tls?: TlsIdentity;
  /** @default 600000 (10 minutes, spec §2.5) */
  readonly idleTimeoutMs?: number;
  /** @default 7200000 (2 hours, spec §2.5) */
  readonly maxDurationMs?: number;
  /** @default - no extra endpoints */
  readonly extraHttp?: ExtraHttpHandler;
  /** @default - lines are dropped */
  readonly log?: GatewayLog;
  /** SigV4 and IAM on `@connections` (local/iam). @default - `@connections` answers unsigned requests */
  readonly iam?: IamAuthority;
  /**
   * New connections per second across all APIs (the account's quota, a token bucket); a handshake over it is
   * answered 429. @default - no limit
   */
  readonly newConnections?: ThrottleModel;
  /**
   * AWS's `@connections` bottleneck: a delay before every answer and one account-wide token bucket (429
   * LimitExceededException over it). @default - no delay, no limit
   */
  readonly connectionsBottleneck?: ConnectionsBottleneckOptions;
  /** Local AWS services AWS integrations call, by signing name (`dynamodb`, `sqs`). @default - none: AWS integrations fail */
  readonly services?: ServiceEndpoints;
}

export interface StageEndpoint {
  readonly stackName: string;
  readonly apiName: string;
  readonly apiId: string;
  readonly stage: string;
  /** `ws://127.0.0.1:PORT/STAGE` (or `/APIID/STAGE` when the stage name is shared by several APIs). */
  readonly websocketUrl: string;
  /** The `@connections` endpoint for the SDK client: `http://127.0.0.1:PORT/STAGE`. */
  readonly callbackUrl: string;
  /** What `requestContext.domainName` holds for this API, so `https://{domainName}/{stage}` reaches the gateway. */
  readonly domainName: string;
}

export interface Gateway {
  readonly port: number;
  readonly endpoints: StageEndpoint[];
  /** Open connections (registered after their 101). */
  connectionCount(): number;
  /** Closes every connection (1001, then `$disconnect`), waits for in-flight invocations, stops the server. */
  close(): Promise<void>;
}

function validWebSocketUpgrade(req: IncomingMessage): boolean {
  const key = req.headers['sec-websocket-key'];
  return (
    req.method === 'GET' &&
    (req.headers.upgrade ?? '').toLowerCase() === 'websocket' &&
    typeof key === 'string' &&
    /^[+/0-9A-Za-z]{22}==$/.test(key) &&
    (req.headers['sec-websocket-version'] === '13' || req.headers['sec-websocket-version'] === '8')
  );
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const log: GatewayLog = options.log ?? (() => undefined);
  const newConnections = options.newConnections ? new TokenBucket(options.newConnections) : undefined;
  const bottleneck = options.connectionsBottleneck ? new ConnectionsBottleneck(options.connectionsBottleneck) : undefined;
  const timeouts = {
    idleTimeoutMs: options.idleTimeoutMs ?? IDLE_TIMEOUT_MS_DEFAULT,
    maxDurationMs: options.maxDurationMs ?? MAX_DURATION_MS_DEFAULT,
  };
  const { apis, invoker } = options;
  const resolver = new StageResolver(apis);
  const routers = new Map(apis.map((api) => [api, new MessageRouter(api)]));
  const connections = new Map<string, Connection>();
  const inFlight = new Set<Promise<unknown>>();
  const chosenSubprotocol = new WeakMap<IncomingMessage, string | undefined>();
  let closing = false;
  let port = 0;
  const domainNames = new Map<WebSocketApiModel, string>();

  const track = (work: Promise<unknown>): void => {
    const settled = work.catch((err) => log(`unexpected error: ${(err as Error).stack ?? err}`));
    inFlight.add(settled);
    void settled.finally(() => inFlight.delete(settled));
  };

  // Only the subprotocol `$connect` returned is echoed, never the `ws` default of the first offered one (spec §2.3).
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
    handleProtocols: (_offered, req) => chosenSubprotocol.get(req) ?? false,
  });

  const runDisconnect = async (
    api: WebSocketApiModel,
    facts: ConnectionFacts,
    authorizer: Record<string, unknown> | undefined,
    status: CloseStatus,
  ): Promise<void> => {
    const route = api.routes.find((r) => r.routeKey === '$disconnect');
    if (!route?.functionId) return;
    // Best effort, result ignored (spec §2.5).
    const outcome = await invoker.invoke(route.functionId, disconnectEvent(facts, status, authorizer, Date.now()));
    if (outcome.error || outcome.timedOut) {
      log(`$disconnect of ${facts.connectionId} failed: ${outcome.timedOut ? 'timed out' : outcome.error!.errorMessage}`);
    }
  };

  const integrationDeps = (api: WebSocketApiModel): IntegrationDeps => ({
    services: options.services ?? {},
    ...(options.iam ? { iam: options.iam } : {}),
    region: api.region,
    accountId: api.accountId,
  });

  const register = (ws: WebSocket, raw: Duplex, api: WebSocketApiModel, facts: ConnectionFacts, authorizer: Record<string, unknown> | undefined): void => {
    const connection = new Connection(ws, api, facts, authorizer, timeouts);
    connection.guardFrames(raw);
    connections.set(facts.connectionId, connection);
    const router = routers.get(api)!;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      // Nothing is routed once the server closes the connection (an oversize frame, idle, DeleteConnection).
      if (!connection.isOpen) return;
      if (isBinary) {
        // Binary frames close the connection with 1003 (spec §2.4); the reason text is [UNCONFIRMED].
        connection.closeFromServer({ code: 1003, reason: 'Binary frames are not supported' });
        return;
      }
      connection.markActive();
      track(handleMessage(connection, router, data.toString('utf8'), invoker, log, integrationDeps(api)));
    });
    ws.on('error', (err: Error & { code?: string }) => {
      // `ws` closes by itself on protocol errors; record its code so `$disconnect` reports it (reasons [UNCONFIRMED]).
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') connection.recordServerClose(MESSAGE_TOO_BIG);
      else if (err.code === 'WS_ERR_INVALID_UTF8') connection.recordServerClose({ code: 1007, reason: 'Invalid UTF-8' });
      else connection.recordServerClose({ code: 1002, reason: 'Protocol error' });
      log(`connection ${facts.connectionId}: ${err.message}`);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      connections.delete(facts.connectionId);
      const status = connection.finish(code, reason);
      track(runDisconnect(api, facts, authorizer, status));
    });
  };

  const onUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    socket.on('error', () => socket.destroy());
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const target = resolver.resolve(req.headers.host, url.pathname);
      // An unknown stage or path: 403 as API Gateway answers unknown resources [INF].
      if (!target || (target.rest !== '' && target.rest !== '/')) {
        const stages = endpoints.map((e) => new URL(e.websocketUrl).pathname).join(', ');
        log(`handshake for ${url.pathname} refused with 403: no stage of the app is at that path (its stages: ${stages || 'none'})`);
        return rejectUpgrade(socket, 403, 'Forbidden');
      }
      if (!validWebSocketUpgrade(req)) return rejectUpgrade(socket, 400, 'Bad Request');
      if (closing) return rejectUpgrade(socket, 503, 'Service Unavailable');
      if (newConnections && !newConnections.take()) {
        log(`handshake for ${url.pathname} refused with 429: more than ${options.newConnections!.rateLimit} new connections per second`);
        return rejectUpgrade(socket, 429, 'Too Many Requests');
      }
      if (!routers.get(target.api)!.admitConnect(target.stage.stageName)) {
        log(`handshake for ${url.pathname} refused with 429: the stage's $connect throttling limit is used up`);
        return rejectUpgrade(socket, 429, 'Too Many Requests');
      }
      const local = socket as Duplex & { localPort?: number; remoteAddress?: string; encrypted?: boolean };
      const userAgent = req.headers['user-agent'];
      const facts: ConnectionFacts = {
        apiId: target.api.apiId,
        stage: target.stage.stageName,
        stageVariables: target.stage.stageVariables,
        region: target.api.region,
        accountId: target.api.accountId,
        connectionId: newGatewayId(),
        connectedAt: Date.now(),
        domainName: domainNames.get(target.api)!,
        sourceIp: (local.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
        userAgent: typeof userAgent === 'string' ? userAgent : undefined,
      };
      const request: HandshakeRequest = {
        rawHeaders: req.rawHeaders,
        query: url.searchParams,
        hasQueryString: url.search.length > 1,
        localPort: local.localPort ?? port,
        protocol: local.encrypted ? 'https' : 'http',
      };
      const connectRoute = target.api.routes.find((r) => r.routeKey === '$connect');
      // The upgrade stays pending until the authorizer and $connect finish (spec §2.1.1).
      const decision = await decideHandshake(connectRoute, facts, request, invoker, log, {
        iam: options.iam,
        signable: { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.alloc(0) },
        apiKeys: target.api.apiKeys?.[facts.stage],
      });
      if (!decision.accepted) return rejectUpgrade(socket, decision.status, decision.message);
      // An AWS_IAM connection's signer stays in requestContext.identity of all its events.
      const connectionFacts: ConnectionFacts = decision.caller ? { ...facts, caller: decision.caller } : facts;
      if (socket.destroyed || closing) {
        // The client left while $connect ran: never registered; $disconnect keeps the backend's records clean
        // (whether AWS sends it here is [UNCONFIRMED]).
        rejectUpgrade(socket, 503, 'Service Unavailable');
        await runDisconnect(target.api, connectionFacts, decision.authorizer, { code: 1006, reason: '' });
        return;
      }
      chosenSubprotocol.set(req, decision.subprotocol);
      wss.handleUpgrade(req, socket, head, (ws) => register(ws, socket, target.api, connectionFacts, decision.authorizer));
    } catch (err) {
      log(`handshake failed: ${(err as Error).stack ?? err}`);
      rejectUpgrade(socket, 500, 'Internal Server Error');
    }
  };

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const management = matchConnectionsPath(url.pathname);
      if (management) return await handleConnectionsRequest(req, res, management, resolver, connections, options.iam, bottleneck);
      if (options.extraHttp && (await options.extraHttp(req, res, url))) return;
      req.resume();
      const target = resolver.resolve(req.headers.host, url.pathname);
      if (target && (target.rest === '' || target.rest === '/')) {
        // A plain GET on a WebSocket URL (spec §1).
        return sendJson(res, 426, { message: 'Upgrade Required' }, { Upgrade: 'websocket', Connection: 'Upgrade' });
      }
      sendJson(res, 404, { message: `Not Found: ${url.pathname}` });
    } catch (err) {
      log(`request failed: ${(err as Error).stack ?? err}`);
      if (!res.headersSent) sendJson(res, 500, { message: 'Internal Server Error' });
      else res.destroy();
    }
  };

  const server = new SharedPortServer(
    (req, res) => void onRequest(req, res),
    (req, socket, head) => void onUpgrade(req, socket, head),
    options.tls,
    log,
  );
  port = await server.listen(options.port ?? PORT_DEFAULT);

  const endpoints: StageEndpoint[] = [];
  for (const api of apis) {
    const allStagesByName = api.stages.every((s) => resolver.pathPrefix(api, s.stageName) === `/${s.stageName}`);
    // With a shared stage name, domainName carries the API id as a path so `https://{domainName}/{stage}` still resolves.
    const domainName = allStagesByName ? `127.0.0.1:${port}` : `127.0.0.1:${port}/${api.apiId}`;
    domainNames.set(api, domainName);
    for (const stage of api.stages) {
      const prefix = resolver.pathPrefix(api, stage.stageName);
      endpoints.push({
        stackName: api.stackName,
        apiName: api.name,
        apiId: api.apiId,
        stage: stage.stageName,
        websocketUrl: `ws://127.0.0.1:${port}${prefix}`,
        callbackUrl: `http://127.0.0.1:${port}${prefix}`,
        domainName,
      });
    }
  }

  return {
    port,
    endpoints,
    connectionCount: () => connections.size,
    async close(): Promise<void> {
      closing = true;
      for (const connection of connections.values()) connection.closeFromServer(GOING_AWAY);
      const deadline = Date.now() + 5000;
      // Poll on timers (not microtasks) so socket close events and invocations can progress.
      while ((connections.size > 0 || inFlight.size > 0) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const client of wss.clients) client.terminate();
      wss.close();
      await server.close();
    },
  };
}
