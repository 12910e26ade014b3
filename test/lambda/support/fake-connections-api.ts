/**
 * A small real HTTP server answering PostToConnection like the `@connections` API (spec §5), so the real
 * `@aws-sdk/client-apigatewaymanagementapi` client can be pointed at it:
 * - POST /{stage}/@connections/{id} for an open id → 200, empty body, and the frame is recorded;
 * - unknown or closed id → 410 with `x-amzn-ErrorType: GoneException` and body `{}`;
 * - scripted failures per id: 429 `LimitExceededException`, 413 `PayloadTooLargeException`, 403
 *   `ForbiddenException`, 500 `InternalServerErrorException`, or `'destroy'`: the socket is destroyed without an
 *   answer, after the request was read and before anything is delivered (recorded with status 0);
 * - data over 131072 bytes → 413;
 * - DELETE /{stage}/@connections/{id} (DeleteConnection) for an open id → 204 and the id is closed; else 410.
 * It also records the most posts ever in flight at once, to check bounded concurrency.
 */
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

type ScriptedStatus = 429 | 413 | 403 | 500 | 'destroy';
const ERROR_TYPES: Record<number, string> = {
  403: 'ForbiddenException',
  410: 'GoneException',
  413: 'PayloadTooLargeException',
  429: 'LimitExceededException',
  500: 'InternalServerErrorException',
};

export interface FakeConnectionsApi {
  /** The CALLBACK_URL: `http://127.0.0.1:{port}/{stage}`. */
  readonly callbackUrl: string;
  open(...ids: string[]): void;
  close(id: string): void;
  /** The next `times` posts to `id` fail with `status`. */
  failNext(id: string, status: ScriptedStatus, times: number): void;
  /** Frames received by `id`, parsed as JSON. */
  received(id: string): unknown[];
  /** Every POST seen, in order, including refused ones (status 0: the socket was destroyed without an answer). */
  readonly attempts: ReadonlyArray<{ id: string; status: number }>;
  readonly maxInFlight: number;
  /** Ids closed by DeleteConnection, in order. */
  readonly deleted: readonly string[];
  /** Every request the server received (any method), to prove that none was made. */
  readonly requestCount: number;
  stop(): Promise<void>;
}

export async function startFakeConnectionsApi(stage = 'test', answerDelayMs = 2): Promise<FakeConnectionsApi> {
  const open = new Set<string>();
  const inbox = new Map<string, string[]>();
  const scripted = new Map<string, { status: ScriptedStatus; times: number }>();
  const attempts: { id: string; status: number }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let requestCount = 0;
  const deleted: string[] = [];

  const answer = (res: ServerResponse, status: number, body = '') => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (ERROR_TYPES[status]) headers['x-amzn-ErrorType'] = ERROR_TYPES[status];
    res.writeHead(status, headers).end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const data = Buffer.concat(chunks);
    const match = /^\/([^/]+)\/(?:@|%40)connections\/([^/?]+)$/.exec(req.url ?? '');
    if (req.method === 'DELETE' && match && match[1] === stage) {
      const id = decodeURIComponent(match[2]);
      if (!open.has(id)) return answer(res, 410, '{}');
      open.delete(id);
      deleted.push(id);
      return answer(res, 204);
    }
    if (req.method !== 'POST' || !match || match[1] !== stage) return answer(res, 404, '{"message":"Not Found"}');
    const id = decodeURIComponent(match[2]);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((resolve) => setTimeout(resolve, answerDelayMs));
    inFlight--;
    const script = scripted.get(id);
    let status = 200;
    if (script && script.times > 0) {
      script.times--;
      if (script.status === 'destroy') {
        attempts.push({ id, status: 0 });
        req.socket.destroy();
        return;
      }
      status = script.status;
    } else if (!open.has(id)) status = 410;
    else if (data.length > 131072) status = 413;
    attempts.push({ id, status });
    if (status !== 200) return answer(res, status, status === 410 ? '{}' : `{"message":"${ERROR_TYPES[status]}"}`);
    inbox.set(id, [...(inbox.get(id) ?? []), data.toString('utf8')]);
    return answer(res, 200);
  };

  const server = createServer((req, res) => {
    requestCount++;
    handle(req, res).catch(() => answer(res, 500, '{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    callbackUrl: `http://127.0.0.1:${port}/${stage}`,
    open: (...ids) => ids.forEach((id) => open.add(id)),
    close: (id) => open.delete(id),
    failNext: (id, status, times) => scripted.set(id, { status, times }),
    received: (id) => (inbox.get(id) ?? []).map((s) => JSON.parse(s) as unknown),
    attempts,
    get maxInFlight() {
      return maxInFlight;
    },
    deleted,
    get requestCount() {
      return requestCount;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
