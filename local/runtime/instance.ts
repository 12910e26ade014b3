/** One warm Lambda instance: a child process running `worker.cjs`, one invocation at a time. */
import { ChildProcess, fork } from 'child_process';
import { randomUUID } from 'crypto';
import * as path from 'path';
import { FunctionModel, InvocationOutcome } from '../model';

const WORKER = path.join(__dirname, 'worker.cjs');
const PRELOADS = ['redirect-preload.cjs', 'esm-node-path.cjs'].flatMap((file) => ['--require', path.join(__dirname, file)]);

export type LogSink = (functionId: string, stream: 'stdout' | 'stderr', line: string) => void;

export class FunctionInstance {
  private readonly child: ChildProcess;
  private alive = true;
  private pending?: { id: string; finish: (outcome: Omit<InvocationOutcome, 'durationMs'>) => void };

  constructor(private readonly fn: FunctionModel, env: Record<string, string>, log: LogSink, private readonly invokedFunctionArn: string) {
    this.child = fork(WORKER, [], {
      cwd: fn.codeDir,
      env,
      execArgv: PRELOADS,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      let buffered = '';
      this.child[stream]!.setEncoding('utf8').on('data', (chunk: string) => {
        const lines = (buffered + chunk).split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) log(fn.id, stream, line);
      });
    }
    this.child.on('message', (message: any) => {
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

  /** Runs one invocation; kills the instance when it runs past the function's timeout. */
  invoke(event: unknown): Promise<InvocationOutcome> {
    const started = Date.now();
    const awsRequestId = randomUUID();
    const timeoutMs = this.fn.timeoutSeconds * 1000;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        finish({ timedOut: true });
        this.kill();
      }, timeoutMs);
      const finish = (outcome: Omit<InvocationOutcome, 'durationMs'>) => {
        if (this.pending?.id !== awsRequestId) return;
        this.pending = undefined;
        clearTimeout(timer);
        resolve({ ...outcome, durationMs: Date.now() - started });
      };
      this.pending = { id: awsRequestId, finish };
      if (!this.alive) {
        finish({ error: { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${awsRequestId} Error: Runtime exited before the invocation` } });
        return;
      }
      this.child.send({
        type: 'invoke',
        id: awsRequestId,
        event,
        context: {
          awsRequestId,
          deadlineMs: started + timeoutMs,
          functionName: this.fn.functionName,
          invokedFunctionArn: this.invokedFunctionArn,
          memoryLimitInMB: this.fn.memorySize,
          logGroupName: `/aws/lambda/${this.fn.functionName}`,
          logStreamName: '$LATEST-local',
        },
      }, (err) => {
        if (err) finish({ error: { errorType: 'Runtime.InvalidEvent', errorMessage: `The event cannot be sent to the function: ${err.message}` } });
      });
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

  private onExit(how: string): void {
    this.alive = false;
    this.pending?.finish({ error: { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${this.pending.id} Error: Runtime exited with error: ${how}` } });
  }
}
