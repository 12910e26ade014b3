/**
 * Fan-out through the emulator running the example chat (bench/apps/bench-app.ts = bin/chat-stack.ts plus a
 * `naivesend` baseline route): N authorized clients, then one broadcast (`sendmessage` without room) and one
 * room send (every client joined the room) per run, for the bundled handler and for the naive baseline
 * (bench/fanout/naive-handler.ts: one unpaginated Scan, unbounded Promise.all), interleaved run by run.
 * Per run: delivered / lost / duplicates checked per client, wall time from the sender's send to the last
 * delivery, messages/s, the handler instance's peak RSS (VmHWM), and the DynamoDB requests and capacity
 * units seen by the metering proxy.
 */
import * as path from 'path';
import { randomBytes } from 'crypto';
import { forkTs } from '../lib/child';
import { diffTotals, OpTotals } from '../lib/ddb-meter';
import { progress } from '../lib/log';
import { BENCH } from '../lib/paths';
import { ratio, summarize, Summary } from '../lib/stats';
import type { EmulatorSession } from './emulator-session';
import { memoryProbe } from './memory';

const ROOM = 'bench-room';
const CONNECT_CONCURRENCY = 50;
const VARIANTS = { wsgate: 'sendmessage', naive: 'naivesend' } as const;
type VariantName = keyof typeof VARIANTS;
type Kind = 'broadcast' | 'room';

interface SendReply {
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  outsideRange: number;
  wallMs: number;
  complete: boolean;
  senderErrors: string[];
}

export interface FanoutRun extends SendReply {
  /** The sender got API Gateway's "Internal server error" frame: the invocation failed or ran past its timeout. */
  readonly invocationFailed: boolean;
  readonly messagesPerSecond: number;
  readonly peakRssBytes: number;
  readonly handlerInstances: number;
  readonly dynamodb: OpTotals;
}

export interface FanoutCase {
  readonly n: number;
  readonly kind: Kind;
  readonly variant: VariantName;
  readonly runs: FanoutRun[];
  readonly wallMs: Summary;
  readonly messagesPerSecond: Summary;
  readonly peakRssBytes: Summary;
  readonly readUnits: Summary;
  readonly delivered: Summary;
  /** Every run delivered exactly once to each of the N clients. */
  readonly exact: boolean;
}

export interface FanoutResult {
  readonly method: string;
  readonly levels: number[];
  readonly runsPerCase: number;
  readonly warmupRuns: number;
  readonly connectPhases: Array<{ from: number; to: number; ms: number; failed: number; perSecond: number }>;
  readonly joinPhases: Array<{ from: number; to: number; ms: number; failed: number; perSecond: number }>;
  readonly cases: FanoutCase[];
  /** wsgate messages/s median over naive messages/s median, per N and kind. */
  readonly throughputRatioToNaive: Record<string, number>;
  readonly functionIssueCount: number;
  readonly functionIssues: string[];
  /** Timeout, memory and FANOUT_CONCURRENCY of the two handlers, as synthesized. */
  readonly handlerConfig: Record<VariantName, { timeoutSeconds: number; memorySize: number; fanoutConcurrency?: string }>;
}

export async function runFanout(session: EmulatorSession, quick: boolean): Promise<FanoutResult> {
  const levels = quick ? [1000] : [1000, 5000, 10000];
  // 3 runs per row in a full run: with 2 cores shared by other work, a full run of 5 took over 15 minutes.
  const runsPerCase = quick ? 5 : 3;
  const warmupRuns = 1;
  const clients = forkTs(path.join(BENCH, 'fanout', 'client-host.ts'), [], '[clients] ');
  const fns = { wsgate: session.fn(/SendmessageHandler/i), naive: session.fn(/NaiveSendHandler/i) };
  const probes = { wsgate: memoryProbe(fns.wsgate.codeDir), naive: memoryProbe(fns.naive.codeDir) };
  const handlerConfig = Object.fromEntries(
    Object.entries(fns).map(([k, f]) => [k, { timeoutSeconds: f.timeoutSeconds, memorySize: f.memorySize, fanoutConcurrency: f.fanoutConcurrency }]),
  ) as FanoutResult['handlerConfig'];
  const connectPhases: FanoutResult['connectPhases'] = [];
  const joinPhases: FanoutResult['joinPhases'] = [];
  const cases: FanoutCase[] = [];
  try {
    await clients.next('ready', 60_000);
    let connected = 0;
    let joined = 0;
    for (const n of levels) {
      progress(`fanout: connecting clients ${connected}..${n} (authorizer + $connect each, ${CONNECT_CONCURRENCY} at a time)`);
      const c = await clients.request<{ opened: number; failed: number; failures: string[]; ms: number }>('connect', {
        url: session.websocketUrl, from: connected, to: n, concurrency: CONNECT_CONCURRENCY,
      }, 600_000);
      connectPhases.push({ from: connected, to: n, ms: c.ms, failed: c.failed, perSecond: ((n - connected) / c.ms) * 1000 });
      if (c.failed > 0) {
        const stats = await session.stats();
        throw new Error(
          `fanout: ${c.failed} of ${n - connected} connections failed: ${c.failures.join('; ')}\n` +
            `gateway: ${stats.gatewayLines.slice(0, 5).join('\n')}\nfunctions: ${stats.functionIssues.slice(0, 5).join('\n')}`,
        );
      }
      connected = n;
      for (const kind of ['broadcast', 'room'] as const) {
        if (kind === 'room') {
          progress(`fanout: clients ${joined}..${n} join ${ROOM}`);
          const j = await clients.request<{ joined: number; failed: number; ms: number }>('join', { room: ROOM, from: joined, to: n, concurrency: CONNECT_CONCURRENCY }, 600_000);
          joinPhases.push({ from: joined, to: n, ms: j.ms, failed: j.failed, perSecond: ((n - joined) / j.ms) * 1000 });
          if (j.failed > 0) throw new Error(`fanout: ${j.failed} joins failed`);
          joined = n;
        }
        const runs: Record<VariantName, FanoutRun[]> = { wsgate: [], naive: [] };
        const warm = n === levels[0] ? warmupRuns : 0;
        for (let r = -warm; r < runsPerCase; r++) {
          for (const variant of ['wsgate', 'naive'] as const) {
            const marker = `bench-${variant}-${kind}-${n}-${r}-${randomBytes(4).toString('hex')}`;
            const data = kind === 'room' ? { room: ROOM, text: marker } : { text: marker };
            probes[variant].reset();
            const before = session.meter.totals();
            const reply = await clients.request<SendReply>('send', {
              sender: 0, from: 0, to: n, marker, body: { action: VARIANTS[variant], data },
              timeoutMs: 120_000, idleMs: 2000,
            }, 200_000);
            // Let the handler finish its last posts before reading the meter and the memory.
            await new Promise((resolve) => setTimeout(resolve, 250));
            const peak = probes[variant].peak();
            const run: FanoutRun = {
              ...reply,
              invocationFailed: reply.senderErrors.some((f) => f.includes('Internal server error')),
              messagesPerSecond: (reply.delivered / reply.wallMs) * 1000,
              peakRssBytes: peak.bytes,
              handlerInstances: peak.instances,
              dynamodb: diffTotals(before, session.meter.totals()),
            };
            progress(
              `fanout: N=${n} ${kind} ${variant} ${r < 0 ? 'warm-up' : `run ${r + 1}/${runsPerCase}`}: delivered ${reply.delivered}/${n}` +
                ` dup ${reply.duplicates} in ${reply.wallMs.toFixed(0)} ms${run.invocationFailed ? ' (Internal server error)' : ''}, peak RSS ${(peak.bytes / 2 ** 20).toFixed(0)} MiB, RCU ${run.dynamodb.readUnits}`,
            );
            if (r >= 0) runs[variant].push(run);
          }
        }
        for (const variant of ['wsgate', 'naive'] as const) {
          const rs = runs[variant];
          cases.push({
            n, kind, variant, runs: rs,
            wallMs: summarize(rs.map((x) => x.wallMs)),
            messagesPerSecond: summarize(rs.map((x) => x.messagesPerSecond)),
            peakRssBytes: summarize(rs.map((x) => x.peakRssBytes)),
            readUnits: summarize(rs.map((x) => x.dynamodb.readUnits)),
            delivered: summarize(rs.map((x) => x.delivered)),
            exact: rs.every((x) => x.delivered === n && x.duplicates === 0 && x.outsideRange === 0),
          });
        }
      }
    }
    const stats = await session.stats();
    const throughputRatioToNaive: Record<string, number> = {};
    for (const c of cases.filter((x) => x.variant === 'wsgate')) {
      const naive = cases.find((x) => x.variant === 'naive' && x.n === c.n && x.kind === c.kind)!;
      throughputRatioToNaive[`${c.kind}@${c.n}`] = ratio(c.messagesPerSecond.median, naive.messagesPerSecond.median);
    }
    return {
      method:
        'emulator (local/emulator.ts) in a child process, clients (ws) in another, dynalite + metering proxy in the bench process; ' +
        'wall time = sender send() to the last matching frame at any client; messages/s = delivered / wall time; peak RSS = VmHWM ' +
        'of the function instance(s), reset before each send; DynamoDB = requests and ReturnConsumedCapacity TOTAL seen by the proxy',
      levels,
      runsPerCase,
      warmupRuns,
      connectPhases,
      joinPhases,
      cases,
      throughputRatioToNaive,
      functionIssueCount: stats.functionIssueCount,
      functionIssues: stats.functionIssues,
      handlerConfig,
    };
  } finally {
    await clients.stop({ id: -1, cmd: 'close' }, 60_000);
  }
}
