/**
 * Test kit for the gateway tests: a FunctionInvoker of our own seam backed by plain async functions
 * (stand-ins for handlers; not a double of AWS), a queued WebSocket client, and a polling wait.
 */
import WebSocket from 'ws';
import type { FunctionInvoker, InvocationOutcome } from '../../local/model';

/** Thrown by an in-test handler to report a timeout, as the real invoker does. */
export class HandlerTimedOut extends Error {}

export type InTestHandler = (event: any) => unknown;

export class InTestInvoker implements FunctionInvoker {
  readonly calls: Array<{ functionId: string; event: any }> = [];

  constructor(private readonly handlers: Record<string, InTestHandler>) {}

  async invoke(functionId: string, event: unknown): Promise<InvocationOutcome> {
    this.calls.push({ functionId, event });
    const started = Date.now();
    const handler = this.handlers[functionId];
    if (!handler) return { error: { errorType: 'Error', errorMessage: `no handler ${functionId}` }, durationMs: 0 };
    try {
      const result = await handler(event);
      return { result, durationMs: Date.now() - started };
    } catch (err) {
      if (err instanceof HandlerTimedOut) return { timedOut: true, durationMs: Date.now() - started };
      const error = err as Error;
      return { error: { errorType: error.name, errorMessage: error.message }, durationMs: Date.now() - started };
    }
  }

  async close(): Promise<void> {}

  eventsOf(functionId: string): any[] {
    return this.calls.filter((c) => c.functionId === functionId).map((c) => c.event);
  }
}

/** Polls until `probe` returns a value (bounded: 10 s), for effects that happen after a close. */
export async function eventually<T>(probe: () => T | undefined | false, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A `ws` client that queues every frame, so none is missed between awaits. */
export class QueuedClient {
  private readonly queue: Array<{ text: string; isBinary: boolean }> = [];
  private readonly waiters: Array<(m: { text: string; isBinary: boolean }) => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      const message = { text: data.toString('utf8'), isBinary };
      const waiter = this.waiters.shift();
      if (waiter) waiter(message);
      else this.queue.push(message);
    });
    this.closed = new Promise((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static open(url: string, protocols?: string[], options?: WebSocket.ClientOptions): Promise<QueuedClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, protocols, options);
      const client = new QueuedClient(socket);
      socket.once('open', () => resolve(client));
      socket.once('error', reject);
    });
  }

  nextFrame(): Promise<{ text: string; isBinary: boolean }> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async next(): Promise<string> {
    return (await this.nextFrame()).text;
  }

  async nextJson(): Promise<any> {
    return JSON.parse(await this.next());
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  get pending(): number {
    return this.queue.length;
  }
}
