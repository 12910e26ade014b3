#!/usr/bin/env node
/**
 * `wsgate local [assemblyDir=cdk.out]`: runs a synthesized app's WebSocket APIs on 127.0.0.1 (see local/emulator.ts).
 * Prints one line per stage (its ws:// URL and @connections URL); Ctrl-C stops every server and function process.
 *
 * `wsgate invoke NAME [--event JSON | --event-file FILE] [--port N]`: invokes one function of the assembly in a
 * running emulator (`POST /_wsgate/functions/NAME/invoke` on 127.0.0.1) and prints its result.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LOCAL_API_KEY } from './iam/api-keys';
import { connectionsBottleneckOf, startEmulator, type EmulatorOptions } from './emulator';
import { FUNCTIONS_PATH } from './gateway/function-endpoints';
import { PORT_DEFAULT } from './gateway/gateway';
import { assemblyIsStale, runSynth, watchAndSynth, watchAssembly, watchPlan, type WatchPlan } from './watch/watch';

export { watchAssembly } from './watch/watch';

export const USAGE = `Usage: wsgate local [assemblyDir] [options]
       wsgate invoke NAME [--event JSON | --event-file FILE] [--port N]

wsgate local: runs every WebSocket API of a synthesized CDK app (cdk.out) on 127.0.0.1.

Arguments:
  assemblyDir               cloud assembly folder (default: cdk.out)

Options:
  --port N                  port for ws://, http:// and https:// (default: ${PORT_DEFAULT}, or $PORT)
  --stack NAME              run only this stack
  --dynamodb-endpoint URL   use this DynamoDB-compatible endpoint instead of the embedded dynalite
  --idle-timeout SECONDS    close idle connections after this long (default: 600)
  --max-duration SECONDS    close every connection after this long (default: 7200)
  --init-timeout SECONDS    budget of a function instance's init phase (default: 10, as on Lambda)
  --instance-idle SECONDS   stop a function instance idle this long (default: 300; Lambda keeps idle ones minutes)
  --surplus-idle SECONDS    stop an idle instance sooner, after this long, when another instance of the function
                            stays alive (default: 10): a burst's extra processes go, one warm one stays
  --max-instances N         instances per function without ReservedConcurrentExecutions (default: 1 per core, 2-10;
                            further invocations wait; over a template's reserved concurrency they are throttled)
  --scale-up-delay MS       start another instance of a function only for an invocation that has waited MS for a
                            busy one (default: 50; 0 starts one at once, as Lambda does)
  --static DIR              serve DIR at /_wsgate/app/ (the browser demo)
  --local-secret VALUE      key Secrets Manager answers with, and dev tokens are signed with
  --no-iam                  do not check SigV4 signatures and IAM policies (local IAM is on by default)
  --dynamo-checks WHERE     function (default): a Node.js function's DynamoDB calls are IAM-checked in its own
                            process; proxy: in the emulator's DynamoDB proxy (one more process hop per call)
  --no-throttle             do not apply the stages' throttling limits (on by default)
  --connections-latency MS  answer every @connections request after MS milliseconds, as AWS's take tens (default: 0)
  --connections-rate N      at most N @connections requests per second over all APIs (one token bucket, burst N/2
                            unless --connections-burst), 429 LimitExceededException over it (default: no limit)
  --connections-burst N     the bucket size of --connections-rate
  --watch                   swap the changed functions' code without
                            dropping connections or table data (route or table changes: says to restart). With a
                            cdk.json here (or --app), a change to the app's files runs its synth first (cdk.json
                            "watch" include/exclude globs, as \`cdk watch\`); else after each \`cdk synth\` into assemblyDir
  --app CMD                 with --watch: the command that synthesizes the app (default: cdk.json's "app")
  --version                 print the emulator's version (@wsgate/local)
  --help                    show this help

Also served: GET /_wsgate/token?user=NAME (a development token for the app's authorizer),
GET /_wsgate/functions (the functions) and POST /_wsgate/functions/NAME/invoke (invoke one with a JSON event).

wsgate invoke: invokes one function of the app in a running \`wsgate local\` and prints its result as JSON;
the exit status is 1 when the function fails.
  NAME                      its logical id, its local function name, or the end of its construct path (Publisher)
  --event JSON              the event (default: {})
  --event-file FILE         read the event from FILE (- for standard input)
  --port N                  the emulator's port (default: ${PORT_DEFAULT}, or $PORT)`;

export class UsageError extends Error {}

/** What `wsgate invoke` sends. */
export interface InvokeRequest {
  readonly functionName: string;
  /** The event as JSON text (already checked to parse). @default - read from `eventFile`, else `{}` */
  readonly eventJson?: string;
  /** A file holding the event, `-` for standard input. @default - none */
  readonly eventFile?: string;
  readonly port: number;
}

export interface CliCommand {
  readonly help: boolean;
  /** `--version`. @default false */
  readonly version?: boolean;
  /** `--watch`: reload the assembly when it changes. @default false */
  readonly watch?: boolean;
  /** `--app CMD` (with --watch): the command that synthesizes the app. @default - cdk.json's `app`, if any */
  readonly app?: string;
  /** @default 'local' */
  readonly command?: 'local' | 'invoke';
  /** `wsgate local`'s options (the defaults for other commands). */
  readonly options: EmulatorOptions;
  /** Only for `invoke`. */
  readonly invoke?: InvokeRequest;
}

function positiveSeconds(flag: string, value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`${flag} needs a positive number of seconds, got "${value}"`);
  return Math.round(seconds * 1000);
}

type Flags = { flag: string; value: () => string };

/** Walks `--flag value` / `--flag=value` / positional arguments, calling `onArg` for each. */
function walk(args: string[], onArg: (arg: Flags) => void): void {
  while (args.length > 0) {
    const arg = args.shift()!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    onArg({
      flag,
      value: (): string => {
        const v = inline ?? args.shift();
        if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
        return v;
      },
    });
  }
}

function checkedPort(port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`The port must be a whole number from 0 to 65535, got ${port}`);
  return port;
}

function parseInvoke(args: string[], defaultPort: number): CliCommand {
  let functionName: string | undefined;
  let eventJson: string | undefined;
  let eventFile: string | undefined;
  let port = defaultPort;
  walk(args, ({ flag, value }) => {
    switch (flag) {
      case '--event': {
        const text = value();
        try {
          JSON.parse(text);
        } catch (err) {
          throw new UsageError(`--event is not valid JSON (${(err as Error).message}): ${text}`);
        }
        eventJson = text;
        break;
      }
      case '--event-file':
        eventFile = value();
        break;
      case '--port':
        port = Number(value());
        break;
      default:
        if (flag.startsWith('-')) throw new UsageError(`Unknown option ${flag}`);
        if (functionName !== undefined) throw new UsageError(`Unexpected argument "${flag}" (the function is ${functionName})`);
        functionName = flag;
    }
  });
  if (functionName === undefined) throw new UsageError('Missing the function to invoke: wsgate invoke NAME');
  if (eventJson !== undefined && eventFile !== undefined) throw new UsageError('Give the event once: --event or --event-file, not both');
  return {
    help: false,
    command: 'invoke',
    options: { assemblyDir: 'cdk.out', port: checkedPort(port) },
    invoke: { functionName, port: checkedPort(port), ...(eventJson !== undefined ? { eventJson } : {}), ...(eventFile !== undefined ? { eventFile } : {}) },
  };
}

/** Parses `local [dir] --flags` or `invoke NAME --flags` (argv without node and the script). Throws UsageError on bad input. */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv = {}): CliCommand {
  const args = [...argv];
  if (args.includes('--help') || args.includes('-h')) return { help: true, options: { assemblyDir: 'cdk.out' } };
  if (args.includes('--version') || args.includes('-v')) return { help: false, version: true, options: { assemblyDir: 'cdk.out' } };
  let port = env.PORT !== undefined && env.PORT !== '' ? Number(env.PORT) : PORT_DEFAULT;
  if (args[0] === 'invoke') return parseInvoke(args.slice(1), port);
  if (args[0] !== 'local') throw new UsageError(args[0] === undefined ? 'Missing command: local or invoke' : `Unknown command "${args[0]}"`);
  args.shift();
  let assemblyDir: string | undefined;
  let watch = false;
  let app: string | undefined;
  const options: { -readonly [K in keyof EmulatorOptions]?: EmulatorOptions[K] } = {};
  walk(args, ({ flag, value }) => {
    switch (flag) {
      case '--port':
        port = Number(value());
        break;
      case '--stack':
        options.stack = value();
        break;
      case '--dynamodb-endpoint':
        options.dynamodbEndpoint = value();
        break;
      case '--idle-timeout':
        options.idleTimeoutMs = positiveSeconds(flag, value());
        break;
      case '--max-duration':
        options.maxDurationMs = positiveSeconds(flag, value());
        break;
      case '--init-timeout':
        options.initTimeoutMs = positiveSeconds(flag, value());
        break;
      case '--instance-idle':
        options.instanceIdleMs = positiveSeconds(flag, value());
        break;
      case '--surplus-idle':
        options.surplusInstanceIdleMs = positiveSeconds(flag, value());
        break;
      case '--max-instances': {
        const text = value();
        const n = Number(text);
        if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} needs a whole number ≥ 1, got "${text}"`);
        options.maxInstancesPerFunction = n;
        break;
      }
      case '--scale-up-delay': {
        const text = value();
        const ms = Number(text);
        if (!Number.isFinite(ms) || ms < 0 || text.trim() === '') throw new UsageError(`${flag} needs a number of milliseconds ≥ 0, got "${text}"`);
        options.scaleUpDelayMs = ms;
        break;
      }
      case '--static':
        options.staticDir = value();
        break;
      case '--local-secret':
        options.localSecret = value();
        break;
      case '--no-iam':
        options.iam = false;
        break;
      case '--dynamo-checks': {
        const where = value();
        if (where !== 'function' && where !== 'proxy') throw new UsageError(`${flag} needs function or proxy, got "${where}"`);
        options.dynamoChecks = where;
        break;
      }
      case '--no-throttle':
        options.throttle = false;
        break;
      case '--connections-latency': {
        const text = value();
        const ms = Number(text);
        if (!Number.isFinite(ms) || ms < 0) throw new UsageError(`--connections-latency needs a number of milliseconds >= 0, got "${text}"`);
        options.connectionsLatencyMs = ms;
        break;
      }
      case '--connections-rate': {
        const text = value();
        const rate = Number(text);
        if (!Number.isFinite(rate) || rate <= 0) throw new UsageError(`--connections-rate needs a number of requests per second > 0, got "${text}"`);
        options.connectionsRatePerSecond = rate;
        break;
      }
      case '--connections-burst': {
        const text = value();
        const burst = Number(text);
        if (!Number.isFinite(burst) || burst < 1) throw new UsageError(`--connections-burst needs a number of requests >= 1, got "${text}"`);
        options.connectionsBurst = burst;
        break;
      }
      case '--watch':
        watch = true;
        break;
      case '--app':
        app = value();
        break;
      default:
        if (flag.startsWith('-')) throw new UsageError(`Unknown option ${flag}`);
        if (assemblyDir !== undefined) throw new UsageError(`Unexpected argument "${flag}" (the assembly folder is ${assemblyDir})`);
        assemblyDir = flag;
    }
  });
  if (options.connectionsBurst !== undefined && options.connectionsRatePerSecond === undefined) throw new UsageError('--connections-burst needs --connections-rate');
  if (app !== undefined && !watch) throw new UsageError('--app needs --watch (it names the command --watch runs to synthesize the app)');
  return { help: false, command: 'local', ...(watch ? { watch } : {}), ...(app !== undefined ? { app } : {}), options: { ...options, assemblyDir: assemblyDir ?? 'cdk.out', port: checkedPort(port) } };
}

export interface InvokeIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** @default fs.readFileSync (`/dev/stdin` for `-`) */
  readonly readFile?: (file: string) => string;
}

/**
 * `wsgate invoke`: posts the event to the emulator on 127.0.0.1 (never another host) and prints the result.
 * 0 on a result, 1 when the function failed, the name is unknown or no emulator answers.
 */
export async function runInvoke(request: InvokeRequest, io: InvokeIo): Promise<number> {
  let body = request.eventJson ?? '{}';
  if (request.eventFile !== undefined) {
    const file = request.eventFile === '-' ? '/dev/stdin' : request.eventFile;
    try {
      body = (io.readFile ?? ((f) => fs.readFileSync(f, 'utf8')))(file);
    } catch (err) {
      io.stderr(`wsgate: cannot read the event file ${request.eventFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
      return 1;
    }
    try {
      JSON.parse(body);
    } catch (err) {
      io.stderr(`wsgate: the event file ${request.eventFile} is not valid JSON (${(err as Error).message})\n`);
      return 1;
    }
  }
  const url = `http://127.0.0.1:${request.port}${FUNCTIONS_PATH}/${encodeURIComponent(request.functionName)}/invoke`;
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    io.stderr(`wsgate: no emulator answers on 127.0.0.1:${request.port} (${cause}); start it with \`wsgate local\` (or give --port)\n`);
    return 1;
  }
  const text = await response.text();
  if (response.status === 200) {
    io.stdout(`${text}\n`);
    return 0;
  }
  let parsed: { message?: string; errorType?: string; errorMessage?: string } = {};
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: printed as is below.
  }
  if (response.headers.get('x-amz-function-error')) {
    io.stdout(`${text}\n`);
    io.stderr(`wsgate: ${request.functionName} failed: ${parsed.errorType ?? 'Error'}: ${parsed.errorMessage ?? text}\n`);
    return 1;
  }
  io.stderr(`wsgate: ${response.status}: ${parsed.message ?? text}\n`);
  return 1;
}

/** How often `wsgate local` checks that the process that started it is still there. */
const ORPHAN_CHECK_MS = 1000;

/** `@wsgate/local <version>`, from the package.json beside this file (source and built file share the folder). */
export function versionLine(): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, 'package.json'), 'utf8')) as { name?: string; version?: string };
  return `${manifest.name ?? '@wsgate/local'} ${manifest.version ?? 'unknown'}`;
}

/** What `wsgate local` prints when the emulator cannot start; a port in use names the ways to choose another. */
export function startFailureMessage(err: Error, port: number | undefined): string {
  if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    return `port ${port ?? PORT_DEFAULT} on 127.0.0.1 is in use (another \`wsgate local\`?). ` +
      'Choose another with --port N or the PORT environment variable (--port 0 picks a free one).';
  }
  return err.message;
}

export async function main(argv: readonly string[]): Promise<number> {
  let command: CliCommand;
  try {
    command = parseCli(argv, process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`wsgate: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (command.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command.version) {
    process.stdout.write(`${versionLine()}\n`);
    return 0;
  }
  if (command.command === 'invoke' && command.invoke) {
    return runInvoke(command.invoke, { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) });
  }
  let plan: WatchPlan | undefined;
  if (command.watch) {
    try {
      plan = watchPlan(process.cwd(), command.app);
    } catch (err) {
      process.stderr.write(`wsgate: ${(err as Error).message}\n`);
      return 2;
    }
    if (plan.mode === 'synth' && assemblyIsStale(plan, command.options.assemblyDir)) {
      process.stdout.write(`[watch] ${command.options.assemblyDir} is missing or older than the app's files: synthesizing (${plan.command})\n`);
      const first = await runSynth(plan, command.options.assemblyDir);
      if (!first.ok) {
        process.stderr.write(`wsgate: the app's synth failed (exit ${first.exitCode ?? 'error'}):\n${first.output}\n`);
        return 1;
      }
    }
  }
  let emulator;
  try {
    emulator = await startEmulator({ ...command.options, log: (line) => process.stderr.write(`[gateway] ${line}\n`) });
  } catch (err) {
    process.stderr.write(`wsgate: ${startFailureMessage(err as Error, command.options.port)}\n`);
    return 1;
  }
  for (const warning of emulator.warnings) process.stderr.write(`warning: ${warning}\n`);
  for (const e of emulator.endpoints) {
    process.stdout.write(`${e.stackName} ${e.apiName} stage ${e.stage}: ${e.websocketUrl}  @connections: ${e.callbackUrl}\n`);
  }
  process.stdout.write(`dev token: ${emulator.tokenUrl}\n`);
  if (emulator.developerCredentials) {
    const key = emulator.developerCredentials;
    process.stdout.write(`local IAM on: sign @connections calls from scripts with AWS_ACCESS_KEY_ID=${key.accessKeyId} AWS_SECRET_ACCESS_KEY=${key.secretAccessKey} (--no-iam turns checks off)\n`);
  } else {
    process.stdout.write('local IAM off (--no-iam): signatures and policies are not checked\n');
  }
  const bottleneck = connectionsBottleneckOf(command.options);
  if (bottleneck) {
    const limit = bottleneck.rate ? `at most ${bottleneck.rate.rateLimit} requests/s (burst ${bottleneck.rate.burstLimit}), 429 LimitExceededException over it` : 'no rate limit';
    process.stdout.write(`@connections simulated like AWS: ${bottleneck.latencyMs} ms per request, ${limit}\n`);
  }
  for (const api of emulator.model.apis) {
    if (!api.routes.some((r) => r.routeKey === '$connect' && r.apiKeyRequired)) continue;
    for (const stage of api.stages) {
      const keys = [...(api.apiKeys?.[stage.stageName] ?? []), `${LOCAL_API_KEY} (local)`];
      process.stdout.write(`${api.stackName} ${api.name} stage ${stage.stageName} requires x-api-key on $connect: ${keys.join(', ')}\n`);
    }
  }
  const routed = new Set(emulator.model.apis.flatMap((api) => api.routes.flatMap((r) => [r.functionId, r.authorizer?.functionId])));
  const stacks = new Set(emulator.model.apis.map((api) => api.stackName));
  const unrouted = Object.values(emulator.model.functions).filter((fn) => stacks.has(fn.stackName) && !routed.has(fn.id));
  for (const fn of unrouted) {
    const name = fn.constructPath ?? fn.id;
    process.stdout.write(`function on no route: ${name}  (invoke: wsgate invoke ${name} --port ${emulator.port} --event JSON)\n`);
  }
  if (emulator.appUrl) process.stdout.write(`browser demo: ${emulator.appUrl}\n`);
  const printWatch = (line: string): void => void process.stdout.write(`${line}\n`);
  const stopWatching = !plan
    ? undefined
    : plan.mode === 'synth'
      ? watchAndSynth({ emulator, plan, assemblyDir: command.options.assemblyDir, print: printWatch })
      : watchAssembly(emulator, command.options.assemblyDir, printWatch);
  if (plan?.mode === 'synth') process.stdout.write(`watching ${plan.projectDir}: a change to the app's files runs \`${plan.command}\` and swaps changed functions\n`);
  else if (plan) process.stdout.write(`watching ${command.options.assemblyDir}: re-run \`cdk synth\` to swap changed functions\n`);
  process.stdout.write('Press Ctrl-C to stop.\n');
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      stopWatching?.();
      process.stdout.write('Stopping...\n');
      emulator.close().then(resolve, (err) => {
        process.stderr.write(`wsgate: error while stopping: ${(err as Error).message}\n`);
        resolve();
      });
    };
    // SIGHUP too: a closed terminal (or a wrapper such as npx passing it on) stops the function processes as well.
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    process.once('SIGHUP', stop);
    // A wrapper that dies without passing the signal on (`npx` runs the bin under `sh -c`, and sh does not forward
    // SIGTERM) leaves this process orphaned: a new parent means the one that started it is gone, so stop too.
    const parent = process.ppid;
    const orphanCheck = setInterval(() => {
      if (process.ppid !== parent) {
        clearInterval(orphanCheck);
        process.stderr.write('wsgate: the process that started wsgate local is gone; stopping\n');
        stop();
      }
    }, ORPHAN_CHECK_MS);
    orphanCheck.unref();
  });
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`wsgate: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
