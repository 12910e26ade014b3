/**
 * Messenger (lambda/runtime/messenger.ts): how each error the SDK can raise is classified (retried, gone, too
 * large, failed), the payload limit at its boundary, the retry schedule and the bounded fan-out. The
 * `@connections` answers over real HTTP are in store-and-messenger.test.ts; here the SDK client is either the real
 * one failing before any request (credentials) or timing out against a real socket that never answers, or a
 * scripted `send` that raises the error objects the SDK raises (its own exception classes, and the Node.js socket
 * errors it passes on), so that every classification is pinned without a server that can produce it.
 * Comments name the mutant each test was written to kill ("kills: ...").
 */
import { createServer, Server, Socket } from 'node:net';
import { createServer as createHttpServer, IncomingMessage, ServerResponse } from 'node:http';
import {
  ApiGatewayManagementApiClient,
  ForbiddenException,
  GoneException,
  LimitExceededException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { createLogger } from '../../../lambda/runtime/log';
import { createManagementClient, MANAGEMENT_MAX_SOCKETS } from '../../../lambda/runtime/management-client';
import { MAX_POST_BYTES, MessageTooLargeError, Messenger, MessengerOptions } from '../../../lambda/runtime/messenger';
import { TEST_CREDENTIALS } from '../support/local-dynamodb';

/** A stand-in for the SDK client's `send`: answers each call from a script (an error to throw, or success). */
class ScriptedClient {
  readonly sent: Array<{ connectionId: string; data: Buffer }> = [];
  /** The `Data` objects as given to the SDK (not copies). */
  readonly given: unknown[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private gate: Promise<void> | undefined;
  private release: (() => void) | undefined;

  constructor(private readonly answer: (connectionId: string, attempt: number) => unknown | undefined) {}

  /** Holds every send until `open()` (to observe how many are in flight). */
  hold(): void {
    this.gate = new Promise((resolve) => (this.release = resolve));
  }
  open(): void {
    this.release?.();
  }

  async send(command: PostToConnectionCommand): Promise<object> {
    const connectionId = command.input.ConnectionId as string;
    this.sent.push({ connectionId, data: Buffer.from(command.input.Data as Uint8Array) });
    this.given.push(command.input.Data);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.gate) await this.gate;
      const attempt = this.sent.filter((s) => s.connectionId === connectionId).length;
      const error = this.answer(connectionId, attempt);
      if (error !== undefined) throw error;
      return { $metadata: { httpStatusCode: 200 } };
    } finally {
      this.inFlight--;
    }
  }

  attempts(connectionId: string): number {
    return this.sent.filter((s) => s.connectionId === connectionId).length;
  }
}

const meta = (httpStatusCode: number) => ({ httpStatusCode, attempts: 1, totalRetryDelay: 0 });
/** The Node.js socket error the SDK's HTTP handler passes on as is. */
const socketError = (code: string, message = 'request failed') => Object.assign(new Error(message), { code });
/** The SDK's request timeout (node-http-handler): an Error named TimeoutError, no code, no $metadata. */
const sdkTimeout = () => Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' });

function messengerFor(client: unknown, extra: Partial<MessengerOptions> = {}): { m: Messenger; waits: number[]; logs: Array<Record<string, unknown>>; removed: string[] } {
  const waits: number[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const removed: string[] = [];
  const m = new Messenger({
    client: client as ApiGatewayManagementApiClient,
    removeConnection: async (id) => void removed.push(id),
    sleep: async (ms) => void waits.push(ms),
    random: () => 0,
    log: createLogger({}, (line) => logs.push(JSON.parse(line))),
    ...extra,
  });
  return { m, waits, logs, removed };
}

/** Fails the first `times` attempts with `error`, then delivers. */
const failing = (error: () => unknown, times = Infinity) => new ScriptedClient((_id, attempt) => (attempt <= times ? error() : undefined));

describe('Messenger.post: what is retried', () => {
  test.each([
    ['HTTP 429 LimitExceededException', () => new LimitExceededException({ $metadata: meta(429), message: 'Rate exceeded' })],
    ['a LimitExceededException without a status', () => new LimitExceededException({ $metadata: {}, message: 'Rate exceeded' })],
    ['HTTP 429 under another name', () => Object.assign(new Error('slow down'), { name: 'ThrottlingException', $metadata: meta(429) })],
    ['HTTP 500', () => Object.assign(new Error('internal'), { name: 'InternalServerError', $metadata: meta(500) })],
    ['HTTP 503', () => Object.assign(new Error('unavailable'), { name: 'ServiceUnavailable', $metadata: meta(503) })],
    ['HTTP 599', () => Object.assign(new Error('x'), { name: 'Unknown', $metadata: meta(599) })],
    ['the SDK TimeoutError', sdkTimeout],
    ['socket ECONNRESET (by code)', () => socketError('ECONNRESET')],
    ['socket EPIPE (by code)', () => socketError('EPIPE')],
    ['socket ETIMEDOUT (by code)', () => socketError('ETIMEDOUT')],
    ['socket ECONNREFUSED (by code)', () => socketError('ECONNREFUSED')],
    ['a wrapped socket error (by message)', () => new Error('AWS SDK error wrapper for TimeoutError: socket hang up')],
    ['a wrapped ECONNRESET (by message)', () => new Error('AWS SDK error wrapper for Error: read ECONNRESET')],
    // Only a 4xx or 5xx status decides; a socket error while reading a 200 answer is still a socket error
    // (kills: `status >= 400` → true, which would make every numeric status final).
    ['a socket error with a 200 status', () => Object.assign(socketError('ECONNRESET'), { $metadata: meta(200) })],
  ])('GIVEN %s on the first two attempts WHEN posted THEN it is retried and delivered on the third', async (_name, error) => {
    // GIVEN
    const client = failing(error, 2);
    const { m, waits } = messengerFor(client);
    // WHEN
    const outcome = await m.post('c1', 'hi');
    // THEN (kills: each classification turned 'other', the 5xx bounds `>= 500`/`<= 599` narrowed, each network
    // code and the TimeoutError name check removed, `typeof e.code === 'string' &&` → `||`)
    expect(outcome).toBe('delivered');
    expect(client.attempts('c1')).toBe(3);
    expect(waits).toHaveLength(2);
  });

  test.each([
    ['HTTP 403 ForbiddenException', () => new ForbiddenException({ $metadata: meta(403), message: 'Forbidden' })],
    ['HTTP 400', () => Object.assign(new Error('bad request'), { name: 'BadRequestException', $metadata: meta(400) })],
    ['HTTP 499', () => Object.assign(new Error('x'), { name: 'Unknown', $metadata: meta(499) })],
    ['HTTP 600', () => Object.assign(new Error('x'), { name: 'Unknown', $metadata: meta(600) })],
    ['HTTP 400 whose message names a socket error', () => Object.assign(new Error('read ECONNRESET'), { name: 'BadRequestException', $metadata: meta(400) })],
    ['a credentials error (neither HTTP nor network)', () => Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' })],
    ['an error without $metadata, name or code', () => new Error('something else')],
    ['a socket error with another code', () => socketError('ENOTFOUND', 'getaddrinfo ENOTFOUND example')],
    ['a thrown string', () => 'ECONNRESET'],
    ['a thrown null', () => null],
    ['an object with a numeric code', () => ({ code: 104 })],
  ])('GIVEN %s WHEN posted THEN it is not retried, resolves "failed" (never rejects) and is logged once', async (_name, error) => {
    // GIVEN
    const client = failing(error);
    const { m, waits, logs } = messengerFor(client);
    // WHEN
    const outcome = await m.post('c1', 'hi');
    // THEN (kills: the final `return 'other'` → 'transient', `>= 400` → `> 400`, status checks before the message
    // check reordered, `typeof err === 'object' && err !== null` → true (null would throw inside the catch),
    // `e.$metadata?.httpStatusCode` → `e.$metadata.httpStatusCode` (an error without $metadata would reject))
    expect(outcome).toBe('failed');
    expect(client.attempts('c1')).toBe(1);
    expect(waits).toEqual([]);
    expect(logs).toEqual([expect.objectContaining({ level: 'warn', event: 'post_failed', connectionId: 'c1', attempts: 1 })]);
  });

  test('GIVEN the real SDK client whose credentials cannot be loaded WHEN posted THEN one attempt, no retry, "failed"', async () => {
    // GIVEN a real client: the credentials provider fails before any request is made
    let loads = 0;
    const client = createManagementClient('http://127.0.0.1:9', {
      region: 'us-east-1',
      credentials: async () => {
        loads++;
        throw Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
      },
    });
    const { m, waits } = messengerFor(client);
    try {
      // WHEN
      const outcome = await m.post('c1', 'hi');
      // THEN (kills: the final `return 'other'` → 'transient')
      expect(outcome).toBe('failed');
      expect(waits).toEqual([]);
      expect(loads).toBe(1);
    } finally {
      client.destroy();
    }
  });

  test('GIVEN the real SDK client and an endpoint that accepts but never answers WHEN posted THEN its TimeoutError is retried up to maxAttempts', async () => {
    // GIVEN a TCP server that holds every connection open without a byte of answer
    const sockets: Socket[] = [];
    const server: Server = createServer((s) => void sockets.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const client = createManagementClient(`http://127.0.0.1:${port}`, {
      region: 'us-east-1',
      credentials: TEST_CREDENTIALS,
      requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true },
    });
    const { m, waits, logs } = messengerFor(client, { maxAttempts: 2 });
    try {
      // WHEN
      const outcome = await m.post('c1', 'hi');
      // THEN two requests reached the server and the timeout was classified as transient (kills: the
      // TimeoutError check removed; the message "...timed out after 300 ms" matches no network text)
      expect(outcome).toBe('failed');
      expect(sockets.length).toBe(2);
      expect(waits).toHaveLength(1);
      expect(logs).toEqual([expect.objectContaining({ event: 'post_failed', attempts: 2, error: 'TimeoutError' })]);
    } finally {
      client.destroy();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('Messenger.post: gone and too large', () => {
  test.each([
    ['HTTP 410 GoneException', () => new GoneException({ $metadata: meta(410), message: 'Gone' })],
    ['a GoneException without a status', () => new GoneException({ $metadata: {}, message: 'Gone' })],
    ['HTTP 410 under another name', () => Object.assign(new Error('gone'), { name: 'Unknown', $metadata: meta(410) })],
  ])('GIVEN %s WHEN posted THEN "gone", that connection is removed and it is not retried', async (_name, error) => {
    // GIVEN
    const client = failing(error);
    const { m, removed, logs } = messengerFor(client);
    // WHEN / THEN (kills: the name check or the 410 check removed, `||` → `&&`)
    expect(await m.post('stale', 'hi')).toBe('gone');
    expect(removed).toEqual(['stale']);
    expect(client.attempts('stale')).toBe(1);
    expect(logs).toEqual([expect.objectContaining({ level: 'info', event: 'stale_connection_removed', connectionId: 'stale' })]);
  });

  test.each([
    ['HTTP 413 PayloadTooLargeException', () => new PayloadTooLargeException({ $metadata: meta(413), message: 'too large' })],
    ['a PayloadTooLargeException without a status', () => new PayloadTooLargeException({ $metadata: {}, message: 'too large' })],
    ['HTTP 413 under another name', () => Object.assign(new Error('x'), { name: 'Unknown', $metadata: meta(413) })],
  ])('GIVEN %s WHEN posted THEN a MessageTooLargeError, after one attempt', async (_name, error) => {
    const client = failing(error);
    const { m } = messengerFor(client);
    // kills: the name check or the 413 check removed
    await expect(m.post('c1', 'hi')).rejects.toThrow(MessageTooLargeError);
    expect(client.attempts('c1')).toBe(1);
  });

  test('GIVEN data of exactly 131,072 bytes (multi-byte characters) WHEN posted and fanned out THEN it is sent, byte for byte', async () => {
    // GIVEN 65,536 two-byte characters: 131,072 bytes, 65,536 UTF-16 units
    const data = 'é'.repeat(MAX_POST_BYTES / 2);
    const client = new ScriptedClient(() => undefined);
    const { m } = messengerFor(client);
    // WHEN
    const outcome = await m.post('c1', data);
    const counts = await m.fanOut([['c2']], data);
    // THEN (kills: `bytes > MAX_POST_BYTES` → `>=` in post and in fanOut)
    expect(outcome).toBe('delivered');
    expect(counts).toEqual({ delivered: 1, gone: 0, failed: 0 });
    expect(client.sent.map((s) => s.data.length)).toEqual([131072, 131072]);
    expect(client.sent[0].data.toString('utf8')).toBe(data);
  });

  test('GIVEN data of 131,073 bytes WHEN posted or fanned out THEN a MessageTooLargeError naming the size, and no request', async () => {
    const client = new ScriptedClient(() => undefined);
    const { m } = messengerFor(client);
    const data = `${'é'.repeat(MAX_POST_BYTES / 2)}x`;
    // kills: the byte count taken as `data.length` (65,537 would pass), the check removed
    await expect(m.post('c1', data)).rejects.toThrow(/131073 bytes/);
    await expect(m.fanOut([['c1']], data)).rejects.toThrow(/131073 bytes/);
    expect(client.sent).toEqual([]);
  });
});

describe('Messenger: the retry schedule and its options', () => {
  test('GIVEN the defaults WHEN every attempt is throttled THEN 4 attempts, waits 50/100/200 ms with no jitter and 100/200/400 ms at the top', async () => {
    // GIVEN the default maxAttempts, retryBaseMs and retryMaxMs
    const throttle = () => new LimitExceededException({ $metadata: meta(429), message: 'Rate exceeded' });
    const low = messengerFor(failing(throttle), { random: () => 0 });
    const high = messengerFor(failing(throttle), { random: () => 0.999999 });
    // WHEN
    expect(await low.m.post('c1', 'x')).toBe('failed');
    expect(await high.m.post('c1', 'x')).toBe('failed');
    // THEN "equal jitter": half of min(max, base·2^(n-1)) fixed, the other half random
    // (kills: default 4 → other, `2 ** (attempt - 1)` → `attempt + 1`, `/ 2` → `* 2`, `+` → `-`)
    expect(low.waits).toEqual([50, 100, 200]);
    expect(high.waits.map(Math.round)).toEqual([100, 200, 400]);
  });

  test('GIVEN a cap below the growth WHEN retried many times THEN each wait is bounded by retryMaxMs', async () => {
    const { m, waits } = messengerFor(failing(sdkTimeout), { maxAttempts: 7, retryBaseMs: 10, retryMaxMs: 100, random: () => 0.5 });
    expect(await m.post('c1', 'x')).toBe('failed');
    // kills: `Math.min` → `Math.max`, the default 2000 used instead of the option
    expect(waits).toEqual([7.5, 15, 30, 60, 75, 75]);
  });

  test('GIVEN maxAttempts 0 or 2.7 WHEN throttled THEN at least one attempt, and fractions round down', async () => {
    const zero = failing(sdkTimeout);
    const frac = failing(sdkTimeout);
    // kills: `Math.max(1, ...)` → `Math.min`, `Math.floor` removed (2.7 would allow a third attempt)
    expect(await messengerFor(zero, { maxAttempts: 0 }).m.post('c1', 'x')).toBe('failed');
    expect(await messengerFor(frac, { maxAttempts: 2.7 }).m.post('c1', 'x')).toBe('failed');
    expect(zero.attempts('c1')).toBe(1);
    expect(frac.attempts('c1')).toBe(2);
  });

  test('GIVEN a stale connection whose records cannot be removed WHEN posted THEN still "gone", with a warning', async () => {
    const client = failing(() => new GoneException({ $metadata: meta(410), message: 'Gone' }));
    const { m, logs } = messengerFor(client, {
      removeConnection: async () => {
        throw new Error('table unavailable');
      },
    });
    expect(await m.post('stale', 'x')).toBe('gone');
    expect(logs).toEqual([expect.objectContaining({ level: 'warn', event: 'stale_connection_not_removed', connectionId: 'stale', errorMessage: 'table unavailable' })]);
  });
});

describe('Messenger: its default logger', () => {
  test('GIVEN no log option WHEN a post fails THEN one JSON line on stdout names the messenger component', async () => {
    // GIVEN
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const m = new Messenger({
        client: failing(() => new ForbiddenException({ $metadata: meta(403), message: 'Forbidden' })) as unknown as ApiGatewayManagementApiClient,
        removeConnection: async () => undefined,
      });
      // WHEN
      expect(await m.post('c1', 'x')).toBe('failed');
    } finally {
      write.mockRestore();
    }
    // THEN (kills: the default logger's `{ component: 'messenger' }` → `{}` or `component: ''`)
    expect(lines.map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ component: 'messenger', event: 'post_failed', connectionId: 'c1' })]);
  });
});

describe('Messenger.fanOut', () => {
  test('GIVEN a concurrency of 2.5 WHEN fanned out to 6 connections on two pages THEN at most 2 posts are in flight, and all are counted', async () => {
    // GIVEN sends held until all that may start have started
    const client = new ScriptedClient((id) => (id === 'g' ? new GoneException({ $metadata: meta(410), message: 'Gone' }) : id === 'f' ? new ForbiddenException({ $metadata: meta(403), message: 'no' }) : undefined));
    client.hold();
    const { m } = messengerFor(client, { concurrency: 2.5 });
    // WHEN
    const done = m.fanOut([['a', 'b', 'g'], ['f', 'e', 'd']], 'x');
    await new Promise((resolve) => setImmediate(resolve));
    const startedWhileHeld = client.sent.length;
    client.open();
    const counts = await done;
    // THEN (kills: `Math.floor` removed (3 would start), `Math.max(1, …)` → `Math.min`, `>=` → `>` in the wait loop)
    expect(startedWhileHeld).toBe(2);
    expect(client.maxInFlight).toBe(2);
    expect(counts).toEqual({ delivered: 4, gone: 1, failed: 1 });
    expect(client.sent.map((s) => s.connectionId).sort()).toEqual(['a', 'b', 'd', 'e', 'f', 'g']);
  });

  test('GIVEN a concurrency of 0 WHEN fanned out THEN one post at a time, still every connection', async () => {
    const client = new ScriptedClient(() => undefined);
    const { m } = messengerFor(client, { concurrency: 0 });
    // kills: `Math.max(1, …)` → the raw 0 (the wait loop would never start a post)
    expect(await m.fanOut([['a', 'b', 'c']], 'x')).toEqual({ delivered: 3, gone: 0, failed: 0 });
    expect(client.maxInFlight).toBe(1);
  });

  test('GIVEN one connection answers 413 WHEN fanned out THEN it counts as failed, is logged, and the others are delivered', async () => {
    const client = new ScriptedClient((id) => (id === 'big' ? new PayloadTooLargeException({ $metadata: meta(413), message: 'too large' }) : undefined));
    const { m, logs } = messengerFor(client);
    // kills: the rejection handler's `counts.failed++` removed
    expect(await m.fanOut([['a', 'big', 'b']], 'x')).toEqual({ delivered: 2, gone: 0, failed: 1 });
    expect(logs).toEqual([expect.objectContaining({ level: 'warn', event: 'post_failed', connectionId: 'big', error: 'MessageTooLargeError' })]);
  });

  test('GIVEN async pages WHEN fanned out THEN every page is consumed', async () => {
    const client = new ScriptedClient(() => undefined);
    const { m } = messengerFor(client, { concurrency: 3 });
    const pages = (async function* () {
      yield ['a', 'b'];
      yield [];
      yield ['c'];
    })();
    expect(await m.fanOut(pages, 'x')).toEqual({ delivered: 3, gone: 0, failed: 0 });
    expect(client.sent.map((s) => s.connectionId).sort()).toEqual(['a', 'b', 'c']);
  });

  test('GIVEN a paged source and every post held WHEN fanned out THEN the next page is read while one is posted, never two ahead', async () => {
    // GIVEN a source that records each page it reads, and one post at a time, held
    const reads: number[] = [];
    const pages = (async function* () {
      for (const [i, page] of [['a', 'b'], ['c', 'd'], ['e']].entries()) {
        reads.push(i + 1);
        yield page;
      }
    })();
    const client = new ScriptedClient(() => undefined);
    client.hold();
    const { m } = messengerFor(client, { concurrency: 1 });
    // WHEN
    const done = m.fanOut(pages, 'x');
    await new Promise((resolve) => setImmediate(resolve));
    const whileHeld = { sent: client.sent.map((s) => s.connectionId), reads: [...reads] };
    client.open();
    const counts = await done;
    // THEN page 2 was read while 'a' was in flight, page 3 not yet (kills: the read-ahead after a page is taken
    // removed (reads [1]), reading without waiting for the page to be taken (reads [1,2,3]))
    expect(whileHeld).toEqual({ sent: ['a'], reads: [1, 2] });
    expect(counts).toEqual({ delivered: 5, gone: 0, failed: 0 });
    expect(client.sent.map((s) => s.connectionId)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  test('GIVEN 3 posts in flight and pages of 1 WHEN each page is taken by another worker THEN every id is posted exactly once', async () => {
    // GIVEN many small pages and more workers than ids per page: workers wait on the same read
    const ids = Array.from({ length: 25 }, (_, i) => `c${i}`);
    const pages = (async function* () {
      for (const id of ids) {
        await new Promise((resolve) => setImmediate(resolve));
        yield [id];
      }
    })();
    const client = new ScriptedClient(() => undefined);
    const { m } = messengerFor(client, { concurrency: 3 });
    // WHEN
    const counts = await m.fanOut(pages, 'x');
    // THEN (kills: the "only the first waiter moves the cursor" check removed: a page would be taken twice and
    // one skipped)
    expect(counts).toEqual({ delivered: 25, gone: 0, failed: 0 });
    expect(client.sent.map((s) => s.connectionId)).toEqual(ids);
  });

  test('GIVEN a source whose second page fails WHEN fanned out THEN fanOut rejects with its error; a failing first page rejects before any post', async () => {
    const failAt = (n: number) => (async function* () {
      for (let i = 1; ; i++) {
        if (i === n) throw new Error(`page ${i} could not be read`);
        yield [`c${i}`];
      }
    })();
    // GIVEN posts held, so the second page fails while nobody waits for it yet
    const client = new ScriptedClient(() => undefined);
    client.hold();
    const { m } = messengerFor(client, { concurrency: 1 });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const rejected = expect(m.fanOut(failAt(2), 'x')).rejects.toThrow(/page 2 could not be read/);
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      client.open();
      // THEN (kills: the read-ahead's rejection left unhandled, which ends the process)
      await rejected;
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    const before = client.sent.length;
    await expect(m.fanOut(failAt(1), 'x')).rejects.toThrow(/page 1 could not be read/);
    expect(client.sent.length).toBe(before);
  });

  test('GIVEN a sync iterable of pages WHEN fanned out THEN the frame is encoded once: every post gets the same bytes', async () => {
    const client = new ScriptedClient(() => undefined);
    const { m } = messengerFor(client, { concurrency: 2 });
    const text = 'héllo €';
    // WHEN
    const counts = await m.fanOut(new Set([['a', 'b'], ['c']]), text);
    // THEN one Uint8Array object for all three posts, holding the UTF-8 bytes
    expect(counts).toEqual({ delivered: 3, gone: 0, failed: 0 });
    expect(new Set(client.given).size).toBe(1);
    expect(client.sent.map((s) => s.data.toString('utf8'))).toEqual([text, text, text]);
  });
});

describe('createManagementClient', () => {
  test('GIVEN the real client and 60 posts in flight (more than the SDK default agent\'s 50 sockets) WHEN the server answers only once all 60 arrived THEN each has its own socket and all are delivered', async () => {
    // GIVEN an @connections stand-in that holds every answer until 60 requests are pending at once
    const held: ServerResponse[] = [];
    const sockets = new Set<unknown>();
    const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
      sockets.add(req.socket);
      req.resume();
      req.on('end', () => {
        held.push(res);
        if (held.length === 60) for (const r of held.splice(0)) r.writeHead(200, { 'content-type': 'application/json' }).end('');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const client = createManagementClient(`http://127.0.0.1:${port}/prod`, { region: 'us-east-1', credentials: TEST_CREDENTIALS });
    const { m } = messengerFor(client, { concurrency: 60 });
    try {
      // WHEN
      const counts = await m.fanOut([Array.from({ length: 60 }, (_, i) => `c${i}`)], 'x');
      // THEN (with 50 sockets, 10 posts would queue behind held answers and this would never finish)
      expect(counts).toEqual({ delivered: 60, gone: 0, failed: 0 });
      expect(sockets.size).toBe(60);
      expect(MANAGEMENT_MAX_SOCKETS).toBeGreaterThanOrEqual(1000);
      expect(client.config.cacheMiddleware).toBe(true);
    } finally {
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  }, 20_000);
});
