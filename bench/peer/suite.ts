/**
 * Peer suite: the same third-party-style handlers (bench/peer/handlers: $connect, $disconnect, sendmessage in the
 * style of AWS's simple-websockets-chat-app) under `wsgate local` and under serverless-offline, on one shared
 * dynalite in this process, alternating target by target, `rounds` repetitions (plus one warm-up pair), medians.
 * Each repetition starts the target fresh on an empty table and measures, in order:
 *   ready time (spawn → first WebSocket open) and idle RSS (its process tree, just after ready);
 *   connects/s: 200 sequential, then 1,000 with 20 in parallel (each: open, wait for open, close);
 *   sendmessage round trip, 1 client alone (its own broadcast comes back): p50 / p99 of 300 after 20 warm-up;
 *   fan-out to all N = 100 / 1,000 / 3,000 open connections: one client sends, time until every client has the frame
 *   (one warm-up send at each N first); peak RSS of the target's process tree (VmRSS summed, sampled every 100 ms)
 *   while the 3,000 are connected and the fan-out runs.
 * Clients run in this process. The machine is shared: rounds alternate so drift hits both alike.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, ListTablesCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import WebSocket from 'ws';
import { FAKE_CREDENTIALS, REGION, startDynalite } from '../lib/dynalite';
import { progress } from '../lib/log';
import { forEachBounded } from '../lib/pool';
import { percentile, ratio, round, summarize, Summary } from '../lib/stats';
import { OFFLINE_TABLE, OFFLINE_VERSION, PEER_WORK, preparePeer, Prepared, RunningTarget, SERVERLESS_VERSION, spawnTarget, TargetName } from './targets';

export interface PeerRun {
  readonly readyMs: number;
  readonly idleRssMiB: number;
  readonly connectsPerSecondSequential: number;
  readonly connectsPerSecondParallel: number;
  readonly connectFailures: number;
  readonly roundTripP50Ms: number;
  readonly roundTripP99Ms: number;
  /** N → ms until all N clients had the frame. */
  readonly fanoutMs: Record<string, number>;
  /** N → clients that had the frame (should be N) / frames that arrived twice. */
  readonly fanoutDelivered: Record<string, number>;
  readonly fanoutDuplicates: number;
  readonly peakRssMiB3000: number;
  readonly peakProcesses3000: number;
}

type Metric = Exclude<keyof PeerRun, 'fanoutMs' | 'fanoutDelivered'>;

export interface PeerResult {
  readonly method: string;
  readonly versions: Record<string, string>;
  readonly rounds: number;
  readonly warmupRounds: number;
  readonly fanoutSizes: number[];
  readonly runs: Record<TargetName, PeerRun[]>;
  readonly summary: Record<TargetName, Record<string, Summary>>;
  /** wsgate ÷ serverless-offline, oriented so that > 1 means wsgate is better (rates: wsgate/peer; times, memory: peer/wsgate). */
  readonly advantage: Record<string, number>;
  readonly notes: string[];
}

const FANOUT_SIZES = [100, 1000, 3000];
const ROUND_TRIPS = 300;

function mib(kb: number): number {
  return round(kb / 1024, 1);
}

/** The process and its descendants (from /proc), with their VmRSS in kB. */
function treeRss(root: number): { kb: number; processes: number } {
  const parent = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(entry), ppid);
    } catch {
      // exited
    }
  }
  const inTree = (pid: number): boolean => {
    for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 1 && hops < 50; p = parent.get(p), hops++) if (p === root) return true;
    return false;
  };
  let kb = 0;
  let processes = 0;
  for (const pid of parent.keys()) {
    if (!inTree(pid)) continue;
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) {
        kb += Number(m[1]);
        processes++;
      }
    } catch {
      // exited
    }
  }
  return { kb, processes };
}

function open(url: string, onMessage?: (data: Buffer) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      ws.terminate();
      reject(new Error(`HTTP ${res.statusCode}`));
    });
    ws.once('error', reject);
    if (onMessage) ws.on('message', onMessage);
  });
}

async function waitReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const ws = await open(url);
      ws.close();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${url} not ready after ${timeoutMs} ms: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** Resolves once `table` holds no item (the $disconnect invocations have run), at most `timeoutMs`. */
async function drained(ddb: DynamoDBClient, table: string, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Count } = await ddb.send(new ScanCommand({ TableName: table, Select: 'COUNT' }));
    if (!Count || Date.now() > deadline) return Count ?? 0;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function connectRate(url: string, count: number, parallel: number): Promise<{ perSecond: number; failures: number }> {
  let failures = 0;
  const t0 = performance.now();
  await forEachBounded(0, count, parallel, async () => {
    try {
      const ws = await open(url);
      ws.close();
    } catch {
      failures++;
    }
  });
  return { perSecond: (count / (performance.now() - t0)) * 1000, failures };
}

async function roundTrips(url: string): Promise<{ p50: number; p99: number }> {
  let waiter: ((text: string) => void) | undefined;
  const ws = await open(url, (data) => waiter?.(data.toString('utf8')));
  const samples: number[] = [];
  for (let i = 0; i < ROUND_TRIPS + 20; i++) {
    const marker = `rt-${i}`;
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`round trip ${i}: no answer in 30 s`)), 30_000);
      waiter = (text) => {
        if (text === marker) {
          clearTimeout(timer);
          resolve();
        }
      };
      ws.send(JSON.stringify({ action: 'sendmessage', data: marker }));
    });
    if (i >= 20) samples.push(performance.now() - t0);
  }
  ws.close();
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

class Audience {
  readonly clients: WebSocket[] = [];
  private marker = '';
  private counts: Uint8Array = new Uint8Array(0);
  private remaining = 0;
  private done?: () => void;
  duplicates = 0;

  async grow(url: string, to: number): Promise<void> {
    const from = this.clients.length;
    await forEachBounded(from, to, 20, async (i) => {
      this.clients[i] = await open(url, (data) => this.onFrame(i, data));
    });
  }

  private onFrame(i: number, data: Buffer): void {
    if (!this.marker || data.toString('utf8') !== this.marker) return;
    if (this.counts[i]++ > 0) this.duplicates++;
    else if (--this.remaining === 0) this.done?.();
  }

  /** ms from the send until every client has the frame (rejects after 60 s). */
  async fanout(marker: string): Promise<{ ms: number; delivered: number }> {
    this.marker = marker;
    this.counts = new Uint8Array(this.clients.length);
    this.remaining = this.clients.length;
    const t0 = performance.now();
    const all = new Promise<void>((resolve) => (this.done = resolve));
    this.clients[0].send(JSON.stringify({ action: 'sendmessage', data: marker }));
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 60_000).unref());
    const outcome = await Promise.race([all, timeout]);
    const ms = performance.now() - t0;
    const delivered = this.clients.length - this.remaining;
    this.done = undefined;
    if (outcome === 'timeout') progress(`peer: fan-out ${marker}: ${delivered}/${this.clients.length} after 60 s`);
    // A short settle, so duplicates are seen before the next send.
    await new Promise((r) => setTimeout(r, 200));
    this.marker = '';
    return { ms, delivered };
  }

  close(): void {
    for (const c of this.clients) c.terminate();
    this.clients.length = 0;
  }
}

async function resetTables(ddb: DynamoDBClient): Promise<void> {
  const { TableNames = [] } = await ddb.send(new ListTablesCommand({}));
  for (const TableName of TableNames) await ddb.send(new DeleteTableCommand({ TableName }));
  await ddb.send(new CreateTableCommand({
    TableName: OFFLINE_TABLE,
    KeySchema: [{ AttributeName: 'connectionId', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'connectionId', AttributeType: 'S' }],
    BillingMode: 'PAY_PER_REQUEST',
  }));
}

async function oneRun(name: TargetName, prepared: Prepared, ddb: DynamoDBClient, endpoint: string): Promise<PeerRun> {
  await resetTables(ddb);
  const t0 = performance.now();
  const target: RunningTarget = await spawnTarget(name, prepared, endpoint, OFFLINE_TABLE);
  const audience = new Audience();
  try {
    await waitReady(target.url, 60_000);
    const readyMs = performance.now() - t0;
    const idle = treeRss(target.pid);
    const { TableNames = [] } = await ddb.send(new ListTablesCommand({}));
    const table = name === 'offline' ? OFFLINE_TABLE : TableNames.find((t) => t !== OFFLINE_TABLE)!;
    await drained(ddb, table);
    const phase = (what: string) => progress(`peer: ${name}: ${what} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    phase('ready');
    const sequential = await connectRate(target.url, 200, 1);
    const parallel = await connectRate(target.url, 1000, 20);
    const left = await drained(ddb, table);
    if (left > 0) progress(`peer: ${name}: ${left} connection records left after the connect phase`);
    phase(`connects done: ${sequential.perSecond.toFixed(0)}/s, ${parallel.perSecond.toFixed(0)}/s`);
    const rt = await roundTrips(target.url);
    phase(`round trips done: p50 ${rt.p50.toFixed(2)} ms`);
    await drained(ddb, table);
    const fanoutMs: Record<string, number> = {};
    const fanoutDelivered: Record<string, number> = {};
    let peak = { kb: 0, processes: 0 };
    for (const n of FANOUT_SIZES) {
      let sampler: NodeJS.Timeout | undefined;
      if (n === 3000) {
        sampler = setInterval(() => {
          const now = treeRss(target.pid);
          if (now.kb > peak.kb) peak = now;
        }, 100);
      }
      await audience.grow(target.url, n);
      await audience.fanout(`warm-${n}`);
      const { ms, delivered } = await audience.fanout(`fan-${n}`);
      fanoutMs[n] = ms;
      phase(`fan-out ${n}: ${ms.toFixed(0)} ms, ${delivered} delivered`);
      fanoutDelivered[n] = delivered;
      if (sampler) {
        clearInterval(sampler);
        const now = treeRss(target.pid);
        if (now.kb > peak.kb) peak = now;
      }
    }
    return {
      readyMs,
      idleRssMiB: mib(idle.kb),
      connectsPerSecondSequential: sequential.perSecond,
      connectsPerSecondParallel: parallel.perSecond,
      connectFailures: sequential.failures + parallel.failures,
      roundTripP50Ms: rt.p50,
      roundTripP99Ms: rt.p99,
      fanoutMs,
      fanoutDelivered,
      fanoutDuplicates: audience.duplicates,
      peakRssMiB3000: mib(peak.kb),
      peakProcesses3000: peak.processes,
    };
  } finally {
    audience.close();
    await target.stop();
  }
}

export async function runPeer(quick: boolean): Promise<PeerResult> {
  const dynamo = await startDynalite();
  const ddb = new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION, credentials: FAKE_CREDENTIALS });
  try {
    progress('peer: synthesizing the peer app, compiling the emulator, checking serverless-offline');
    const prepared = await preparePeer(dynamo.endpoint);
    // 9 rounds: with 5, the medians of two runs minutes apart on this 2-core VM differed by up to 0.3 in the ratios
    // (docs/emulator-performance.md); a round takes about 45 s on a quiet machine.
    const rounds = quick ? 1 : 9;
    // No warm-up pair: every run starts its target cold anyway (ready time is one of the measures), and a run takes
    // minutes on the shared machine. Each finished run is also written to bench/.work/peer/partial.json.
    const warmupRounds = 0;
    const runs: Record<TargetName, PeerRun[]> = { wsgate: [], offline: [] };
    const notes: string[] = [];
    // A wall-clock budget (25 minutes), so a loaded machine cannot stretch the suite without bound: no round starts
    // that would likely end past it (judged by the longest round so far); the rounds done are what is reported.
    // PEER_DEADLINE (an ISO time) replaces the budget with an absolute end.
    const deadline = process.env.PEER_DEADLINE ? Date.parse(process.env.PEER_DEADLINE) : Date.now() + 25 * 60_000;
    let longestRoundMs = 0;
    for (let r = -warmupRounds; r < rounds; r++) {
      if (r > 0 && Date.now() + longestRoundMs > deadline) {
        notes.push(`stopped after ${r} of ${rounds} rounds: the next would have ended past the suite's time budget (a round took up to ${(longestRoundMs / 60_000).toFixed(1)} min on the loaded machine)`);
        progress(`peer: ${notes[notes.length - 1]}`);
        break;
      }
      const roundStart = performance.now();
      for (const name of ['wsgate', 'offline'] as const) {
        let run: PeerRun;
        try {
          run = await oneRun(name, prepared, ddb, dynamo.endpoint);
        } catch (err) {
          notes.push(`${name} run ${r + 1} failed and is not counted: ${(err as Error).message}`);
          progress(`peer: ${notes[notes.length - 1]}`);
          continue;
        }
        progress(
          `peer: ${name} ${r < 0 ? 'warm-up' : `run ${r + 1}/${rounds}`}: ready ${run.readyMs.toFixed(0)} ms, idle ${run.idleRssMiB} MiB, ` +
            `connects ${run.connectsPerSecondSequential.toFixed(0)}/s seq, ${run.connectsPerSecondParallel.toFixed(0)}/s ×20 (${run.connectFailures} failed), ` +
            `rt p50 ${run.roundTripP50Ms.toFixed(2)} p99 ${run.roundTripP99Ms.toFixed(2)} ms, fan-out ${FANOUT_SIZES.map((n) => `${n}: ${run.fanoutMs[n].toFixed(0)} ms (${run.fanoutDelivered[n]})`).join(', ')}, ` +
            `${run.fanoutDuplicates} dup, peak ${run.peakRssMiB3000} MiB in ${run.peakProcesses3000} processes`,
        );
        if (r >= 0) runs[name].push(run);
        fs.writeFileSync(path.join(PEER_WORK, 'partial.json'), `${JSON.stringify(runs, null, 1)}\n`);
      }
      longestRoundMs = Math.max(longestRoundMs, performance.now() - roundStart);
    }
    const metrics = (run: PeerRun): Record<string, number> => {
      const flat: Record<string, number> = {};
      for (const key of Object.keys(run) as Array<keyof PeerRun>) {
        const v = run[key];
        if (typeof v === 'number') flat[key] = v;
      }
      for (const n of FANOUT_SIZES) flat[`fanoutMs${n}`] = run.fanoutMs[n];
      return flat;
    };
    for (const name of ['wsgate', 'offline'] as const) if (runs[name].length === 0) throw new Error(`peer: no ${name} run completed (${notes.join('; ')})`);
    const summary = Object.fromEntries(
      (['wsgate', 'offline'] as const).map((name) => {
        const flats = runs[name].map(metrics);
        return [name, Object.fromEntries(Object.keys(flats[0]).map((k) => [k, summarize(flats.map((f) => f[k]))]))];
      }),
    ) as Record<TargetName, Record<string, Summary>>;
    const med = (name: TargetName, key: string) => summary[name][key].median;
    const higherIsBetter: Metric[] = ['connectsPerSecondSequential', 'connectsPerSecondParallel'];
    const lowerIsBetter = ['roundTripP50Ms', 'roundTripP99Ms', ...FANOUT_SIZES.map((n) => `fanoutMs${n}`), 'peakRssMiB3000', 'idleRssMiB', 'readyMs'];
    const advantage: Record<string, number> = {};
    for (const k of higherIsBetter) advantage[k] = ratio(med('wsgate', k), med('offline', k));
    for (const k of lowerIsBetter) advantage[k] = ratio(med('offline', k), med('wsgate', k));
    return {
      method:
        'same handlers (bench/peer/handlers, written for this bench in the style of aws-samples simple-websockets-chat-app: SDK v3, ' +
        'Scan of all connection ids, a management client per invocation from the event\'s domainName/stage, unbounded Promise.all) under ' +
        '`wsgate local --no-throttle` (local IAM on, precompiled JS) and under serverless-offline --useInProcess (with a preload that sends ' +
        'the sample\'s https://localhost/{stage}/@connections posts to its plain-HTTP port); one dynalite in the bench process for both; ' +
        'clients in the bench process; targets alternate, fresh start and empty table per run; medians of the runs',
      versions: { serverless: SERVERLESS_VERSION, 'serverless-offline': OFFLINE_VERSION, node: process.version },
      rounds: Math.min(runs.wsgate.length, runs.offline.length),
      warmupRounds,
      fanoutSizes: FANOUT_SIZES,
      runs,
      summary,
      advantage,
      notes,
    };
  } finally {
    ddb.destroy();
    await dynamo.stop();
  }
}
