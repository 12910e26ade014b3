/**
 * The `@connections` management endpoint (spec §5, §9.5): PostToConnection, GetConnection, DeleteConnection,
 * answered so that the unmodified `@aws-sdk/client-apigatewaymanagementapi` client raises its typed exceptions.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ThrottleModel, WebSocketApiModel } from '../model';
import { GOING_AWAY, type Connection } from './connection';
import { readBody, sendAwsError, sendJson } from './http-responses';
import { TokenBucket } from './messages';
import type { StageResolver } from './stage-resolver';
import type { IamAuthority } from '../iam/credentials';

/** PostToConnection `Data` limit: 128 KB (spec §5, model max 131072). */
export const MAX_POST_BYTES = 131072;
/** Bytes queued on a socket past which PostToConnection answers 429 (spec §5: "client buffer full"). */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

const CONNECTIONS_PATH = /^(.*)\/(?:@|%40)connections\/([^/]+)\/?$/i;

/** `{prefix, id}` when the path is an `@connections` path: `/[apiId/][stage/](@|%40)connections/{urlencoded id}`. */
export function matchConnectionsPath(pathname: string): { prefix: string; encodedId: string } | undefined {
  const match = CONNECTIONS_PATH.exec(pathname);
  return match ? { prefix: match[1], encodedId: match[2] } : undefined;
}

/**
 * AWS's `@connections` bottleneck, simulated: every request (POST, GET, DELETE; any API, any stage: the quota is
 * account-wide) waits `latencyMs` before it is answered and takes one token from one bucket; a request that finds
 * the bucket empty is answered 429 `LimitExceededException`. Off unless configured (no delay, no limit).
 */
export interface ConnectionsBottleneckOptions {
  /** Delay before each `@connections` answer. @default 0 */
  readonly latencyMs?: number;
  /** Requests per second and bucket size, shared by every `@connections` request. @default - no limit */
  readonly rate?: ThrottleModel;
  /** Clock of the token bucket (tests). @default Date.now */
  readonly now?: () => number;
}

export class ConnectionsBottleneck {
  private readonly bucket?: TokenBucket;
  private readonly now: () => number;

  constructor(private readonly options: ConnectionsBottleneckOptions) {
    this.now = options.now ?? Date.now;
    if (options.rate) this.bucket = new TokenBucket(options.rate, this.now());
  }

  /** Takes a token when the request arrives, then waits the latency; false when the request is over the rate. */
  async admit(): Promise<boolean> {
    const admitted = this.bucket ? this.bucket.take(this.now()) : true;
    const latency = this.options.latencyMs ?? 0;
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    return admitted;
  }
}

function gone(res: ServerResponse, id: string): void {
  sendAwsError(res, 410, 'GoneException', `Connection ${id} is not connected (closed, unknown, or $connect not finished)`);
}

export async function handleConnectionsRequest(
  req: IncomingMessage,
  res: ServerResponse,
  path: { prefix: string; encodedId: string },
  resolver: StageResolver,
  connections: ReadonlyMap<string, Connection>,
  iam?: IamAuthority,
  bottleneck?: ConnectionsBottleneck,
): Promise<void> {
  if (bottleneck && !(await bottleneck.admit())) {
    // The account's request rate (shared by every API and the @connections API) is used up: AWS answers 429
    // LimitExceededException, which the SDK raises as its typed exception (and retries as a throttling error).
    // The message text is [UNCONFIRMED]: the same "Too Many Requests" the throttled stages answer.
    req.resume();
    sendAwsError(res, 429, 'LimitExceededException', 'Too Many Requests');
    return;
  }
  let api: WebSocketApiModel | undefined = resolver.apiFromHost(req.headers.host);
  let stageName: string | undefined;
  if (path.prefix !== '') {
    const target = resolver.resolve(req.headers.host, path.prefix);
    if (!target || target.rest !== '') {
      // A wrong API id or stage is answered 403 on AWS (spec §5).
      sendAwsError(res, 403, 'ForbiddenException', `No WebSocket API stage at ${path.prefix}`);
      return;
    }
    api = target.api;
    stageName = target.stage.stageName;
  }
  let id: string;
  try {
    id = decodeURIComponent(path.encodedId);
  } catch {
    id = path.encodedId;
  }
  const connection = connections.get(id);
  const matches =
    connection !== undefined &&
    connection.isOpen &&
    (api === undefined || connection.api === api) &&
    (stageName === undefined || connection.stage === stageName);

  // Every caller signs with SigV4 and needs execute-api:ManageConnections on
  // arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/@connections/{id} (checked before the id is looked up).
  let body: Buffer | undefined = Buffer.alloc(0);
  if (iam) {
    body = await readBody(req, MAX_POST_BYTES);
    if (body === undefined) {
      sendAwsError(res, 413, 'PayloadTooLargeException', `Data is larger than ${MAX_POST_BYTES} bytes`);
      return;
    }
    const target = api ?? connection?.api;
    const stage = stageName ?? connection?.stage ?? '*';
    const arn = `arn:aws:execute-api:${target?.region ?? 'us-east-1'}:${target?.accountId ?? '123456789012'}:${target?.apiId ?? '*'}/${stage}/${req.method}/@connections/${id}`;
    const outcome = iam.authorize({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body }, 'execute-api', 'execute-api:ManageConnections', [arn]);
    if (!outcome.ok) {
      if (outcome.kind === 'signature') return sendAwsError(res, 403, outcome.failure.errorType, outcome.failure.message);
      return sendJson(res, 403, { Message: outcome.message }, { 'x-amzn-ErrorType': 'AccessDeniedException' });
    }
  }

  switch (req.method) {
    case 'POST': {
      const data = iam ? body : await readBody(req, MAX_POST_BYTES);
      if (data === undefined) {
        sendAwsError(res, 413, 'PayloadTooLargeException', `Data is larger than ${MAX_POST_BYTES} bytes`);
        return;
      }
      if (!matches) return gone(res, id);
      if (connection.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
        sendAwsError(res, 429, 'LimitExceededException', 'The client is not reading fast enough (its buffer is full)');
        return;
      }
      // Delivered as a text frame (spec §5 [INF]).
      connection.sendText(data);
      res.writeHead(200, { 'Content-Length': 0 });
      res.end();
      return;
    }
    case 'GET': {
      req.resume();
      if (!matches) return gone(res, id);
      sendJson(res, 200, {
        connectedAt: new Date(connection.facts.connectedAt).toISOString(),
        identity: { sourceIp: connection.facts.sourceIp, userAgent: connection.facts.userAgent ?? null },
        lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
      });
      return;
    }
    case 'DELETE': {
      req.resume();
      if (!matches) return gone(res, id);
      res.writeHead(204);
      res.end();
      connection.closeFromServer(GOING_AWAY);
      return;
    }
    default:
      req.resume();
      sendAwsError(res, 403, 'ForbiddenException', `${req.method} is not an @connections operation`);
  }
}
