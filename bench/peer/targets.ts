/**
 * The two servers the peer suite compares, each started as the user would start it, as a child process:
 * - `wsgate local` (the emulator's CLI, precompiled to plain JS so no TypeScript compile is timed) on the synthesized
 *   peer app (bench/peer/app.ts), with the shared DynamoDB as `--dynamodb-endpoint` and `--no-throttle`;
 * - serverless-offline 13.x under serverless 3.x (installed into bench/.work/peer/ with npm, not a dependency of
 *   the package) in its in-process mode (`--useInProcess`), on a serverless.yml of the same three functions, with
 *   bench/peer/offline-preload.cjs so the sample's `@connections` URL reaches it.
 * Both: stdout/stderr to a log file under bench/.work/peer/logs/.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { build } from 'esbuild';
import { stopChild } from '../lib/child';
import { ROOT, WORK } from '../lib/paths';
import { PEER_HANDLERS, PEER_STAGE, synthPeerApp } from './app';

export const PEER_WORK = path.join(WORK, 'peer');
/** Outside PEER_WORK: node_modules lookups from the compiled emulator must not find serverless's copies. */
const EMULATOR_JS = path.join(WORK, 'js-peer');
const ASSEMBLY = path.join(PEER_WORK, 'cdk.out');
const SERVICE = path.join(PEER_WORK, 'service');
export const SERVERLESS_VERSION = '3.40.0';
export const OFFLINE_VERSION = '13.10.1';
export const OFFLINE_TABLE = 'peer-offline-connections';

export type TargetName = 'wsgate' | 'offline';

export interface RunningTarget {
  readonly name: TargetName;
  readonly url: string;
  readonly pid: number;
  readonly tableName: string;
  stop(): Promise<void>;
}

function files(dir: string, keep: (f: string) => boolean): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? (e.name === 'node_modules' ? [] : files(path.join(dir, e.name), keep)) : keep(e.name) ? [path.join(dir, e.name)] : []));
}

/** Compiles local/ and contract/ (.ts → .js, one file each) and copies their other files (worker.cjs, worker.py...). */
async function compileEmulator(): Promise<string> {
  fs.rmSync(EMULATOR_JS, { recursive: true, force: true });
  const folders = ['local', 'contract'].map((f) => path.join(ROOT, f));
  const sources = folders.flatMap((d) => files(d, (f) => f.endsWith('.ts') && !f.endsWith('.d.ts')));
  await build({ entryPoints: sources, outdir: EMULATOR_JS, outbase: ROOT, bundle: false, format: 'cjs', platform: 'node', target: 'node20', logLevel: 'error' });
  for (const file of folders.flatMap((d) => files(d, (f) => !f.endsWith('.ts') && !f.endsWith('.js')))) {
    const to = path.join(EMULATOR_JS, path.relative(ROOT, file));
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(file, to);
  }
  return path.join(EMULATOR_JS, 'local', 'cli.js');
}

function serverlessYml(dynamodbEndpoint: string): string {
  const fn = (name: string, route: string) =>
    `  ${name}:\n    handler: handlers/${name}.handler\n    events:\n      - websocket:\n          route: ${route}\n`;
  return (
    'service: peer-chat\nframeworkVersion: "3"\nplugins:\n  - serverless-offline\n' +
    'provider:\n  name: aws\n  runtime: nodejs22.x\n  region: us-east-1\n  memorySize: 256\n  timeout: 30\n' +
    '  websocketsApiRouteSelectionExpression: $request.body.action\n' +
    `  environment:\n    TABLE_NAME: ${OFFLINE_TABLE}\n    AWS_ENDPOINT_URL_DYNAMODB: ${dynamodbEndpoint}\n` +
    'functions:\n' + fn('onconnect', '$connect') + fn('ondisconnect', '$disconnect') + fn('sendmessage', 'sendmessage')
  );
}

export interface Prepared {
  readonly cli: string;
  readonly assembly: string;
  readonly offlineBin: string;
}

/** Synthesizes the peer app, compiles the emulator, installs serverless + serverless-offline if missing. */
export async function preparePeer(dynamodbEndpoint: string): Promise<Prepared> {
  fs.mkdirSync(PEER_WORK, { recursive: true });
  fs.rmSync(ASSEMBLY, { recursive: true, force: true });
  synthPeerApp(ASSEMBLY);
  const cli = await compileEmulator();
  const installed = path.join(PEER_WORK, 'node_modules', 'serverless-offline', 'package.json');
  if (!fs.existsSync(installed) || JSON.parse(fs.readFileSync(installed, 'utf8')).version !== OFFLINE_VERSION) {
    if (!fs.existsSync(path.join(PEER_WORK, 'package.json'))) fs.writeFileSync(path.join(PEER_WORK, 'package.json'), '{"name":"peer-bench","private":true}\n');
    execFileSync('npm', ['install', '--no-audit', '--no-fund', `serverless@${SERVERLESS_VERSION}`, `serverless-offline@${OFFLINE_VERSION}`,
      '@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/client-apigatewaymanagementapi'], { cwd: PEER_WORK, stdio: 'ignore' });
  }
  fs.mkdirSync(path.join(SERVICE, 'handlers'), { recursive: true });
  for (const f of fs.readdirSync(PEER_HANDLERS)) fs.copyFileSync(path.join(PEER_HANDLERS, f), path.join(SERVICE, 'handlers', f));
  fs.writeFileSync(path.join(SERVICE, 'serverless.yml'), serverlessYml(dynamodbEndpoint));
  const link = path.join(SERVICE, 'node_modules');
  if (!fs.existsSync(link)) fs.symlinkSync(path.join(PEER_WORK, 'node_modules'), link, 'dir');
  return { cli, assembly: ASSEMBLY, offlineBin: path.join(PEER_WORK, 'node_modules', 'serverless', 'bin', 'serverless.js') };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function stopper(child: ChildProcess, graceMs = 10_000): () => Promise<void> {
  return () => stopChild(child, graceMs, () => child.kill('SIGINT'));
}

const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'AKIAPEERBENCH0000000', AWS_SECRET_ACCESS_KEY: 'peer-bench-fake-secret', AWS_REGION: 'us-east-1' };

function logFile(name: string): number {
  fs.mkdirSync(path.join(PEER_WORK, 'logs'), { recursive: true });
  return fs.openSync(path.join(PEER_WORK, 'logs', `${name}.log`), 'w');
}

/** Spawns the target; the caller measures readiness (first WebSocket that opens). */
export async function spawnTarget(name: TargetName, prepared: Prepared, dynamodbEndpoint: string, tableName: string, extraEnv: Record<string, string> = {}): Promise<RunningTarget> {
  const port = await freePort();
  const out = logFile(name);
  const baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...extraEnv };
  let child: ChildProcess;
  let url: string;
  if (name === 'wsgate') {
    child = spawn(process.execPath, [...(process.env.PEER_NODE_ARGS ?? '').split(' ').filter(Boolean), prepared.cli, 'local', prepared.assembly, '--port', String(port), '--dynamodb-endpoint', dynamodbEndpoint, '--no-throttle', ...(process.env.PEER_WSGATE_ARGS ?? '').split(' ').filter(Boolean)], {
      cwd: PEER_WORK,
      env: baseEnv,
      stdio: ['ignore', out, out],
    });
    url = `ws://127.0.0.1:${port}/${PEER_STAGE}`;
  } else {
    const [httpPort, lambdaPort] = [await freePort(), await freePort()];
    child = spawn(
      process.execPath,
      [prepared.offlineBin, 'offline', 'start', '--useInProcess', '--host', '127.0.0.1', '--websocketPort', String(port), '--httpPort', String(httpPort), '--lambdaPort', String(lambdaPort)],
      {
        cwd: SERVICE,
        env: {
          ...baseEnv,
          ...CREDENTIALS,
          AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
          PEER_OFFLINE_WS_PORT: String(port),
          NODE_OPTIONS: `--require ${path.join(__dirname, 'offline-preload.cjs')}`,
          SLS_TELEMETRY_DISABLED: '1',
          SLS_NOTIFICATIONS_MODE: 'off',
          SLS_DEPRECATION_DISABLE: '*',
          SLS_INTERACTIVE_SETUP_DISABLE: '1',
        },
        stdio: ['ignore', out, out],
      },
    );
    url = `ws://127.0.0.1:${port}`;
  }
  fs.closeSync(out);
  return { name, url, pid: child.pid!, tableName, stop: stopper(child) };
}
