/**
 * Sends frames to connections through the `@connections` API, one or many.
 * - 410 Gone (`name === 'GoneException'` or HTTP 410; SDK v3 has no `statusCode`): the connection is stale, so
 *   the records of THAT connection are removed through `removeConnection`.
 * - 429 LimitExceeded (rate limit or the client's buffer is full), any 5xx, and network errors (ECONNRESET,
 *   "socket hang up", EPIPE, ETIMEDOUT, ECONNREFUSED, the SDK's TimeoutError): retried with exponential backoff
 *   and jitter, a bounded number of times, then counted as failed. A network error can hide a post the API had
 *   already delivered, so a retry after one may, rarely, deliver the frame twice (at-least-once, like the SDK's
 *   own retries); clients that cannot tolerate that de-duplicate by message id.
 * - 413 PayloadTooLarge, or data over the 128 KB limit: a MessageTooLargeError.
 * - 403 Forbidden and any other 4xx: not retried, counted as failed.
 * The SDK client should be built with `maxAttempts: 1` so that these retries are the only ones.
 */
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { Logger, createLogger, describeError } from './log';
import { sleep as realSleep } from './sleep';
import { LIMITS } from '../../contract/gateway-contract';
import { MessageTooLargeError } from './errors';

/** PostToConnection `Data` limit: 0 to 131072 bytes. */
export const MAX_POST_BYTES = LIMITS.maxPostBytes;

export { MessageTooLargeError };

export type PostOutcome = 'delivered' | 'gone' | 'failed';

export interface FanOutCounts {
  readonly delivered: number;
  readonly gone: number;
  readonly failed: number;
}

export interface MessengerOptions {
  readonly client: ApiGatewayManagementApiClient;
  /** Deletes the records of a connection that answered 410 Gone. */
  readonly removeConnection: (connectionId: string) => Promise<unknown>;
  /** Maximum concurrent posts in `fanOut`. @default 20 (FANOUT_CONCURRENCY) */
  readonly concurrency?: number;
  /** Attempts per post when throttled (429), on 5xx or on a network error, the first included. @default 4 */
  readonly maxAttempts?: number;
  /** Backoff before the first retry, doubled each retry. @default 100 */
  readonly retryBaseMs?: number;
  /** Upper bound of one backoff. @default 2000 */
  readonly retryMaxMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Source of jitter in [0, 1). @default Math.random */
  readonly random?: () => number;
  readonly log?: Logger;
}

type ErrorKind = 'gone' | 'throttled' | 'too-large' | 'transient' | 'other';

/** Node.js socket error codes after which the post may be sent again. */
const RETRYABLE_NETWORK_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED']);
const NETWORK_ERROR_TEXT = /\b(?:ECONNRESET|EPIPE|ETIMEDOUT|ECONNREFUSED|TimeoutError)\b|socket hang up/;

/** The frame as UTF-8 bytes, checked against the post limit before any request. */
function encode(data: string): Uint8Array {
  const bytes = Buffer.from(data, 'utf8');
  if (bytes.length > MAX_POST_BYTES) throw new MessageTooLargeError(bytes.length);
  return bytes;
}

/**
 * Hands out the connection ids of a paged source one at a time to concurrent callers. When a page is taken,
 * the next one is requested at once (read-ahead of one page); a caller that finds the current page used up
 * waits for that read. A source that throws rejects every waiting `next()` with its error.
 */
class PageCursor {
  private readonly pages: AsyncIterator<readonly string[]> | Iterator<readonly string[]>;
  private page: readonly string[] = [];
  private index = 0;
  private ahead: Promise<IteratorResult<readonly string[]>> | undefined;
  private done = false;

  constructor(source: AsyncIterable<readonly string[]> | Iterable<readonly string[]>) {
    this.pages = Symbol.asyncIterator in source
      ? (source as AsyncIterable<readonly string[]>)[Symbol.asyncIterator]()
      : (source as Iterable<readonly string[]>)[Symbol.iterator]();
  }

  /** Requests the first page (and so surfaces a source that fails at once). */
  async prime(): Promise<void> {
    this.readAhead();
    await this.ahead;
  }

  /** The next connection id, or undefined when every page has been handed out. */
  async next(): Promise<string | undefined> {
    while (this.index >= this.page.length) {
      if (this.done) return undefined;
      if (!this.ahead) this.readAhead();
      const pending = this.ahead!;
      const result = await pending;
      // Another caller may have taken this page while we waited: only the first one moves the cursor.
      if (this.ahead === pending) {
        this.ahead = undefined;
        if (result.done) {
          this.done = true;
          return undefined;
        }
        this.page = result.value;
        this.index = 0;
        this.readAhead();
      }
    }
    return this.page[this.index++];
  }

  private readAhead(): void {
    if (this.ahead || this.done) return;
    const read = Promise.resolve(this.pages.next());
    // A read that fails while every worker is still posting must not be an unhandled rejection (which ends a
    // Lambda process); the worker that awaits it next gets the error.
    read.catch(() => undefined);
    this.ahead = read;
  }
}

function classify(err: unknown): ErrorKind {
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  const status = e.$metadata?.httpStatusCode;
  if (e.name === 'GoneException' || status === 410) return 'gone';
  if (e.name === 'LimitExceededException' || status === 429) return 'throttled';
  if (e.name === 'PayloadTooLargeException' || status === 413) return 'too-large';
  if (typeof status === 'number' && status >= 500 && status <= 599) return 'transient';
  if (typeof status === 'number' && status >= 400) return 'other';
  if (typeof e.code === 'string' && RETRYABLE_NETWORK_CODES.has(e.code)) return 'transient';
  if (e.name === 'TimeoutError') return 'transient';
  // The SDK passes a socket error on as is, or, when it is not an `Error` of this realm (a vm context such as
  // jest's), as a new Error whose message is its text ("AWS SDK error wrapper for TimeoutError: socket hang up").
  if (typeof e.message === 'string' && NETWORK_ERROR_TEXT.test(e.message)) return 'transient';
  return 'other';
}

export class Messenger {
  private readonly client: ApiGatewayManagementApiClient;
  private readonly removeConnection: (connectionId: string) => Promise<unknown>;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly log: Logger;

  constructor(options: MessengerOptions) {
    this.client = options.client;
    this.removeConnection = options.removeConnection;
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? LIMITS.defaultFanoutConcurrency));
    this.maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? 4));
    this.retryBaseMs = options.retryBaseMs ?? 100;
    this.retryMaxMs = options.retryMaxMs ?? 2000;
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    this.log = options.log ?? createLogger({ component: 'messenger' });
  }

  /**
   * Posts one frame to one connection. Resolves to what happened; rejects only with MessageTooLargeError.
   * On 410 the records of `connectionId` (the one posted to) are removed before resolving `'gone'`.
   */
  async post(connectionId: string, data: string): Promise<PostOutcome> {
    return this.postBytes(connectionId, encode(data));
  }

  /**
   * Posts one frame to many connections with at most `concurrency` posts in flight, consuming the targets page
   * by page. Every post settles on its own (one failure stops nothing); returns the counts.
   *
   * The frame is encoded once and the same bytes go to every recipient. `concurrency` workers take the next
   * connection id from the current page as soon as their post settles, and the next page is requested when
   * the current one is taken, so posting does not stop while a page is read. At most two pages are held at a
   * time (the one being posted and the one read ahead): memory does not grow with the audience.
   */
  async fanOut(targets: AsyncIterable<readonly string[]> | Iterable<readonly string[]>, data: string): Promise<FanOutCounts> {
    const bytes = encode(data);
    const counts = { delivered: 0, gone: 0, failed: 0 };
    const cursor = new PageCursor(targets);
    const worker = async (): Promise<void> => {
      for (let connectionId = await cursor.next(); connectionId !== undefined; connectionId = await cursor.next()) {
        try {
          counts[await this.postBytes(connectionId, bytes)]++;
        } catch (err) {
          counts.failed++;
          this.log.warn('post_failed', { connectionId, ...describeError(err) });
        }
      }
    };
    // Start the first page's read before the workers, so a failing page source rejects once, here.
    await cursor.prime();
    await Promise.all(Array.from({ length: this.concurrency }, worker));
    return counts;
  }

  private async postBytes(connectionId: string, data: Uint8Array): Promise<PostOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
        return 'delivered';
      } catch (err) {
        const kind = classify(err);
        if (kind === 'gone') {
          await this.forget(connectionId);
          return 'gone';
        }
        if (kind === 'too-large') throw new MessageTooLargeError(undefined);
        if ((kind === 'throttled' || kind === 'transient') && attempt < this.maxAttempts) {
          await this.sleep(this.backoff(attempt));
          continue;
        }
        this.log.warn('post_failed', { connectionId, attempts: attempt, ...describeError(err) });
        return 'failed';
      }
    }
  }

  /** Exponential backoff with "equal jitter": half fixed, half random. */
  private backoff(attempt: number): number {
    const ceiling = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (attempt - 1));
    return ceiling / 2 + (this.random() * ceiling) / 2;
  }

  private async forget(connectionId: string): Promise<void> {
    try {
      await this.removeConnection(connectionId);
      this.log.info('stale_connection_removed', { connectionId });
    } catch (err) {
      // The TTL removes it eventually; the post outcome is still "gone".
      this.log.warn('stale_connection_not_removed', { connectionId, ...describeError(err) });
    }
  }
}
