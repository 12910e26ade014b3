/**
 * Handler benchmark: bundle size of every asset in assets/handlers/, and cold start = a fresh `node` process
 * that loads a handler and runs its first invocation against a local dynalite (started once, outside the
 * timed part) and a local `@connections` stub. Compared in the same rounds:
 * - the bundled asset (assets/handlers/<name>/index.js);
 * - the same handler unbundled: esbuild with `packages: 'external'`, so our code is one file but the AWS SDK
 *   (and every other package) loads from node_modules as a plain `npm install` would have it;
 * - `node -e 0`, the floor.
 */
import * as fs from 'fs';
import * as path from 'path';
import { gzipSync } from 'zlib';
import { build } from 'esbuild';
import { connectEvent, connectionId, disconnectEvent, messageEvent } from '../lib/events';
import { createConnectionsTable, dynamoClient, FAKE_CREDENTIALS, REGION, ROOM_INDEX, startDynalite } from '../lib/dynalite';
import { startFakeConnections } from '../lib/fake-connections';
import { interleaved } from '../lib/interleave';
import { progress } from '../lib/log';
import { BENCH, HANDLER_ASSETS, ROOT, WORK } from '../lib/paths';
import { ratio, summarize, Summary } from '../lib/stats';
import { timeProcess } from '../lib/timing';
import { seedConnection, seedMany } from './seed';

export const BUNDLE_TARGET_BYTES = 600 * 1024;
export const TARGET_VS_UNBUNDLED = 0.7;
export const TARGET_VS_FLOOR = 2.5;
const COLD_HANDLERS = ['connect', 'disconnect', 'sendmessage'] as const;
const TABLE = 'BenchConnections';
const ROOM = 'bench-room';

export interface BundleSize {
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly meetsTarget: boolean;
}

export interface ColdStartResult {
  readonly bundled: Summary;
  readonly unbundled: Summary;
  readonly ratioToUnbundled: number;
  readonly ratioToFloor: number;
  readonly meetsUnbundledTarget: boolean;
  readonly meetsFloorTarget: boolean;
  /** Inside the child: median ms to require() the module and to run the first invocation. */
  readonly bundledInsideMs: { load: number; invoke: number };
  readonly unbundledInsideMs: { load: number; invoke: number };
}

export interface HandlersResult {
  readonly method: string;
  readonly unbundledMethod: string;
  readonly rounds: number;
  readonly warmupRounds: number;
  readonly bundleTargetBytes: number;
  readonly bundleSizes: Record<string, BundleSize>;
  readonly floor: Summary;
  readonly coldStart: Record<string, ColdStartResult>;
  readonly samplesMs: Record<string, number[]>;
  readonly insideSamples: Record<string, Array<{ loadMs: number; invokeMs: number }>>;
  readonly targets: { vsUnbundled: number; vsFloor: number };
}

function bundleSizes(): Record<string, BundleSize> {
  const out: Record<string, BundleSize> = {};
  for (const name of fs.readdirSync(HANDLER_ASSETS).sort()) {
    const file = path.join(HANDLER_ASSETS, name, 'index.js');
    if (!fs.existsSync(file)) continue;
    const content = fs.readFileSync(file);
    out[name] = { bytes: content.length, gzipBytes: gzipSync(content, { level: 9 }).length, meetsTarget: content.length <= BUNDLE_TARGET_BYTES };
  }
  return out;
}

async function buildUnbundled(name: string): Promise<string> {
  const outfile = path.join(WORK, 'unbundled', name, 'index.js');
  await build({
    entryPoints: [path.join(ROOT, 'lambda', ['join', 'leave', 'sendmessage'].includes(name) ? 'chat' : 'gateway', 'handlers', `${name}.ts`)],
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'error',
  });
  return outfile;
}

function median(values: number[]): number {
  return summarize(values).median;
}

export async function runHandlers(quick: boolean): Promise<HandlersResult> {
  const sizes = bundleSizes();
  progress(`handlers: ${Object.keys(sizes).length} bundles measured; starting dynalite and the @connections stub`);
  const dynamo = await startDynalite();
  const connections = await startFakeConnections('prod');
  const client = dynamoClient(dynamo.endpoint);
  await createConnectionsTable(client, TABLE);
  const members = Array.from({ length: 5 }, () => connectionId());
  await seedMany(client, TABLE, members, ROOM);
  const sender = members[0];

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    CONNECTIONS_TABLE: TABLE,
    ROOM_INDEX,
    CALLBACK_URL: connections.callbackUrl,
    CONNECTION_TTL_SECONDS: '7500',
    SUBPROTOCOLS: '',
    FANOUT_CONCURRENCY: '20',
    TZ: 'UTC',
  };
  const eventsDir = path.join(WORK, 'events');
  fs.mkdirSync(eventsDir, { recursive: true });
  let seq = 0;
  const eventFile = (event: unknown): string => {
    const file = path.join(eventsDir, `event-${seq++}.json`);
    fs.writeFileSync(file, JSON.stringify(event));
    return file;
  };
  /** Builds a fresh event (and the items it needs) before the clock starts. */
  const prepare: Record<(typeof COLD_HANDLERS)[number], () => Promise<string>> = {
    connect: async () => eventFile(connectEvent(connectionId(), 'bench-user')),
    disconnect: async () => {
      const id = connectionId();
      await seedConnection(client, TABLE, id, 'bench-user', [ROOM]);
      return eventFile(disconnectEvent(id, 'bench-user'));
    },
    sendmessage: async () => eventFile(messageEvent(sender, 'user0', 'sendmessage', { action: 'sendmessage', data: { room: ROOM, text: 'cold start' } })),
  };

  const unbundledFiles: Record<string, string> = {};
  for (const name of COLD_HANDLERS) unbundledFiles[name] = await buildUnbundled(name);
  const child = path.join(BENCH, 'handlers', 'cold-start.cjs');
  const insideSamples: Record<string, Array<{ loadMs: number; invokeMs: number }>> = {};
  const variants = [
    { name: 'floor', run: async () => (await timeProcess(process.execPath, ['-e', '0'], { env })).ms },
    ...COLD_HANDLERS.flatMap((name) =>
      (['bundled', 'unbundled'] as const).map((kind) => ({
        name: `${name}.${kind}`,
        run: async () => {
          const file = kind === 'bundled' ? path.join(HANDLER_ASSETS, name, 'index.js') : unbundledFiles[name];
          const event = await prepare[name]();
          const result = await timeProcess(process.execPath, [child, file, event], { env, cwd: path.dirname(file) });
          const line = result.stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT ')) ?? 'BENCH_RESULT null';
          const inside = JSON.parse(line.slice('BENCH_RESULT '.length)) as { loadMs: number; invokeMs: number; statusCode: number };
          if (inside.statusCode !== 200) throw new Error(`cold start of ${name} (${kind}) answered ${inside.statusCode}`);
          (insideSamples[`${name}.${kind}`] ??= []).push({ loadMs: inside.loadMs, invokeMs: inside.invokeMs });
          return result.ms;
        },
      })),
    ),
  ];
  const rounds = quick ? 5 : 10;
  const warmupRounds = 1;
  try {
    const samplesMs = await interleaved(variants, rounds, warmupRounds, (name, round, ms) =>
      progress(`handlers: ${name} ${round < 0 ? 'warm-up' : `run ${round + 1}/${rounds}`}: ${ms.toFixed(0)} ms`),
    );
    // The warm-up round's inside timings are dropped like its wall times.
    for (const key of Object.keys(insideSamples)) insideSamples[key] = insideSamples[key].slice(warmupRounds);
    const floor = summarize(samplesMs.floor);
    const coldStart: Record<string, ColdStartResult> = {};
    for (const name of COLD_HANDLERS) {
      const bundled = summarize(samplesMs[`${name}.bundled`]);
      const unbundled = summarize(samplesMs[`${name}.unbundled`]);
      const inside = (kind: string) => ({
        load: median(insideSamples[`${name}.${kind}`].map((s) => s.loadMs)),
        invoke: median(insideSamples[`${name}.${kind}`].map((s) => s.invokeMs)),
      });
      coldStart[name] = {
        bundled,
        unbundled,
        ratioToUnbundled: ratio(bundled.median, unbundled.median),
        ratioToFloor: ratio(bundled.median, floor.median),
        meetsUnbundledTarget: bundled.median <= TARGET_VS_UNBUNDLED * unbundled.median,
        meetsFloorTarget: bundled.median <= TARGET_VS_FLOOR * floor.median,
        bundledInsideMs: inside('bundled'),
        unbundledInsideMs: inside('unbundled'),
      };
    }
    return {
      method:
        'wall time of a fresh `node bench/handlers/cold-start.cjs <module> <event>` from spawn to exit: require() the module, ' +
        'one invocation with a real-shaped event against dynalite on 127.0.0.1 (and a 200-answering @connections stub), exit',
      unbundledMethod: "esbuild bundle of lambda/{gateway,chat}/handlers/<name>.ts with packages: 'external' (AWS SDK v3 loaded from node_modules)",
      rounds,
      warmupRounds,
      bundleTargetBytes: BUNDLE_TARGET_BYTES,
      bundleSizes: sizes,
      floor,
      coldStart,
      samplesMs,
      insideSamples,
      targets: { vsUnbundled: TARGET_VS_UNBUNDLED, vsFloor: TARGET_VS_FLOOR },
    };
  } finally {
    client.destroy();
    await connections.stop();
    await dynamo.stop();
  }
}
