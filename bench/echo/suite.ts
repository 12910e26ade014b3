/**
 * Emulator overhead: an echo route through the emulator (bench app route `echo`, a two-way route whose handler
 * returns the frame as its route response) against a bare `ws` echo server in its own process (the floor).
 * Per run, for each target: latency = one client, sequential round trips (p50/p99); throughput = C clients in
 * closed loop, round trips per second. Targets alternate run by run; the first run of each is a warm-up.
 */
import { fork } from 'child_process';
import * as path from 'path';
import { signDevToken } from '../../local/dev-token';
import { interleaved } from '../lib/interleave';
import { progress } from '../lib/log';
import { BENCH } from '../lib/paths';
import { percentile, ratio, summarize, Summary } from '../lib/stats';
import type { EmulatorSession } from '../fanout/emulator-session';
import { openEchoClient } from './echo-client';

export interface EchoRun {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly sequentialPerSecond: number;
  readonly concurrentPerSecond: number;
}

export interface EchoResult {
  readonly method: string;
  readonly latencyRoundTrips: number;
  readonly concurrentClients: number;
  readonly concurrentRoundTrips: number;
  readonly rounds: number;
  readonly warmupRounds: number;
  readonly runs: Record<'bare' | 'emulator', EchoRun[]>;
  readonly summary: Record<'bare' | 'emulator', { p50Ms: Summary; p99Ms: Summary; sequentialPerSecond: Summary; concurrentPerSecond: Summary }>;
  /** emulator median / bare median. */
  readonly ratios: { p50: number; p99: number; sequentialPerSecond: number; concurrentPerSecond: number };
}

const FRAME = JSON.stringify({ action: 'echo', data: 'x'.repeat(64) });

async function measure(url: () => Promise<string>, latencyCount: number, clients: number, perClient: number): Promise<EchoRun> {
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
  return {
    p50Ms: percentile(samples, 50),
    p99Ms: percentile(samples, 99),
    sequentialPerSecond: (latencyCount / sequentialMs) * 1000,
    concurrentPerSecond: ((clients * perClient) / concurrentMs) * 1000,
  };
}

export async function runEcho(session: EmulatorSession, quick: boolean): Promise<EchoResult> {
  const latencyRoundTrips = quick ? 500 : 2000;
  const concurrentClients = 8;
  const perClient = quick ? 100 : 250;
  const bare = fork(path.join(BENCH, 'echo', 'bare-server.cjs'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      bare.once('message', (m: { port: number }) => resolve(m.port));
      bare.once('exit', (code) => reject(new Error(`bare echo server exited (${code})`)));
    });
    let user = 0;
    const targets = {
      bare: async () => `ws://127.0.0.1:${port}/`,
      emulator: async () => `${session.websocketUrl}?token=${encodeURIComponent(await signDevToken({ user: `echo${user++}` }))}`,
    };
    const rounds = 5;
    const warmupRounds = 1;
    const runs = (await interleaved(
      (['bare', 'emulator'] as const).map((name) => ({ name, run: () => measure(targets[name], latencyRoundTrips, concurrentClients, perClient) })),
      rounds,
      warmupRounds,
      (name, round, r) =>
        progress(
          `echo: ${name} ${round < 0 ? 'warm-up' : `run ${round + 1}/${rounds}`}: p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, ` +
            `${r.sequentialPerSecond.toFixed(0)}/s sequential, ${r.concurrentPerSecond.toFixed(0)}/s with ${concurrentClients} clients`,
        ),
    )) as Record<'bare' | 'emulator', EchoRun[]>;
    const sum = (rs: EchoRun[]) => ({
      p50Ms: summarize(rs.map((r) => r.p50Ms)),
      p99Ms: summarize(rs.map((r) => r.p99Ms)),
      sequentialPerSecond: summarize(rs.map((r) => r.sequentialPerSecond)),
      concurrentPerSecond: summarize(rs.map((r) => r.concurrentPerSecond)),
    });
    const summary = { bare: sum(runs.bare), emulator: sum(runs.emulator) };
    return {
      method:
        'clients in the bench process; bare = `ws` echo server in a child process; emulator = the `echo` route of the bench app ' +
        '(authorizer + $connect at connect, then route selection, Lambda invocation in a worker process, route response)',
      latencyRoundTrips,
      concurrentClients,
      concurrentRoundTrips: concurrentClients * perClient,
      rounds,
      warmupRounds,
      runs,
      summary,
      ratios: {
        p50: ratio(summary.emulator.p50Ms.median, summary.bare.p50Ms.median),
        p99: ratio(summary.emulator.p99Ms.median, summary.bare.p99Ms.median),
        sequentialPerSecond: ratio(summary.emulator.sequentialPerSecond.median, summary.bare.sequentialPerSecond.median),
        concurrentPerSecond: ratio(summary.emulator.concurrentPerSecond.median, summary.bare.concurrentPerSecond.median),
      },
    };
  } finally {
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
