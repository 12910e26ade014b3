/**
 * One warm Lambda instance: a child process running `worker.cjs`, one invocation at a time.
 *
 * Like Lambda, an instance has an init phase (process start and the handler module's load, up to `initTimeoutMs`,
 * 10 s for on-demand functions) separate from each invocation's timeout, which starts only when the loaded handler
 * is handed the event. An init phase that runs past its limit fails the waiting invocation with Sandbox.Timedout
 * (the error type AWS names for an init timeout) and the instance is discarded; Lambda would instead retry the init
 * once within the first invocation's timeout.
 */
import { ChildProcess, fork } from 'child_process';
import { randomUUID } from 'crypto';
import * as path from 'path';
import { FunctionModel, InvocationOutcome } from '../model';
import { NODE_FUNCTION_FLAGS } from './node-flags';

const WORKER = path.join(__dirname, 'worker.cjs');
// esm-node-path.cjs is loaded by worker.cjs for ES module handlers only: its resolve hook runs on a loader thread of
// its own (about 10 MB per process), which a CommonJS handler does not need.
const PRELOADS = ['redirect-preload.cjs'].flatMap((file) => ['--require', path.join(__dirname, file)]);

export type LogSink = (functionId: string, stream: 'stdout' | 'stderr', line: string) => void;

/** How an instance's init phase ended: ready for events, or the error its first invocation reports. */
export type InitOutcome = { readonly ok: true } | { readonly ok: false; readonly error: { readonly errorType: string; readonly errorMessage: string } };

/** Starts an instance's worker process: stdout/stderr piped, an IPC channel speaking worker.cjs's protocol. */
export type WorkerLauncher = (fn: FunctionModel, env: Record<string, string>) => ChildProcess;

/**
 * The Node.js worker (worker.cjs) started with NODE_FUNCTION_FLAGS (node-flags.ts) and the preloads;
 * python/python-worker.ts launches Python functions' worker.
 */
export const launchNodeWorker: WorkerLauncher = (fn, env) =>
  fork(WORKER, [], { cwd: fn.codeDir, env, execArgv: [...NODE_FUNCTION_FLAGS, ...PRELOADS], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });

export class FunctionInstance {
  private readonly child: ChildProcess;
  private alive = true;
  /** True once the worker has loaded the handler (init phase over). */
  private ready = false;
  private readonly initTimer: NodeJS.Timeout;
  /** The invocation waiting for the init phase to end, started when it does. */
  private whenReady?: () => void;
  private pending?: { id: string; finish: (outcome: Omit<InvocationOutcome, 'durationMs'>) => void };
  /** Settles once, when the init phase ends (the pool hands an instance events only after `ok`). */
  readonly initialized: Promise<InitOutcome>;
  private settleInit!: (outcome: InitOutcome) => void;

  constructor(
    private readonly fn: FunctionModel,
    env: Record<string, string>,
    log: LogSink,
    private readonly invokedFunctionArn: string,
    initTimeoutMs: number,
    launch: WorkerLauncher = launchNodeWorker,
    /** Lines the worker's in-process services send (`{ type: 'log' }`: the DynamoDB checks' refusals). @default dropped */
    serviceLog: (line: string) => void = () => undefined,
  ) {
    this.child = launch(fn, env);
    this.initialized = new Promise((resolve) => (this.settleInit = resolve));
    this.initTimer = setTimeout(() => {
      const error = { errorType: 'Sandbox.Timedout', errorMessage: `INIT phase timed out after ${initTimeoutMs / 1000} seconds (process start and handler load)` };
      this.settleInit({ ok: false, error });
      this.pending?.finish({ error });
      this.kill();
    }, initTimeoutMs);
    for (const stream of ['stdout', 'stderr'] as const) {
      let buffered = '';
      this.child[stream]!.setEncoding('utf8').on('data', (chunk: string) => {
        const lines = (buffered + chunk).split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) log(fn.id, stream, line);
      });
    }
    this.child.on('message', (message: any) => {
      if (message?.type === 'ready') return this.onReady();
      if (message?.type === 'log') return serviceLog(String(message.line));
      if (message?.type === 'initError') {
        clearTimeout(this.initTimer);
        this.settleInit({ ok: false, error: { errorType: message.errorType, errorMessage: message.errorMessage } });
        this.pending?.finish({ error: { errorType: message.errorType, errorMessage: message.errorMessage } });
        this.kill();
        return;
      }
      const pending = this.pending;
      if (!pending || message?.id !== pending.id) return;
      if (message.type === 'result') pending.finish({ result: JSON.parse(message.json) });
      else if (message.type === 'error') {
        pending.finish({ error: { errorType: message.errorType, errorMessage: message.errorMessage } });
        if (message.fatal) this.kill();
      }
    });
    this.child.on('error', () => this.onExit('spawn failed'));
    this.child.on('exit', (code, signal) => this.onExit(signal ? `signal ${signal}` : `exit status ${code}`));
  }

  get isAlive(): boolean {
    return this.alive;
  }

  /**
   * Runs one invocation once the init phase is over; kills the instance when the handler runs past the function's
   * timeout, counted from the moment the loaded handler is handed the event. `durationMs` includes any init wait.
   */
  invoke(event: unknown): Promise<InvocationOutcome> {
    const started = Date.now();
    const awsRequestId = randomUUID();
    const timeoutMs = this.fn.timeoutSeconds * 1000;
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (outcome: Omit<InvocationOutcome, 'durationMs'>) => {
        if (this.pending?.id !== awsRequestId) return;
        this.pending = undefined;
        this.whenReady = undefined;
        clearTimeout(timer);
        resolve({ ...outcome, durationMs: Date.now() - started });
      };
      this.pending = { id: awsRequestId, finish };
      if (!this.alive) {
        finish({ error: { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${awsRequestId} Error: Runtime exited before the invocation` } });
        return;
      }
      const dispatch = () => {
        const handedAt = Date.now();
        timer = setTimeout(() => {
          finish({ timedOut: true });
          this.kill();
        }, timeoutMs);
        this.child.send({
          type: 'invoke',
          id: awsRequestId,
          event,
          context: {
            awsRequestId,
            deadlineMs: handedAt + timeoutMs,
            functionName: this.fn.functionName,
            invokedFunctionArn: this.invokedFunctionArn,
            memoryLimitInMB: this.fn.memorySize,
            logGroupName: `/aws/lambda/${this.fn.functionName}`,
            logStreamName: '$LATEST-local',
          },
        }, (err) => {
          if (err) finish({ error: { errorType: 'Runtime.InvalidEvent', errorMessage: `The event cannot be sent to the function: ${err.message}` } });
        });
      };
      if (this.ready) dispatch();
      else this.whenReady = dispatch;
    });
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
    this.alive = false;
  }

  /** Resolves when the process has exited. */
  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.kill();
    });
  }

  private onReady(): void {
    clearTimeout(this.initTimer);
    if (!this.alive || this.ready) return;
    this.ready = true;
    this.settleInit({ ok: true });
    const dispatch = this.whenReady;
    this.whenReady = undefined;
    dispatch?.();
  }

  private onExit(how: string): void {
    this.alive = false;
    clearTimeout(this.initTimer);
    this.settleInit({ ok: false, error: { errorType: 'Runtime.ExitError', errorMessage: `Error: Runtime exited during the init phase: ${how}` } });
    this.pending?.finish({ error: { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${this.pending.id} Error: Runtime exited with error: ${how}` } });
  }
}
