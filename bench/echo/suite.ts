/**
 * Emulator overhead: an echo route through the emulator (bench app route `echo`, a two-way route whose handler
 * returns the frame as its route response) against a bare `ws` echo server in its own process (the floor), and
 * the cost of enforcement: the same echo route of bench/echo/echo-app.ts served by two more emulators, one with
 * everything enforced (local IAM, stage throttling with limits the run never reaches, the `@connections` rate
 * bucket) and one with nothing (`--no-iam --no-throttle`).
 * Per run, for each target: connect = handshakes one after another (authorizer + `$connect` on the emulators);
 * latency = one client, sequential round trips (p50/p99); throughput = C clients in closed loop, round trips per
 * second. Targets alternate run by run; the first run of each is a warm-up.
 */
import { fork } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { EXAMPLE_AUDIENCE, EXAMPLE_ISSUER, signDevToken } from '../../local/dev-token';
import { forkTs, IpcChild } from '../lib/child';
import { compileTree } from '../lib/compile';
import { interleaved } from '../lib/interleave';
import { progress } from '../lib/log';
import { BENCH, ROOT, WORK } from '../lib/paths';
import { timeProcess } from '../lib/timing';
import { median, percentile, ratio, summarize, Summary } from '../lib/stats';
import type { EmulatorSession } from '../fanout/emulator-session';
import { openEchoClient } from './echo-client';

export interface EchoRun {
  /** Median of the sequential handshakes of this run (absent in results recorded before it was measured). */
  readonly connectMedianMs?: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly sequentialPerSecond: number;
  readonly concurrentPerSecond: number;
}

export type EchoTarget = 'bare' | 'emulator' | 'enforcementOff' | 'enforcementOn';

export interface EchoSummary {
  readonly connectMs?: Summary;
  readonly p50Ms: Summary;
  readonly p99Ms: Summary;
  readonly sequentialPerSecond: Summary;
  readonly concurrentPerSecond: Summary;
}

export interface EchoRatios {
  readonly connect?: number;
  readonly p50: number;
  readonly p99: number;
  readonly sequentialPerSecond: number;
  readonly concurrentPerSecond: number;
}

export interface EchoResult {
  readonly method: string;
  /** Handshakes per run, one after another (absent in results recorded before it was measured). */
  readonly connectsPerRun?: number;
  readonly latencyRoundTrips: number;
  readonly concurrentClients: number;
  readonly concurrentRoundTrips: number;
  readonly rounds: number;
  readonly warmupRounds: number;
  readonly runs: Partial<Record<EchoTarget, EchoRun[]>> & Record<'bare' | 'emulator', EchoRun[]>;
  readonly summary: Partial<Record<EchoTarget, EchoSummary>> & Record<'bare' | 'emulator', EchoSummary>;
  /** emulator median / bare median. */
  readonly ratios: EchoRatios;
  /** Enforcement on ÷ off (medians; > 1 for latencies and < 1 for throughput mean slower with enforcement). */
  readonly enforcement?: { readonly method: string; readonly ratios: EchoRatios };
}

const FRAME = JSON.stringify({ action: 'echo', data: 'x'.repeat(64) });

async function measure(url: () => Promise<string>, connects: number, latencyCount: number, clients: number, perClient: number): Promise<EchoRun> {
  const connectMs: number[] = [];
  const connected = [];
  for (let i = 0; i < connects; i++) {
    const address = await url();
    const t = performance.now();
    connected.push(await openEchoClient(address));
    connectMs.push(performance.now() - t);
  }
  const single = await openEchoClient(await url());
  await single.roundTrips(50, FRAME);
  const started = performance.now();
  const samples = await single.roundTrips(latencyCount, FRAME);
  const sequentialMs = performance.now() - started;
  single.close();
  const many = await Promise.all(Array.from({ length: clients }, async () => openEchoClient(await url())));
  await Promise.all(many.map((c) => c.roundTrips(10, FRAME)));
  const t0 = performance.now();
  await Promise.all(many.map((c) => c.roundTrips(perClient, FRAME)));
  const concurrentMs = performance.now() - t0;
  many.forEach((c) => c.close());
  connected.forEach((c) => c.close());
  return {
    connectMedianMs: median(connectMs),
    p50Ms: percentile(samples, 50),
    p99Ms: percentile(samples, 99),
    sequentialPerSecond: (latencyCount / sequentialMs) * 1000,
    concurrentPerSecond: ((clients * perClient) / concurrentMs) * 1000,
  };
}

const ENFORCEMENT_ASSEMBLY = path.join(WORK, 'cdk.out-echo-enforcement');

/** Synthesizes bench/echo/echo-app.ts (the echo route behind the bundled authorizer, stage limits far above the run). */
async function synthEchoApp(): Promise<string> {
  const jsOf = await compileTree(['contract', 'lib', 'bench/echo']);
  fs.rmSync(ENFORCEMENT_ASSEMBLY, { recursive: true, force: true });
  progress('echo: synthesizing the enforcement comparison app (bench/echo/echo-app.ts)');
  await timeProcess(process.execPath, [jsOf(path.join(BENCH, 'echo', 'echo-app.ts'))], {
    cwd: ROOT,
    env: {
      ...process.env,
      CDK_OUTDIR: ENFORCEMENT_ASSEMBLY,
      BENCH_ECHO_ASSET: path.join(BENCH, 'echo', 'handler'),
      BENCH_ISSUER: EXAMPLE_ISSUER,
      BENCH_AUDIENCE: EXAMPLE_AUDIENCE,
    },
  });
  return ENFORCEMENT_ASSEMBLY;
}

async function startEnforcementEmulator(assemblyDir: string, mode: 'on' | 'off'): Promise<{ host: IpcChild; websocketUrl: string }> {
  const host = forkTs(path.join(BENCH, 'echo', 'enforcement-host.ts'), [assemblyDir, mode], `[echo enforcement ${mode}] `);
  const ready = await host.next<{ websocketUrl: string }>('ready', 120_000);
  return { host, websocketUrl: ready.websocketUrl };
}

const sum = (rs: EchoRun[]): EchoSummary => ({
  ...(rs.every((r) => r.connectMedianMs !== undefined) ? { connectMs: summarize(rs.map((r) => r.connectMedianMs!)) } : {}),
  p50Ms: summarize(rs.map((r) => r.p50Ms)),
  p99Ms: summarize(rs.map((r) => r.p99Ms)),
  sequentialPerSecond: summarize(rs.map((r) => r.sequentialPerSecond)),
  concurrentPerSecond: summarize(rs.map((r) => r.concurrentPerSecond)),
});

const ratiosOf = (value: EchoSummary, base: EchoSummary): EchoRatios => ({
  ...(value.connectMs && base.connectMs ? { connect: ratio(value.connectMs.median, base.connectMs.median) } : {}),
  p50: ratio(value.p50Ms.median, base.p50Ms.median),
  p99: ratio(value.p99Ms.median, base.p99Ms.median),
  sequentialPerSecond: ratio(value.sequentialPerSecond.median, base.sequentialPerSecond.median),
  concurrentPerSecond: ratio(value.concurrentPerSecond.median, base.concurrentPerSecond.median),
});

export async function runEcho(session: EmulatorSession, quick: boolean): Promise<EchoResult> {
  const connectsPerRun = 10;
  const latencyRoundTrips = quick ? 500 : 2000;
  const concurrentClients = 8;
  const perClient = quick ? 100 : 250;
  const enforcementAssembly = await synthEchoApp();
  const bare = fork(path.join(BENCH, 'echo', 'bare-server.cjs'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const hosts: IpcChild[] = [];
  try {
    const port = await new Promise<number>((resolve, reject) => {
      bare.once('message', (m: { port: number }) => resolve(m.port));
      bare.once('exit', (code) => reject(new Error(`bare echo server exited (${code})`)));
    });
    const off = await startEnforcementEmulator(enforcementAssembly, 'off');
    hosts.push(off.host);
    const on = await startEnforcementEmulator(enforcementAssembly, 'on');
    hosts.push(on.host);
    let user = 0;
    const withToken = (base: string) => async () => `${base}?token=${encodeURIComponent(await signDevToken({ user: `echo${user++}` }))}`;
    const targets: Record<EchoTarget, () => Promise<string>> = {
      bare: async () => `ws://127.0.0.1:${port}/`,
      emulator: withToken(session.websocketUrl),
      enforcementOff: withToken(off.websocketUrl),
      enforcementOn: withToken(on.websocketUrl),
    };
    const rounds = 5;
    const warmupRounds = 1;
    const names: EchoTarget[] = ['bare', 'emulator', 'enforcementOff', 'enforcementOn'];
    const runs = (await interleaved(
      names.map((name) => ({ name, run: () => measure(targets[name], connectsPerRun, latencyRoundTrips, concurrentClients, perClient) })),
      rounds,
      warmupRounds,
      (name, round, r) =>
        progress(
          `echo: ${name} ${round < 0 ? 'warm-up' : `run ${round + 1}/${rounds}`}: connect ${r.connectMedianMs?.toFixed(2)} ms, p50 ${r.p50Ms.toFixed(2)} ms, ` +
            `p99 ${r.p99Ms.toFixed(2)} ms, ${r.sequentialPerSecond.toFixed(0)}/s sequential, ${r.concurrentPerSecond.toFixed(0)}/s with ${concurrentClients} clients`,
        ),
    )) as Record<EchoTarget, EchoRun[]>;
    const summary = Object.fromEntries(names.map((name) => [name, sum(runs[name])])) as Record<EchoTarget, EchoSummary>;
    return {
      method:
        'clients in the bench process; bare = `ws` echo server in a child process; emulator = the `echo` route of the bench app ' +
        '(authorizer + $connect at connect, then route selection, Lambda invocation in a worker process, route response)',
      connectsPerRun,
      latencyRoundTrips,
      concurrentClients,
      concurrentRoundTrips: concurrentClients * perClient,
      rounds,
      warmupRounds,
      runs,
      summary,
      ratios: ratiosOf(summary.emulator, summary.bare),
      enforcement: {
        method:
          'the `echo` route of bench/echo/echo-app.ts (bundled JWT authorizer and $connect, stage throttling 100,000 rps / burst 5,000) ' +
          'in two more emulators of the same run: on = local IAM (every function call to DynamoDB and Secrets Manager SigV4-verified ' +
          'and policy-checked), stage throttling buckets, the @connections bucket at 10,000/s; off = --no-iam --no-throttle. ' +
          'The echo function calls no AWS service, so per message "on" adds the stage bucket and nothing else; the handshakes pay ' +
          'for the authorizer\'s Secrets Manager read and $connect\'s PutItem through the IAM checks',
        ratios: ratiosOf(summary.enforcementOn, summary.enforcementOff),
      },
    };
  } finally {
    for (const host of hosts) await host.stop({ type: 'close' }, 30_000);
    bare.send({ type: 'close' });
    await new Promise((resolve) => {
      const timer = setTimeout(() => bare.kill('SIGKILL'), 5000);
      bare.once('exit', () => {
        clearTimeout(timer);
        resolve(undefined);
      });
    });
  }
}
