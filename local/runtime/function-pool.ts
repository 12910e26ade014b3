/**
 * The warm instances of one function, as Lambda keeps execution environments:
 * - one invocation per instance at a time; an idle warm instance is always used before a new one starts
 *   (the most recently used first, so the others stay idle and get reaped);
 * - when every instance is busy and an invocation has waited `scaleUpDelayMs` for one, a new one starts (up to
 *   `maxInstances`; at once when none is alive), and the invocation goes to whichever instance frees up first, that
 *   new one or a busy one finishing (a warm instance answers in milliseconds, a process start takes hundreds); past
 *   `maxInstances` invocations wait for a free instance. Lambda starts an environment for every concurrent request;
 *   locally a client that sends its next message a millisecond before its previous invocation returned would leave
 *   an extra process behind each time (memory, and a start's CPU taken from the busy ones);
 * - `maxInFlight` (the function's ReservedConcurrentExecutions): an invocation that would exceed it is refused
 *   with TooManyRequestsException, as Lambda throttles it (API Gateway then reports an integration failure);
 * - an instance idle for `idleMs` is stopped (`reap`, also run on a timer); one idle for `surplusIdleMs` is stopped
 *   sooner when another instance of the function stays alive, so a burst's extra processes do not outlive it by
 *   minutes while one warm instance does.
 */
import { InvocationOutcome } from '../model';
import type { FunctionInstance } from './instance';

export interface PoolOptions {
  /** Instances alive at once (busy, idle or starting). */
  readonly maxInstances: number;
  /** Invocations running or waiting at once; one more is throttled. @default - unbounded (they wait) */
  readonly maxInFlight?: number;
  /** An idle instance is stopped after this long. @default - never */
  readonly idleMs?: number;
  /** An idle instance is stopped after this long when another instance stays alive. @default - idleMs */
  readonly surplusIdleMs?: number;
  /** Clock for idle times. @default Date.now */
  readonly now?: () => number;
  /** Names the function in the throttle message. @default 'the function' */
  readonly label?: string;
  /**
   * How long an invocation waits for a busy instance before a new one starts for it (none alive: no wait).
   * @default 0 (a new instance at once)
   */
  readonly scaleUpDelayMs?: number;
}

type Grant = { instance: FunctionInstance } | { outcome: InvocationOutcome };
type Waiter = { readonly grant: (grant: Grant) => void; readonly since: number };

export class FunctionPool {
  /** Idle ready instances, most recently used last, with the time each became idle. */
  private readonly idle: Array<{ instance: FunctionInstance; since: number }> = [];
  private readonly all = new Set<FunctionInstance>();
  /** Instances in their init phase not yet promised to anyone: each serves the first waiter when ready. */
  private starting = 0;
  private busy = 0;
  /** Queued invocations, in arrival order. */
  private readonly waiting: Waiter[] = [];
  private closed = false;
  private readonly timer?: NodeJS.Timeout;
  /** Runs `fill()` when the oldest waiter not yet served by a starting instance has waited `scaleUpDelayMs`. */
  private scaleUpTimer?: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(private readonly spawn: () => FunctionInstance, private readonly options: PoolOptions) {
    this.now = options.now ?? Date.now;
    const idleMs = Math.min(options.idleMs ?? Infinity, options.surplusIdleMs ?? Infinity);
    if (options.idleMs !== undefined && Number.isFinite(idleMs) && !options.now) {
      this.timer = setInterval(() => void this.reap(), Math.max(1000, Math.min(idleMs / 2, 30_000)));
      this.timer.unref();
    }
  }

  /** Instances currently alive (busy, idle or starting). */
  get size(): number {
    return [...this.all].filter((i) => i.isAlive).length;
  }

  /** Idle ready instances. */
  get idleCount(): number {
    return this.idle.filter((e) => e.instance.isAlive).length;
  }

  async invoke(event: unknown): Promise<InvocationOutcome> {
    const grant = await this.acquire();
    if ('outcome' in grant) return grant.outcome;
    const { instance } = grant;
    this.busy++;
    try {
      return await instance.invoke(event);
    } finally {
      this.busy--;
      this.release(instance);
    }
  }

  /**
   * Stops the instances idle for `idleMs` or longer at `now`, and those idle for `surplusIdleMs` or longer while
   * another instance stays alive (the longest idle first); resolves with how many were stopped.
   */
  async reap(now: number = this.now()): Promise<number> {
    const idleMs = this.options.idleMs;
    if (idleMs === undefined) return 0;
    const surplusIdleMs = this.options.surplusIdleMs ?? idleMs;
    let alive = this.size;
    const expired: Array<{ instance: FunctionInstance; since: number }> = [];
    // `idle` holds the most recently used last: from the front, the longest idle first.
    for (const e of this.idle) {
      const idleFor = now - e.since;
      if (!e.instance.isAlive) expired.push(e);
      else if (idleFor >= idleMs || (idleFor >= surplusIdleMs && alive > 1)) {
        expired.push(e);
        alive--;
      }
    }
    if (expired.length === 0) return 0;
    for (const e of expired) {
      this.idle.splice(this.idle.indexOf(e), 1);
      this.all.delete(e.instance);
    }
    await Promise.all(expired.map((e) => e.instance.stop()));
    return expired.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    clearTimeout(this.scaleUpTimer);
    const closedOutcome: InvocationOutcome = {
      error: { errorType: 'Emulator.InvokerClosed', errorMessage: 'The invoker was closed while this invocation waited for an instance' },
      durationMs: 0,
    };
    for (const waiter of this.waiting.splice(0)) waiter.grant({ outcome: closedOutcome });
    await Promise.all([...this.all].map((i) => i.stop()));
    this.all.clear();
    this.idle.length = 0;
  }

  private acquire(): Promise<Grant> {
    if (this.closed) {
      return Promise.resolve({ outcome: { error: { errorType: 'Emulator.InvokerClosed', errorMessage: 'The invoker was closed' }, durationMs: 0 } });
    }
    while (this.idle.length > 0) {
      const { instance } = this.idle.pop()!;
      if (instance.isAlive) return Promise.resolve({ instance });
      this.all.delete(instance);
    }
    const { maxInFlight } = this.options;
    if (maxInFlight !== undefined && this.busy + this.waiting.length >= maxInFlight) {
      return Promise.resolve({
        outcome: {
          error: {
            errorType: 'TooManyRequestsException',
            errorMessage: `Rate Exceeded. (ReservedFunctionConcurrentInvocationLimitExceeded: ${this.options.label ?? 'the function'} has ` +
              `ReservedConcurrentExecutions ${maxInFlight}, and ${this.busy + this.waiting.length} invocations are running or waiting)`,
          },
          durationMs: 0,
        },
      });
    }
    const granted = new Promise<Grant>((grant) => this.waiting.push({ grant, since: performance.now() }));
    this.fill();
    return granted;
  }

  /**
   * Starts instances for the waiters no free or starting instance will serve, within `maxInstances`: for those that
   * have waited `scaleUpDelayMs` (all of them when no instance is alive); a timer comes back for the others.
   */
  private fill(): void {
    if (this.closed) return;
    const delay = this.options.scaleUpDelayMs ?? 0;
    const now = performance.now();
    const due = delay <= 0 || this.size === 0 ? this.waiting.length : this.waiting.filter((w) => now - w.since >= delay).length;
    while (due > this.starting && this.size < this.options.maxInstances) {
      const instance = this.spawn();
      this.all.add(instance);
      this.starting++;
      void instance.initialized.then((init) => {
        this.starting--;
        if (init.ok) {
          this.release(instance);
          return;
        }
        // The invocation that made it start gets the init failure (as Lambda reports it to the first invocation).
        this.all.delete(instance);
        instance.kill();
        this.waiting.shift()?.grant({ outcome: { error: init.error, durationMs: 0 } });
        this.fill();
      });
    }
    const next = this.waiting[this.starting];
    if (next && this.size < this.options.maxInstances && !this.scaleUpTimer) {
      this.scaleUpTimer = setTimeout(() => {
        this.scaleUpTimer = undefined;
        this.fill();
      }, Math.max(1, next.since + delay - now));
    }
  }

  private release(instance: FunctionInstance): void {
    if (!instance.isAlive) {
      this.all.delete(instance);
      this.fill();
      return;
    }
    if (this.closed) return;
    const next = this.waiting.shift();
    if (next) next.grant({ instance });
    else this.idle.push({ instance, since: this.now() });
  }
}
