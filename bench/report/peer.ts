/** The peer section of docs/benchmarks.md: `wsgate local` vs serverless-offline on the same handlers. */
import type { PeerResult } from '../peer/suite';
import { num, spread, table, times, verdict } from './format';

/** [metric key, label, digits, unit, target on the advantage (wsgate better when > 1)]. */
const ROWS: ReadonlyArray<[string, string, number, string, number]> = [
  ['connectsPerSecondSequential', 'connects/s, 200 sequential', 0, '', 1],
  ['connectsPerSecondParallel', 'connects/s, 1,000 with 20 in parallel', 0, '', 1],
  ['roundTripP50Ms', 'sendmessage round trip p50 (1 client)', 1, ' ms', 1],
  ['roundTripP99Ms', 'sendmessage round trip p99 (1 client)', 1, ' ms', 1],
  ['fanoutMs100', 'fan-out to all, N = 100', 0, ' ms', 1],
  ['fanoutMs1000', 'fan-out to all, N = 1,000', 0, ' ms', 1],
  ['fanoutMs3000', 'fan-out to all, N = 3,000', 0, ' ms', 1],
  ['peakRssMiB3000', 'peak RSS of the server and its processes, N = 3,000', 0, ' MiB', 1 / 1.5],
  ['idleRssMiB', 'idle RSS after start', 0, ' MiB', 1],
  ['readyMs', 'ready after start (spawn → first WebSocket open)', 0, ' ms', 1],
];

/**
 * One line per row that can miss: what the measurements in docs/emulator-performance.md found behind it. Printed for
 * the rows a run misses; every one comes back to one invocation per instance in a process of its own (Lambda's model,
 * kept), where serverless-offline --useInProcess calls every handler inside its one process.
 */
const WHY_MISSED: Readonly<Record<string, string>> = {
  connectsPerSecondSequential: 'each connect waits for two invocations ($connect, then $disconnect at the close), each two IPC messages that wake another process.',
  connectsPerSecondParallel: 'CPU-bound on 2 cores: the SDK call of a process that makes one call at a time (every Lambda-style instance) costs about twice the CPU of one among 20 in flight in one process (1.14 vs 0.59 ms per PutItem), and every connect crosses into two other processes and back.',
  roundTripP50Ms: 'a round trip crosses processes 6 times against the peer\'s 4; each crossing is a wake-up of another process, the same per-step times otherwise (timestamped in both).',
  roundTripP99Ms: 'the same hops, and more processes to schedule on 2 cores.',
  fanoutMs100: 'a near-tie that falls either side from run to run; each post crosses from the function\'s process into the emulator\'s.',
  fanoutMs1000: 'a near-tie that falls either side from run to run; the fan-out instance spends about a fifth of its busy time in garbage collection.',
  fanoutMs3000: 'each of the 3,000 posts crosses from the function\'s process into the emulator\'s, and the fan-out instance holds them all in flight (garbage collection).',
  peakRssMiB3000: 'one process per instance: each idle instance holds 80–105 MB (Node.js, the SDK, its heap), the peer has one process.',
};

export function peerSection(p: PeerResult): string {
  const w = p.summary.wsgate;
  const o = p.summary.offline;
  const measured = ROWS.filter(([key]) => w[key] && o[key]);
  const missed = measured.filter(([key, , , , target]) => !(p.advantage[key] >= target));
  const rows = measured.map(([key, label, digits, unit, target]) => [
    label,
    spread(w[key], digits, unit),
    spread(o[key], digits, unit),
    times(p.advantage[key]),
    target === 1 ? '≥ 1.00×' : `≥ ${times(target)} (≤ 1.5× the peer)`,
    verdict(p.advantage[key] >= target),
  ]);
  const processes = w.peakProcesses3000 ? `${num(w.peakProcesses3000.median)} processes for wsgate, ${num(o.peakProcesses3000.median)} for serverless-offline` : '';
  const delivered = (['wsgate', 'offline'] as const)
    .map((name) => {
      const runs = p.runs[name];
      const short = runs.flatMap((r) => p.fanoutSizes.filter((n) => (r.fanoutDelivered[n] ?? 0) < n).map((n) => `${r.fanoutDelivered[n]}/${n}`));
      const dup = runs.reduce((a, r) => a + r.fanoutDuplicates, 0);
      const failed = runs.reduce((a, r) => a + r.connectFailures, 0);
      return `${name === 'wsgate' ? 'wsgate' : 'serverless-offline'}: ${short.length === 0 ? 'every fan-out reached every client' : `short fan-outs ${short.join(', ')}`}, ${dup} duplicates, ${failed} failed connects`;
    })
    .join('; ');
  return [
    `Method: ${p.method}. Versions: ${Object.entries(p.versions).map(([k, v]) => `${k} ${v}`).join(', ')}. ${p.rounds} runs per target${p.warmupRounds ? ` after ${p.warmupRounds} warm-up` : ''}; medians (min–max).`,
    '',
    table(['metric', 'wsgate local', 'serverless-offline', 'wsgate advantage', 'target', 'result'], rows),
    '',
    '"wsgate advantage" is wsgate ÷ peer for rates and peer ÷ wsgate for times and memory: above 1.00× wsgate is ahead.',
    processes ? `Peak RSS counts every process of the server's tree (VmRSS summed, sampled every 100 ms): ${processes}.` : '',
    `Delivery: ${delivered}.`,
    ...missed.filter(([key]) => WHY_MISSED[key]).map(([key, label]) => `- Missed, ${label}: ${WHY_MISSED[key]}`),
    missed.length > 0
      ? 'What was measured behind each missed row, and what was tried: [emulator-performance.md](emulator-performance.md#the-misses-explained).'
      : '',
    ...p.notes.map((n) => `- ${n}`),
  ].join('\n');
}
