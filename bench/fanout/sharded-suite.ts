/**
 * Sharded vs single-invocation fan-out through the emulator with AWS's `@connections` bottleneck simulated
 * (bench/apps/sharded-bench-app.ts: `sendmessage` sharded on SQS + delivery workers, `directsend` the same bundle
 * posting to everyone in one invocation). Two emulator sessions, each with its own clients:
 * 1. the machine's ceiling: no latency, no rate limit, sharded broadcasts to N_ceiling clients: how many
 *    `@connections` posts per second the emulator, the workers and the clients carry here together;
 * 2. the bottleneck: every `@connections` answer delayed `LATENCY_MS`, one account-wide token bucket of
 *    `RATE` requests/s (burst RATE/2) answering 429; broadcasts to N clients, single invocation and sharded
 *    alternating run by run.
 * Clients are spread over several client-host processes (a process may hold at most `ulimit -n` sockets).
 * Per run: delivered / lost / duplicates per client, wall time from the sender's send to the last delivery at
 * any client host, and wall ÷ (N ÷ R) with R = min(AWS's 10,000 requests/s, the ceiling measured in 1.).
 */
import * as os from 'os';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { execFileSync } from 'child_process';
import { forkTs, IpcChild } from '../lib/child';
import { progress } from '../lib/log';
import { BENCH } from '../lib/paths';
import { summarize, Summary } from '../lib/stats';
import { synthShardedBenchApp } from '../apps/synth-bench-app';
import { EmulatorSession, startEmulatorSession } from './emulator-session';

export const LATENCY_MS = 20;
export const RATE = 10_000;
/** AWS's account-wide `@connections` rate. */
export const AWS_RATE = 10_000;
const CONNECT_CONCURRENCY = 50;
/** Clients per client-host process, below the per-process open-file limit with room to spare. */
const CLIENTS_PER_HOST = 6_000;
const STACK = 'WsgateBenchSharded';
const VARIANTS = { single: 'directsend', sharded: 'sendmessage' } as const;
type Variant = keyof typeof VARIANTS;

interface HostReply {
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  outsideRange: number;
  wallMs: number;
  complete: boolean;
  senderErrors: string[];
  startedAtEpoch: number;
  lastAtEpoch?: number;
}

export interface ShardedRun {
  readonly n: number;
  readonly variant: Variant;
  readonly delivered: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly wallMs: number;
  readonly messagesPerSecond: number;
  /** The sender got "Internal server error": the invocation failed or ran past its timeout. */
  readonly invocationFailed: boolean;
}

export interface ShardedCase {
  readonly n: number;
  readonly variant: Variant;
  readonly runs: ShardedRun[];
  readonly wallMs: Summary;
  readonly delivered: Summary;
  readonly messagesPerSecond: Summary;
  readonly duplicatesTotal: number;
  readonly exact: boolean;
  /** Median wall time over N ÷ R. */
  readonly wallOverBound: number;
}

export interface ShardedResult {
  readonly method: string;
  readonly latencyMs: number;
  readonly ratePerSecond: number;
  readonly levels: number[];
  readonly runsPerCase: number;
  /** Per-process open-file limit here, which bounds clients per process (the emulator holds one socket per client). */
  readonly openFileLimit: number | undefined;
  readonly clientHosts: number;
  readonly ceiling: { readonly n: number; readonly runs: ShardedRun[]; readonly messagesPerSecond: Summary };
  /** min(AWS's rate, the measured ceiling median). */
  readonly boundRate: number;
  readonly cases: ShardedCase[];
  /** Sharded wall time over single-invocation wall time, medians, per N (for a single invocation that did not finish, its wall time until it stopped). */
  readonly speedup: Record<string, number>;
  readonly delivery: { shardedAbove?: string; shardSize?: string; workerConcurrency?: number; fanoutConcurrency?: string; singleTimeoutSeconds?: number };
  readonly connectPhases: Array<{ from: number; to: number; ms: number; failed: number; perSecond: number; session: string }>;
  readonly functionIssueCount: number;
  readonly functionIssues: string[];
}

function openFileLimit(): number | undefined {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** Client hosts each holding [from, to) of the clients. */
class ClientFleet {
  private readonly hosts: Array<{ child: IpcChild; from: number; to: number }> = [];
  connected = 0;

  constructor(private readonly session: EmulatorSession, private readonly label: string, private readonly phases: ShardedResult['connectPhases']) {}

  async connectUpTo(n: number): Promise<void> {
    while (this.connected < n) {
      let host = this.hosts[this.hosts.length - 1];
      if (!host || host.to - host.from >= CLIENTS_PER_HOST) {
        const child = forkTs(path.join(BENCH, 'fanout', 'client-host.ts'), [], `[clients ${this.hosts.length}] `);
        await child.next('ready', 60_000);
        host = { child, from: this.connected, to: this.connected };
        this.hosts.push(host);
      }
      const to = Math.min(n, host.from + CLIENTS_PER_HOST);
      progress(`sharded (${this.label}): connecting clients ${this.connected}..${to} on client host ${this.hosts.length - 1}`);
      const c = await host.child.request<{ opened: number; failed: number; failures: string[]; ms: number }>('connect', {
        url: this.session.websocketUrl, from: this.connected, to, concurrency: CONNECT_CONCURRENCY,
      }, 600_000);
      this.phases.push({ from: this.connected, to, ms: c.ms, failed: c.failed, perSecond: ((to - this.connected) / c.ms) * 1000, session: this.label });
      if (c.failed > 0) throw new Error(`sharded: ${c.failed} of ${to - this.connected} connections failed: ${c.failures.join('; ')}`);
      host.to = to;
      this.connected = to;
    }
  }

  get hostCount(): number {
    return this.hosts.length;
  }

  /** One broadcast from client 0 through `action`; every host counts its clients' frames. */
  async broadcast(n: number, variant: Variant, action: string, timeoutMs: number): Promise<ShardedRun> {
    const marker = `bench-sharded-${variant}-${n}-${randomBytes(4).toString('hex')}`;
    const [senderHost, ...others] = this.hosts;
    await Promise.all(others.map((h) => h.child.request('arm', { marker }, 30_000)));
    const idleMs = 3000;
    const replies = await Promise.all([
      senderHost.child.request<HostReply>('send', {
        sender: 0, from: senderHost.from, to: senderHost.to, marker, body: { action, data: { text: marker } }, timeoutMs, idleMs,
      }, timeoutMs + 60_000),
      ...others.map((h) => h.child.request<HostReply>('await', { from: h.from, to: h.to, timeoutMs, idleMs }, timeoutMs + 60_000)),
    ]);
    const started = replies[0].startedAtEpoch;
    const last = Math.max(...replies.map((r) => r.lastAtEpoch ?? started));
    const delivered = replies.reduce((a, r) => a + r.delivered, 0);
    const wallMs = last - started;
    return {
      n, variant, delivered, lost: n - delivered,
      duplicates: replies.reduce((a, r) => a + r.duplicates, 0),
      wallMs,
      messagesPerSecond: wallMs > 0 ? (delivered / wallMs) * 1000 : 0,
      invocationFailed: replies[0].senderErrors.some((f) => f.includes('Internal server error')),
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.hosts.map((h) => h.child.stop({ id: -1, cmd: 'close' }, 60_000)));
  }
}

export async function runSharded(quick: boolean): Promise<ShardedResult> {
  // N is bounded by the open-file limit of the emulator process (one socket per client; 20,000 here) and by the
  // time connecting takes on a loaded 2-core machine (each connect runs the authorizer and $connect).
  const levels = quick ? [2000] : [10_000, 15_000];
  const ceilingN = quick ? 2000 : 5_000;
  const runsPerCase = quick ? 2 : 2;
  const assembly = await synthShardedBenchApp();
  const connectPhases: ShardedResult['connectPhases'] = [];
  const functionIssues: string[] = [];
  let functionIssueCount = 0;
  let delivery: ShardedResult['delivery'] = {};

  // 1. The ceiling: no latency, no limit.
  const ceilingRuns: ShardedRun[] = [];
  {
    const session = await startEmulatorSession(assembly, {}, STACK);
    const fleet = new ClientFleet(session, 'ceiling', connectPhases);
    try {
      const send = session.fn(/ChatSendmessageHandler/);
      const direct = session.fn(/DirectSendHandler/);
      const worker = session.functions.find((f) => /DeliveryWorker/i.test(f.id));
      delivery = {
        shardedAbove: send.environment?.SHARDED_ABOVE, shardSize: send.environment?.SHARD_SIZE,
        fanoutConcurrency: worker?.fanoutConcurrency ?? send.fanoutConcurrency, singleTimeoutSeconds: direct.timeoutSeconds,
      };
      await fleet.connectUpTo(ceilingN);
      for (let r = -1; r < runsPerCase; r++) {
        const run = await fleet.broadcast(ceilingN, 'sharded', VARIANTS.sharded, 120_000);
        progress(`sharded (ceiling): N=${ceilingN} ${r < 0 ? 'warm-up' : `run ${r + 1}/${runsPerCase}`}: delivered ${run.delivered}, dup ${run.duplicates}, ${run.wallMs.toFixed(0)} ms, ${run.messagesPerSecond.toFixed(0)} posts/s`);
        if (r >= 0) ceilingRuns.push(run);
      }
      const stats = await session.stats();
      functionIssueCount += stats.functionIssueCount;
      functionIssues.push(...stats.functionIssues.slice(0, 5));
    } finally {
      await fleet.close();
      await session.close();
    }
  }
  const ceiling = summarize(ceilingRuns.map((r) => r.messagesPerSecond));
  const boundRate = Math.min(AWS_RATE, ceiling.median);

  // 2. The bottleneck.
  const cases: ShardedCase[] = [];
  let hosts = 0;
  {
    const session = await startEmulatorSession(assembly, { connectionsLatencyMs: LATENCY_MS, connectionsRatePerSecond: RATE }, STACK);
    const fleet = new ClientFleet(session, 'bottleneck', connectPhases);
    try {
      for (const n of levels) {
        await fleet.connectUpTo(n);
        const runs: Record<Variant, ShardedRun[]> = { single: [], sharded: [] };
        const warm = n === levels[0] ? 1 : 0;
        for (let r = -warm; r < runsPerCase; r++) {
          for (const variant of ['single', 'sharded'] as const) {
            const run = await fleet.broadcast(n, variant, VARIANTS[variant], 180_000);
            progress(
              `sharded (bottleneck ${LATENCY_MS} ms, ${RATE}/s): N=${n} ${variant} ${r < 0 ? 'warm-up' : `run ${r + 1}/${runsPerCase}`}: ` +
                `delivered ${run.delivered}/${n}, dup ${run.duplicates}, ${run.wallMs.toFixed(0)} ms${run.invocationFailed ? ' (Internal server error)' : ''}`,
            );
            if (r >= 0) runs[variant].push(run);
            // Let the workers and the table settle before the next send.
            await new Promise((resolve) => setTimeout(resolve, 1000));
          }
        }
        for (const variant of ['single', 'sharded'] as const) {
          const rs = runs[variant];
          const wallMs = summarize(rs.map((x) => x.wallMs));
          cases.push({
            n, variant, runs: rs, wallMs,
            delivered: summarize(rs.map((x) => x.delivered)),
            messagesPerSecond: summarize(rs.map((x) => x.messagesPerSecond)),
            duplicatesTotal: rs.reduce((a, x) => a + x.duplicates, 0),
            exact: rs.every((x) => x.delivered === n && x.duplicates === 0),
            wallOverBound: wallMs.median / ((n / boundRate) * 1000),
          });
        }
      }
      hosts = fleet.hostCount;
      const stats = await session.stats();
      functionIssueCount += stats.functionIssueCount;
      functionIssues.push(...stats.functionIssues.slice(0, 10));
    } finally {
      await fleet.close();
      await session.close();
    }
  }
  const speedup: Record<string, number> = {};
  for (const n of levels) {
    const single = cases.find((c) => c.n === n && c.variant === 'single')!;
    const sharded = cases.find((c) => c.n === n && c.variant === 'sharded')!;
    speedup[String(n)] = single.wallMs.median / sharded.wallMs.median;
  }
  return {
    method:
      'emulator (local/emulator.ts) in a child process with dynalite + metering proxy in the bench process, local SQS and the ' +
      'delivery queue\'s event source mapping in the emulator, clients (ws) in client-host processes; wall time = the sender\'s send() to ' +
      'the last matching frame at any client host (clocks: performance.timeOrigin + now() of each process on this one machine); ' +
      'messages/s = delivered / wall time',
    latencyMs: LATENCY_MS,
    ratePerSecond: RATE,
    levels,
    runsPerCase,
    openFileLimit: openFileLimit(),
    clientHosts: hosts,
    ceiling: { n: ceilingN, runs: ceilingRuns, messagesPerSecond: ceiling },
    boundRate,
    cases,
    speedup,
    delivery: { ...delivery, workerConcurrency: 10 },
    connectPhases,
    functionIssueCount,
    functionIssues,
  };
}

/** Cores of this machine, for the report. */
export const CORES = os.cpus().length;
