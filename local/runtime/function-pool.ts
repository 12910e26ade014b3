/** Warm instances of one function: reused between calls, at most `maxInstances` at once, the rest queued. */
import { InvocationOutcome } from '../model';
import { FunctionInstance } from './instance';

export class FunctionPool {
  private readonly idle: FunctionInstance[] = [];
  private readonly all = new Set<FunctionInstance>();
  /** Queued invocations; called with undefined when the pool closes before an instance frees up. */
  private readonly waiting: Array<(instance: FunctionInstance | undefined) => void> = [];
  private closed = false;

  constructor(private readonly spawn: () => FunctionInstance, private readonly maxInstances: number) {}

  /** Instances currently alive (busy or idle). */
  get size(): number {
    return [...this.all].filter((i) => i.isAlive).length;
  }

  async invoke(event: unknown): Promise<InvocationOutcome> {
    const instance = await this.acquire();
    if (!instance) {
      return { error: { errorType: 'Emulator.InvokerClosed', errorMessage: 'The invoker was closed while this invocation waited for an instance' }, durationMs: 0 };
    }
    try {
      return await instance.invoke(event);
    } finally {
      this.release(instance);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter(undefined);
    await Promise.all([...this.all].map((i) => i.stop()));
    this.all.clear();
    this.idle.length = 0;
  }

  private acquire(): Promise<FunctionInstance | undefined> {
    while (this.idle.length > 0) {
      const instance = this.idle.pop()!;
      if (instance.isAlive) return Promise.resolve(instance);
      this.all.delete(instance);
    }
    if (this.size < this.maxInstances) return Promise.resolve(this.start());
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private start(): FunctionInstance {
    const instance = this.spawn();
    this.all.add(instance);
    return instance;
  }

  private release(instance: FunctionInstance): void {
    if (!instance.isAlive) this.all.delete(instance);
    if (this.closed) return;
    const next = this.waiting.shift();
    if (next) next(instance.isAlive ? instance : this.start());
    else if (instance.isAlive) this.idle.push(instance);
  }
}
