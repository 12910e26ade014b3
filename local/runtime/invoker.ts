/**
 * `createInvoker(options)`: runs the assembly's Lambda functions as the Node.js Lambda runtime would, one child
 * process per warm instance (see instance.ts, worker.cjs), with a bounded pool per function (function-pool.ts).
 */
import { FunctionInvoker, FunctionModel, InvocationOutcome } from '../model';
import { FunctionPool } from './function-pool';
import { FunctionInstance, LogSink } from './instance';
import { lambdaEnvironment, LocalEndpoints } from './lambda-environment';

export { LOCAL_CREDENTIALS } from './lambda-environment';
export type { LocalEndpoints } from './lambda-environment';

export const DEFAULT_MAX_INSTANCES_PER_FUNCTION = 10;
/** Lambda's init phase limit for on-demand functions: process start plus handler module load. */
export const DEFAULT_INIT_TIMEOUT_MS = 10_000;

export interface InvokerOptions extends LocalEndpoints {
  /** `AssemblyModel.functions`. */
  readonly functions: Record<string, FunctionModel>;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly accountId?: string;
  /** Concurrent instances per function; further invocations wait for one. @default 10 */
  readonly maxInstancesPerFunction?: number;
  /**
   * Budget of a new instance's init phase (process start and handler load), separate from the function timeout,
   * which starts when the loaded handler gets the event. Past it the invocation fails with Sandbox.Timedout.
   * @default 10000 (Lambda's 10 s for on-demand functions)
   */
  readonly initTimeoutMs?: number;
  /** Where function output goes. @default each line to stderr, prefixed with the function name */
  readonly log?: LogSink;
}

const defaultLog: LogSink = (functionId, _stream, line) => process.stderr.write(`[${functionId}] ${line}\n`);

export function createInvoker(options: InvokerOptions): FunctionInvoker {
  if (!options || typeof options.functions !== 'object' || options.functions === null) {
    throw new Error('createInvoker: options.functions must be the assembly model\'s functions (id → FunctionModel)');
  }
  const maxInstances = options.maxInstancesPerFunction ?? DEFAULT_MAX_INSTANCES_PER_FUNCTION;
  if (!Number.isInteger(maxInstances) || maxInstances < 1) {
    throw new Error(`createInvoker: maxInstancesPerFunction must be a whole number ≥ 1, got ${maxInstances}`);
  }
  const initTimeoutMs = options.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS;
  if (!Number.isFinite(initTimeoutMs) || initTimeoutMs <= 0) {
    throw new Error(`createInvoker: initTimeoutMs must be a number of milliseconds > 0, got ${initTimeoutMs}`);
  }
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const log = options.log ?? defaultLog;
  const pools = new Map<string, FunctionPool>();
  let closed = false;

  const failure = (errorType: string, errorMessage: string): InvocationOutcome => ({ error: { errorType, errorMessage }, durationMs: 0 });

  return {
    async invoke(functionId: string, event: unknown): Promise<InvocationOutcome> {
      if (closed) return failure('Emulator.InvokerClosed', `Cannot invoke ${functionId}: the invoker was closed`);
      const fn = options.functions[functionId];
      if (!fn) {
        return failure('ResourceNotFoundException', `Function not found: ${functionId} (known: ${Object.keys(options.functions).join(', ') || 'none'})`);
      }
      if (fn.unsupported) return failure('Emulator.UnsupportedFunction', fn.unsupported);
      if (!/^nodejs\d+\.x$/.test(fn.runtime)) {
        return failure('Emulator.UnsupportedFunction', `${fn.id}: runtime ${fn.runtime} is not supported (only nodejs*.x)`);
      }
      let pool = pools.get(functionId);
      if (!pool) {
        const env = lambdaEnvironment(fn, fn.region ?? region, fn.accountId ?? accountId, options);
        const arn = `arn:aws:lambda:${fn.region ?? region}:${fn.accountId ?? accountId}:function:${fn.functionName}`;
        pool = new FunctionPool(() => new FunctionInstance(fn, env, log, arn, initTimeoutMs), maxInstances);
        pools.set(functionId, pool);
      }
      return pool.invoke(event);
    },
    async close(): Promise<void> {
      closed = true;
      await Promise.all([...pools.values()].map((p) => p.close()));
      pools.clear();
    },
  };
}
