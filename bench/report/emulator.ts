/** docs/benchmarks.md sections 3 (fan-out) and 4 (emulator overhead). */
import type { EchoResult } from '../echo/suite';
import type { FanoutResult } from '../fanout/suite';
import type { Summary } from '../lib/stats';
import { mib, num, spread, table, times } from './format';

export function fanoutSection(r: FanoutResult): string {
  const phases = [
    ...r.connectPhases.map((p) => [`connect clients ${p.from}–${p.to}`, num(p.ms / 1000, 1), num(p.perSecond), p.failed]),
    ...r.joinPhases.map((p) => [`join clients ${p.from}–${p.to}`, num(p.ms / 1000, 1), num(p.perSecond), p.failed]),
  ];
  const rows = r.cases.map((c) => {
    const worst = c.runs.reduce((a, x) => Math.max(a, x.lost), 0);
    const dups = c.runs.reduce((a, x) => a + x.duplicates, 0);
    const failed = c.runs.filter((x) => x.invocationFailed).length;
    const calls = c.runs[0]?.dynamodb.calls ?? {};
    const ratioKey = `${c.kind}@${c.n}`;
    return [
      num(c.n),
      c.kind,
      c.variant,
      `${num(c.delivered.min)} / ${num(c.n)}`,
      num(worst),
      num(dups),
      spread(c.wallMs, 0, ' ms'),
      spread(c.messagesPerSecond, 0),
      c.variant === 'wsgate' ? times(r.throughputRatioToNaive[ratioKey]) : '1.00× (baseline)',
      `${mib(c.peakRssBytes.median)} (max ${mib(c.peakRssBytes.max)})`,
      Object.entries(calls).map(([op, n]) => `${op} ${n}`).join(', '),
      num(c.readUnits.median, 1),
      `${failed} / ${c.runs.length}`,
      r.handlerConfig ? `${num((c.wallMs.max / 1000 / r.handlerConfig[c.variant].timeoutSeconds) * 100)} %` : 'n/a',
      c.exact ? 'yes' : '**no**',
    ];
  });
  return [
    table(['phase', 'seconds', 'per second', 'failed'], phases),
    '',
    table(
      ['N', 'send', 'handler', 'delivered (worst run)', 'lost (worst run)', 'duplicates (all runs)', 'wall ms, median (min–max)', 'messages/s', 'msg/s ÷ naive', 'peak RSS, median', 'DynamoDB requests per send', 'RCU per send', 'runs ending in "Internal server error"', 'slowest run ÷ function timeout', 'exactly once to all N'],
      rows,
    ),
    '',
    `Handlers as synthesized: ${Object.entries(r.handlerConfig ?? {}).map(([k, c]) => `${k} timeout ${c.timeoutSeconds} s, ${c.memorySize} MB${c.fanoutConcurrency ? `, FANOUT_CONCURRENCY ${c.fanoutConcurrency}` : ''}`).join('; ')}.`,
    `${r.runsPerCase} runs per row (the first N also had ${r.warmupRuns} warm-up send per row, discarded); wsgate and naive alternate run by run.`,
    `Method: ${r.method}.`,
    `Handler warn/error log lines during the fan-out: ${r.functionIssueCount}.`,
    ...(r.functionIssues.length ? ['', '```', ...r.functionIssues.slice(0, 5), '```'] : []),
  ].join('\n');
}

const ECHO_TARGETS = [
  ['bare', 'bare `ws` echo server (floor)'],
  ['emulator', 'emulator, `echo` route (bench app)'],
  ['enforcementOff', 'emulator, enforcement off (`--no-iam --no-throttle`)'],
  ['enforcementOn', 'emulator, enforcement on (IAM, stage and `@connections` buckets)'],
] as const;

/** `x % slower` / `x % faster` from an on ÷ off ratio: > 1 is slower for a time, < 1 is slower for a rate. */
function slowdown(r: number | undefined, kind: 'time' | 'rate'): string {
  if (r === undefined || !Number.isFinite(r)) return 'n/a';
  const pct = kind === 'time' ? (r - 1) * 100 : (1 / r - 1) * 100;
  return `${num(Math.abs(pct), 1)} % ${pct >= 0 ? 'slower' : 'faster'}`;
}

/** True when the min–max ranges of two summaries overlap. */
function withinSpread(a: Summary | undefined, b: Summary | undefined): boolean {
  return a !== undefined && b !== undefined && a.min <= b.max && b.min <= a.max;
}

/** Issue 14's target for the emulator's echo throughput, as a fraction of the bare `ws` server's. */
const ECHO_THROUGHPUT_TARGET = 0.3;

export function echoSection(r: EchoResult): string {
  const rows = ECHO_TARGETS.filter(([k]) => r.summary[k]).map(([k, label]) => {
    const s = r.summary[k]!;
    return [
      label,
      s.connectMs ? spread(s.connectMs, 2, ' ms') : 'n/a',
      spread(s.p50Ms, 2, ' ms'),
      spread(s.p99Ms, 2, ' ms'),
      spread(s.sequentialPerSecond, 0),
      spread(s.concurrentPerSecond, 0),
    ];
  });
  const e = r.enforcement;
  return [
    table(['target', 'handshake, median of a run', 'p50 latency', 'p99 latency', 'round trips/s, 1 client', `round trips/s, ${r.concurrentClients} clients`], rows),
    '',
    `Emulator ÷ floor (medians): p50 ${times(r.ratios.p50)}, p99 ${times(r.ratios.p99)}, ` +
      `throughput ${times(r.ratios.sequentialPerSecond)} with 1 client and ${times(r.ratios.concurrentPerSecond)} with ${r.concurrentClients}` +
      (Math.min(r.ratios.sequentialPerSecond, r.ratios.concurrentPerSecond) < ECHO_THROUGHPUT_TARGET
        ? ` (issue 14's target: ${times(ECHO_THROUGHPUT_TARGET)}; missed: every frame is a Lambda invocation in another process, two IPC messages and two wake-ups, ` +
          `where the floor answers in its own; with ${r.concurrentClients} clients both are CPU-bound on the machine's cores: ` +
          `[emulator-performance.md](emulator-performance.md#the-misses-explained)).`
        : '.'),
    ...(e
      ? [
          '',
          `Enforcement on ÷ off (medians; issue 11's target: no slowdown beyond 10 %): ` +
            `p50 ${times(e.ratios.p50)} (${slowdown(e.ratios.p50, 'time')}), p99 ${times(e.ratios.p99)} (${slowdown(e.ratios.p99, 'time')}), ` +
            `throughput ${times(e.ratios.sequentialPerSecond)} with 1 client (${slowdown(e.ratios.sequentialPerSecond, 'rate')}) and ` +
            `${times(e.ratios.concurrentPerSecond)} with ${r.concurrentClients} (${slowdown(e.ratios.concurrentPerSecond, 'rate')}); ` +
            `handshake ${times(e.ratios.connect ?? Number.NaN)} (${slowdown(e.ratios.connect, 'time')}).` +
            (withinSpread(r.summary.enforcementOn?.concurrentPerSecond, r.summary.enforcementOff?.concurrentPerSecond) &&
            withinSpread(r.summary.enforcementOn?.p50Ms, r.summary.enforcementOff?.p50Ms)
              ? ' The runs of each target overlap (min–max in the table): on this shared machine the difference is noise, ' +
                'so read it as no measurable slowdown, not as a speed-up.'
              : '') +
            ` Method: ${e.method}.`,
        ]
      : []),
    '',
    `${r.rounds} runs per target after ${r.warmupRounds} warm-up; per run ${r.connectsPerRun ? `${num(r.connectsPerRun)} handshakes one after another, ` : ''}` +
      `${num(r.latencyRoundTrips)} sequential round trips (latency) and ${num(r.concurrentRoundTrips)} over ${r.concurrentClients} closed-loop clients ` +
      `(throughput); the targets alternate run by run on a machine shared with other work (load average in the section header). Method: ${r.method}.`,
  ].join('\n');
}
