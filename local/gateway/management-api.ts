/**
 * The `@connections` management endpoint (spec §5, §9.5): PostToConnection, GetConnection, DeleteConnection,
 * answered so that the unmodified `@aws-sdk/client-apigatewaymanagementapi` client raises its typed exceptions.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebSocketApiModel } from '../model';
import { GOING_AWAY, type Connection } from './connection';
import { readBody, sendAwsError, sendJson } from './http-responses';
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
): Promise<void> {
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
