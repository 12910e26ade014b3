#!/usr/bin/env node
/**
 * `wsgate local [assemblyDir=cdk.out]`: runs a synthesized app's WebSocket APIs on 127.0.0.1 (see local/emulator.ts).
 * Prints one line per stage (its ws:// URL and @connections URL); Ctrl-C stops every server and function process.
 */
import { startEmulator, type EmulatorOptions } from './emulator';
import { PORT_DEFAULT } from './gateway/gateway';

export const USAGE = `Usage: wsgate local [assemblyDir] [options]

Runs every WebSocket API of a synthesized CDK app (cdk.out) on 127.0.0.1.

Arguments:
  assemblyDir               cloud assembly folder (default: cdk.out)

Options:
  --port N                  port for ws://, http:// and https:// (default: ${PORT_DEFAULT}, or $PORT)
  --stack NAME              run only this stack
  --dynamodb-endpoint URL   use this DynamoDB-compatible endpoint instead of the embedded dynalite
  --idle-timeout SECONDS    close idle connections after this long (default: 600)
  --max-duration SECONDS    close every connection after this long (default: 7200)
  --init-timeout SECONDS    budget of a function instance's init phase (default: 10, as on Lambda)
  --static DIR              serve DIR at /_wsgate/app/ (the browser demo)
  --local-secret VALUE      key Secrets Manager answers with, and dev tokens are signed with
  --help                    show this help

Also served: GET /_wsgate/token?user=NAME (a development token for the app's authorizer).`;

export class UsageError extends Error {}

export interface CliCommand {
  readonly help: boolean;
  readonly options: EmulatorOptions;
}

function positiveSeconds(flag: string, value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`${flag} needs a positive number of seconds, got "${value}"`);
  return Math.round(seconds * 1000);
}

/** Parses `local [dir] --flags` (argv without node and the script). Throws UsageError on bad input. */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv = {}): CliCommand {
  const args = [...argv];
  if (args.includes('--help') || args.includes('-h')) return { help: true, options: { assemblyDir: 'cdk.out' } };
  if (args[0] !== 'local') throw new UsageError(args[0] === undefined ? 'Missing command: local' : `Unknown command "${args[0]}"`);
  args.shift();
  let assemblyDir: string | undefined;
  let port = env.PORT !== undefined && env.PORT !== '' ? Number(env.PORT) : PORT_DEFAULT;
  const options: { -readonly [K in keyof EmulatorOptions]?: EmulatorOptions[K] } = {};
  while (args.length > 0) {
    const arg = args.shift()!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? args.shift();
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      return v;
    };
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
      case '--static':
        options.staticDir = value();
        break;
      case '--local-secret':
        options.localSecret = value();
        break;
      default:
        if (flag.startsWith('-')) throw new UsageError(`Unknown option ${flag}`);
        if (assemblyDir !== undefined) throw new UsageError(`Unexpected argument "${flag}" (the assembly folder is ${assemblyDir})`);
        assemblyDir = flag;
    }
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`The port must be a whole number from 0 to 65535, got ${port}`);
  return { help: false, options: { ...options, assemblyDir: assemblyDir ?? 'cdk.out', port } };
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
  let emulator;
  try {
    emulator = await startEmulator({ ...command.options, log: (line) => process.stderr.write(`[gateway] ${line}\n`) });
  } catch (err) {
    process.stderr.write(`wsgate: ${(err as Error).message}\n`);
    return 1;
  }
  for (const warning of emulator.warnings) process.stderr.write(`warning: ${warning}\n`);
  for (const e of emulator.endpoints) {
    process.stdout.write(`${e.stackName} ${e.apiName} stage ${e.stage}: ${e.websocketUrl}  @connections: ${e.callbackUrl}\n`);
  }
  process.stdout.write(`dev token: ${emulator.tokenUrl}\n`);
  if (emulator.appUrl) process.stdout.write(`browser demo: ${emulator.appUrl}\n`);
  process.stdout.write('Press Ctrl-C to stop.\n');
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      process.stdout.write('Stopping...\n');
      emulator.close().then(resolve, (err) => {
        process.stderr.write(`wsgate: error while stopping: ${(err as Error).message}\n`);
        resolve();
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
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
