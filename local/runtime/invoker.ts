/**
 * `createInvoker(options)`: runs the assembly's Lambda functions as the Node.js Lambda runtime would, one child
 * process per warm instance (see instance.ts, worker.cjs), with a bounded pool per function (function-pool.ts).
 */
import * as os from 'os';
import { FunctionInvoker, FunctionModel, InvocationOutcome } from '../model';
import { FunctionPool } from './function-pool';
import type { IdentityConfig } from '../iam/credentials';
import { DYNAMO_GUARD_MODULE_VARIABLE, DYNAMO_GUARD_VARIABLE, type DynamoGuardConfig } from './dynamo-guard';
import { FunctionInstance, LogSink } from './instance';
import { lambdaEnvironment, LocalEndpoints } from './lambda-environment';
import { findPython, isPythonRuntime, missingPythonMessage, pythonEnvironment, pythonLauncher } from './python/python-worker';

export { LOCAL_CREDENTIALS } from './lambda-environment';
export type { LocalEndpoints } from './lambda-environment';

/**
 * Instances per function when the template sets no ReservedConcurrentExecutions: a local resource bound, not an AWS
 * limit (invocations past it wait for a free instance instead of being throttled). One per CPU core, from 2 to 10:
 * the functions share this machine's cores with the emulator and the local services, so more processes add memory
 * (60-100 MB each with the SDK loaded) and cold starts, not throughput (on 2 cores, 2 connect instances served 1,000
 * connects with 20 in parallel at the rate 4 did: 143 vs 141/s, medians of 5 alternating runs).
 */
export const DEFAULT_MAX_INSTANCES_PER_FUNCTION = Math.min(10, Math.max(2, os.cpus().length));
/**
 * An idle instance is stopped after 5 minutes. Lambda keeps an idle execution environment for an unspecified time
 * (observed: minutes, no guarantee) and then a new invocation is a cold start again.
 */
export const DEFAULT_INSTANCE_IDLE_MS = 300_000;
/**
 * An idle instance is stopped after 10 s when another instance of its function stays alive: after a burst, the
 * extra processes (60-100 MB each) go, one warm instance stays for DEFAULT_INSTANCE_IDLE_MS. Lambda scales idle
 * execution environments down on its own, undocumented schedule; this is the emulator's choice.
 */
export const DEFAULT_SURPLUS_INSTANCE_IDLE_MS = 10_000;
/**
 * A new instance starts for an invocation that has waited this long for a busy one (at once when none is alive).
 * Lambda starts an environment per concurrent request; here a client that sends just before its previous invocation
 * returned would otherwise leave a process behind (~60 MB and a start's CPU) that a few milliseconds' wait avoids.
 */
export const DEFAULT_SCALE_UP_DELAY_MS = 50;
/** Lambda's init phase limit for on-demand functions: process start plus handler module load. */
export const DEFAULT_INIT_TIMEOUT_MS = 10_000;

export interface InvokerOptions extends LocalEndpoints {
  /** `AssemblyModel.functions`. */
  readonly functions: Record<string, FunctionModel>;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly accountId?: string;
  /**
   * Concurrent instances per function; further invocations wait for one. A function's ReservedConcurrentExecutions
   * bounds it further, and an invocation over the reserved concurrency is throttled (TooManyRequestsException).
   * @default DEFAULT_MAX_INSTANCES_PER_FUNCTION (1 per CPU core, from 2 to 10)
   */
  readonly maxInstancesPerFunction?: number;
  /** An instance idle this long is stopped (the next invocation starts a new one). @default 300000 (5 minutes) */
  readonly instanceIdleMs?: number;
  /**
   * An instance idle this long is stopped when another instance of its function stays alive.
   * @default DEFAULT_SURPLUS_INSTANCE_IDLE_MS (10000), or instanceIdleMs when that is shorter
   */
  readonly surplusInstanceIdleMs?: number;
  /**
   * How long an invocation waits for a busy instance before a new instance starts for it (none alive: no wait).
   * @default DEFAULT_SCALE_UP_DELAY_MS (50)
   */
  readonly scaleUpDelayMs?: number;
  /** Clock for idle times; with it, idle instances are stopped only by `reap()` (tests). @default Date.now, with a timer */
  readonly now?: () => number;
  /**
   * Budget of a new instance's init phase (process start and handler load), separate from the function timeout,
   * which starts when the loaded handler gets the event. Past it the invocation fails with Sandbox.Timedout.
   * @default 10000 (Lambda's 10 s for on-demand functions)
   */
  readonly initTimeoutMs?: number;
  /** Where function output goes. @default each line to stderr, prefixed with the function name */
  readonly log?: LogSink;
  /**
   * Local IAM for DynamoDB inside each Node.js function process (dynamo-guard.ts) instead of in the emulator's proxy
   * (`dynamodb`, which still serves Python functions and requests signed with other keys).
   * @default - the proxy checks every call
   */
  readonly dynamoGuard?: DynamoGuardOptions;
  /** Where the function processes' service lines go (the in-process DynamoDB checks' refusals). @default dropped */
  readonly serviceLog?: (line: string) => void;
}

export interface DynamoGuardOptions {
  /** The plain-JS module worker.cjs requires (dynamo-guard-module.ts finds it). */
  readonly module: string;
  /** The local DynamoDB itself. */
  readonly target: string;
  /** The function's identity and policies (`IamAuthority.identityConfigFor`). */
  readonly identityFor: (functionId: string) => IdentityConfig | undefined;
}

/** The variables that start a Node.js function's in-process DynamoDB checks, or none without an identity. */
function dynamoGuardEnvironment(functionId: string, proxy: string | undefined, guard: DynamoGuardOptions | undefined): Record<string, string> {
  const identity = guard?.identityFor(functionId);
  if (!guard || !identity || !proxy) return {};
  const config: DynamoGuardConfig = { target: guard.target, proxy, identity };
  return { [DYNAMO_GUARD_MODULE_VARIABLE]: guard.module, [DYNAMO_GUARD_VARIABLE]: JSON.stringify(config) };
}

const defaultLog: LogSink = (functionId, _stream, line) => process.stderr.write(`[${functionId}] ${line}\n`);

/** The invoker with its instance lifecycle visible (tests, tools). */
export interface LocalInvoker extends FunctionInvoker {
  /** Stops every instance idle for the idle time or longer (at `now`); resolves with how many were stopped. */
  reap(now?: number): Promise<number>;
  /** Alive instances of a function (busy, idle or starting). */
  instanceCount(functionId: string): number;
}

export function createInvoker(options: InvokerOptions): LocalInvoker {
  if (!options || typeof options.functions !== 'object' || options.functions === null) {
    throw new Error('createInvoker: options.functions must be the assembly model\'s functions (id → FunctionModel)');
  }
  const maxInstances = options.maxInstancesPerFunction ?? DEFAULT_MAX_INSTANCES_PER_FUNCTION;
  if (!Number.isInteger(maxInstances) || maxInstances < 1) {
    throw new Error(`createInvoker: maxInstancesPerFunction must be a whole number ≥ 1, got ${maxInstances}`);
  }
  const idleMs = options.instanceIdleMs ?? DEFAULT_INSTANCE_IDLE_MS;
  if (!(idleMs > 0)) throw new Error(`createInvoker: instanceIdleMs must be a number of milliseconds > 0, got ${idleMs}`);
  const surplusIdleMs = options.surplusInstanceIdleMs ?? Math.min(DEFAULT_SURPLUS_INSTANCE_IDLE_MS, idleMs);
  if (!(surplusIdleMs > 0)) throw new Error(`createInvoker: surplusInstanceIdleMs must be a number of milliseconds > 0, got ${surplusIdleMs}`);
  const scaleUpDelayMs = options.scaleUpDelayMs ?? DEFAULT_SCALE_UP_DELAY_MS;
  if (!Number.isFinite(scaleUpDelayMs) || scaleUpDelayMs < 0) {
    throw new Error(`createInvoker: scaleUpDelayMs must be a number of milliseconds ≥ 0, got ${scaleUpDelayMs}`);
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
      const python = isPythonRuntime(fn.runtime);
      if (!python && !/^nodejs\d+\.x$/.test(fn.runtime)) {
        return failure('Emulator.UnsupportedFunction', `${fn.id}: runtime ${fn.runtime} is not supported (only nodejs*.x and python3.x)`);
      }
      let pool = pools.get(functionId);
      if (!pool) {
        // Python functions: the same instances and pool, with worker.py under the interpreter found now.
        const interpreter = python ? findPython() : undefined;
        if (python && !interpreter) return failure('Emulator.UnsupportedFunction', missingPythonMessage(fn));
        const nodeEnv = lambdaEnvironment(fn, fn.region ?? region, fn.accountId ?? accountId, options);
        const env = interpreter
          ? pythonEnvironment(nodeEnv, fn, options)
          : { ...nodeEnv, ...dynamoGuardEnvironment(fn.id, options.dynamodb, options.dynamoGuard) };
        const launch = interpreter ? pythonLauncher(interpreter) : undefined;
        const arn = `arn:aws:lambda:${fn.region ?? region}:${fn.accountId ?? accountId}:function:${fn.functionName}`;
        const reserved = fn.reservedConcurrency;
        pool = new FunctionPool(() => new FunctionInstance(fn, env, log, arn, initTimeoutMs, launch, options.serviceLog), {
          maxInstances: reserved === undefined ? maxInstances : Math.max(1, Math.min(maxInstances, reserved)),
          ...(reserved === undefined ? {} : { maxInFlight: reserved }),
          idleMs,
          surplusIdleMs,
          scaleUpDelayMs,
          ...(options.now ? { now: options.now } : {}),
          label: fn.id,
        });
        pools.set(functionId, pool);
      }
      return pool.invoke(event);
    },
    async reap(now?: number): Promise<number> {
      const counts = await Promise.all([...pools.values()].map((p) => p.reap(now ?? (options.now ?? Date.now)())));
      return counts.reduce((a, b) => a + b, 0);
    },
    instanceCount(functionId: string): number {
      return pools.get(functionId)?.size ?? 0;
    },
    async close(): Promise<void> {
      closed = true;
      await Promise.all([...pools.values()].map((p) => p.close()));
      pools.clear();
    },
  };
}
