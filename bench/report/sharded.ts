/** docs/benchmarks.md: sharded vs single-invocation fan-out with the `@connections` bottleneck simulated. */
import type { ShardedResult } from '../fanout/sharded-suite';
import { num, spread, table, times, verdict } from './format';

/** Targets of the sharded benchmark (issue 10): exact delivery, wall ≤ 1.5× the bound, ≥ 5× the single invocation. */
export const SHARDED_TARGETS = { wallOverBound: 1.5, speedup: 5 } as const;

/**
 * How much faster sharded delivery is than one invocation at N: the ratio of their delivery rates (delivered ÷
 * wall time, medians). When both finish it is the ratio of wall times; a single invocation that stops at its
 * timeout is compared by what it delivered until then.
 */
export function shardedSpeedup(r: ShardedResult, n: number): number {
  const single = r.cases.find((c) => c.n === n && c.variant === 'single');
  const sharded = r.cases.find((c) => c.n === n && c.variant === 'sharded');
  return single && sharded ? sharded.messagesPerSecond.median / single.messagesPerSecond.median : Number.NaN;
}

export function shardedTargetRows(r: ShardedResult): string[][] {
  const top = Math.max(...r.levels);
  const rows: string[][] = [];
  for (const c of r.cases.filter((x) => x.variant === 'sharded')) {
    rows.push([`sharded broadcast, N = ${num(c.n)}: delivered exactly once`, `${num(c.n)}, 0 lost, 0 duplicates`, `worst run ${num(c.delivered.min)}, ${num(c.duplicatesTotal)} duplicates`, verdict(c.exact)]);
  }
  const atTop = r.cases.find((x) => x.variant === 'sharded' && x.n === top);
  if (atTop) {
    rows.push([`sharded wall ÷ (N ÷ R), N = ${num(top)}`, `≤ ${times(SHARDED_TARGETS.wallOverBound)}`, times(atTop.wallOverBound), verdict(atTop.wallOverBound <= SHARDED_TARGETS.wallOverBound)]);
    const s = shardedSpeedup(r, top);
    rows.push([`sharded vs single invocation, N = ${num(top)}`, `≥ ${times(SHARDED_TARGETS.speedup)} faster`, `${times(s)}`, verdict(s >= SHARDED_TARGETS.speedup)]);
  }
  return rows;
}

export function shardedSection(r: ShardedResult): string {
  const rows = r.cases.map((c) => [
    num(c.n),
    c.variant === 'sharded' ? 'sharded (SQS + workers)' : 'single invocation',
    `${num(c.delivered.min)} / ${num(c.n)}`,
    num(Math.max(...c.runs.map((x) => x.lost))),
    num(c.duplicatesTotal),
    `${c.runs.filter((x) => x.invocationFailed).length} / ${c.runs.length}`,
    spread(c.wallMs, 0, ' ms'),
    spread(c.messagesPerSecond, 0),
    num((c.n / r.boundRate) * 1000),
    times(c.wallOverBound),
  ]);
  const phases = r.connectPhases.map((p) => [p.session, `${num(p.from)}–${num(p.to)}`, num(p.ms / 1000, 1), num(p.perSecond), p.failed]);
  const top = Math.max(...r.levels);
  const single = r.cases.find((c) => c.n === top && c.variant === 'single');
  return [
    `\`@connections\` latency ${num(r.latencyMs)} ms per request and an account-wide rate of ${num(r.ratePerSecond)} requests/s ` +
      `(token bucket, burst ${num(r.ratePerSecond / 2)}, 429 LimitExceededException over it): \`wsgate local --connections-latency ${r.latencyMs} --connections-rate ${r.ratePerSecond}\`. ` +
      `Delivery: audiences above ${r.delivery.shardedAbove ?? 'the default'} are sharded, ${r.delivery.shardSize ?? 'default'} recipients per shard, ` +
      `at most ${r.delivery.workerConcurrency ?? 'n/a'} workers, FANOUT_CONCURRENCY ${r.delivery.fanoutConcurrency ?? 'default'} per worker; ` +
      `the single invocation is the same handler bundle without the queue (timeout ${r.delivery.singleTimeoutSeconds ?? 'n/a'} s).`,
    '',
    `**This machine's ceiling** (no latency, no limit; sharded broadcasts to ${num(r.ceiling.n)} clients, ${r.ceiling.runs.length} runs): ` +
      `${spread(r.ceiling.messagesPerSecond, 0)} posts/s delivered. R = min(AWS's 10,000/s, this ceiling) = **${num(r.boundRate)}/s**; ` +
      'the bound N ÷ R is the fastest any delivery could finish here.' +
      (r.cases.some((c) => c.wallOverBound < 1)
        ? ' A wall time under the bound (ratio below 1.00×) means the machine carried more during that run than while the ceiling was ' +
          'measured: the ceiling comes from another emulator session minutes earlier, and the other work on this machine varies.'
        : ''),
    '',
    table(['N', 'delivery', 'delivered (worst run)', 'lost (worst run)', 'duplicates (all runs)', 'runs ending in "Internal server error"', 'wall ms, median (min–max)', 'messages/s', 'bound N ÷ R, ms', 'wall ÷ bound'], rows),
    '',
    `Sharded vs single invocation, ratio of delivery rates (messages/s, medians): ${r.levels.map((n) => `N = ${num(n)}: ${times(shardedSpeedup(r, n))} faster`).join('; ')}.` +
      (single && !single.exact
        ? ` The single invocation does not finish at N = ${num(top)}: it delivered ${num(single.delivered.median)} (median) before its ` +
          `${r.delivery.singleTimeoutSeconds ?? 'n/a'} s timeout; at its rate all ${num(top)} would take ${num((top / single.messagesPerSecond.median))} s, ` +
          `past the function's ${r.delivery.singleTimeoutSeconds ?? 'n/a'} s timeout.`
        : ''),
    '',
    `${r.runsPerCase} runs per row (the first N also had 1 warm-up send per variant, discarded); single and sharded alternate run by run. ` +
      `Clients: ${r.clientHosts} client-host processes. N stops at ${num(top)}: the per-process open-file limit here is ` +
      `${r.openFileLimit !== undefined ? num(r.openFileLimit) : 'unknown'} and cannot be raised in this container (\`ulimit -n\` above it is refused), ` +
      'and the emulator process holds one socket per client, so 50,000 clients cannot be connected to one emulator on this machine.',
    `Method: ${r.method}. Handler warn/error log lines: ${num(r.functionIssueCount)}.`,
    '',
    table(['session', 'clients', 'seconds', 'connects/s', 'failed'], phases),
  ].join('\n');
}
