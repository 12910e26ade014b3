/** docs/benchmarks.md: the `wsgate local --watch` edit loop (bench/watch). */
import type { WatchResult } from '../watch/suite';
import { num, spread, table, times, verdict } from './format';

export function watchSection(r: WatchResult): string {
  const rows: string[][] = [
    ['edit `src/handler.js` → the next message on the same connection answered by the new code', spread(r.editToNextInvocationMs, 0, ' ms'), r.editToNextInvocationSamples.map((s) => num(s)).join(', ')],
    ['  of which: the synth the watcher ran', spread(r.synthInRoundMs, 0, ' ms'), (r.synthInRoundSamples ?? []).map((s) => num(s)).join(', ')],
    ...(r.beyondSynthMs ? [['  the rest (settle, reload, cold start, round trip), per round', spread(r.beyondSynthMs, 0, ' ms'), '']] : []),
    ['the app\'s synth alone (`node app.js`, CDK_OUTDIR)', spread(r.appSynthMs, 0, ' ms'), r.appSynthSamples.map((s) => num(s)).join(', ')],
  ];
  if (r.cdkSynthMs && r.cdkSynthSamples) rows.push(['`cdk synth -q` (what one runs by hand without --watch)', spread(r.cdkSynthMs, 0, ' ms'), r.cdkSynthSamples.map((s) => num(s)).join(', ')]);
  return [
    'The fixture app test/local/fixtures/watch (a plain JavaScript CDK app, one Node.js function on a WebSocket route) served by',
    '`wsgate local --watch` in synth mode (local/watch, the same code as the CLI), edited run after run. One edit-to-answer time',
    `covers the watcher's ${num(r.settleMs)} ms settle time, the synth, the reload and the new instance's cold start. ${num(r.runs)} runs each.`,
    'The synth dominates, and it is the part that moves most with the load of the shared machine (the load average above);',
    'the ratio compares medians measured in the same run.',
    '',
    table(['what', 'median (min–max)', 'samples'], rows),
    '',
    table(['target', 'measured (median)', 'result'], [
      [`edit-to-next-invocation ÷ the app's synth ≤ ${times(r.targetRatio)}`, times(r.ratioToAppSynth), verdict(r.meetsTarget)],
      ...(r.ratioToCdkSynth !== undefined ? [['edit-to-next-invocation ÷ `cdk synth -q` (for reference)', times(r.ratioToCdkSynth), '']] : []),
    ]),
  ].join('\n');
}
