/** docs/benchmarks.md sections 1 (synth) and 2 (handlers). */
import type { HandlersResult } from '../handlers/suite';
import type { SynthResult } from '../synth/suite';
import { kib, num, spread, table, times, verdict } from './format';

const SYNTH_LABELS: Record<string, string> = {
  emptyStack: 'empty stack (floor)',
  chatApp: 'example chat app (`bin/chat.ts`)',
  l2ChatApp: 'same topology hand-written with L2 constructs, prebuilt bundles (baseline, bench only)',
  nodejsFunctionChatApp: 'same topology with `NodejsFunction` (bench only)',
};

export function synthSection(r: SynthResult): string {
  const rows = Object.keys(r.summaryMs).map((k) => [
    SYNTH_LABELS[k] ?? k,
    spread(r.summaryMs[k], 0, ' ms'),
    times(r.ratioToFloor[k]),
    r.templates[k]?.resources ?? 'n/a',
    r.templates[k]?.validationReport ? 'yes' : 'no',
  ]);
  const chat = r.summaryMs.chatApp.median - r.summaryMs.emptyStack.median;
  const njs = r.summaryMs.nodejsFunctionChatApp
    ? r.summaryMs.nodejsFunctionChatApp.median - r.summaryMs.chatApp.median
    : Number.NaN;
  const phases = ['phase:Load', 'phase:Construction', 'phase:Synthesis', 'validateTemplates', 'CloudFormationValidate.validate'];
  const phaseRows = Object.keys(r.summaryMs).map((k) => [SYNTH_LABELS[k] ?? k, ...phases.map((p) => num(r.phaseMedianMs?.[k]?.[p] ?? Number.NaN))]);
  return [
    `Target: the example app at most ${times(r.targetRatio)} the empty stack. Result: ${times(r.ratioToFloor.chatApp)}, ${verdict(r.chatMeetsTarget)}.`,
    ...(r.ratioToL2Baseline !== undefined && r.l2TargetRatio !== undefined
      ? [
        '',
        `Target: the example app at most ${times(r.l2TargetRatio)} the same topology hand-written with aws-cdk-lib L2 constructs and the same ` +
          `prebuilt bundles (what a team would write without wsgate; bench/synth/l2-chat-stack.ts). Result: ${times(r.ratioToL2Baseline)}, ` +
          `${verdict(r.chatMeetsL2Target === true)}.`,
      ]
      : []),
    '',
    table(['app', `median ms (min–max), ${r.rounds} runs`, '× floor', 'resources', 'validation report'], rows),
    '',
    `Method: ${r.method}; context ${JSON.stringify(r.context)}; ${r.warmupRounds} warm-up round discarded; apps alternate run by run.`,
    '',
    "aws-cdk-lib's own phase timers, medians in ms (`validateTemplates` is part of `phase:Synthesis`):",
    '',
    table(['app', ...phases.map((p) => `\`${p}\``)], phaseRows),
    '',
    `The example app's median is ${num(chat)} ms above the floor; the NodejsFunction version adds ${num(njs)} ms more ` +
      '(esbuild runs once per function at every synth; the example app only copies prebuilt bundles).',
  ].join('\n');
}

export function handlersSection(r: HandlersResult): string {
  const sizes = Object.entries(r.bundleSizes).map(([name, s]) => [name, kib(s.bytes), kib(s.gzipBytes), verdict(s.meetsTarget)]);
  const cold = Object.entries(r.coldStart).map(([name, c]) => [
    name,
    spread(c.bundled, 0, ' ms'),
    spread(c.unbundled, 0, ' ms'),
    `${times(c.ratioToUnbundled)} ${verdict(c.meetsUnbundledTarget)}`,
    `${times(c.ratioToFloor)} ${verdict(c.meetsFloorTarget)}`,
    `${num(c.bundledInsideMs.load)} / ${num(c.bundledInsideMs.invoke)}`,
    `${num(c.unbundledInsideMs.load)} / ${num(c.unbundledInsideMs.invoke)}`,
  ]);
  return [
    `### Bundle sizes (target ≤ ${kib(r.bundleTargetBytes)} each)`,
    '',
    table(['handler', 'index.js', 'gzip -9', 'target'], sizes),
    '',
    '### Cold start',
    '',
    `Floor \`node -e 0\`: ${spread(r.floor, 0, ' ms')}. Targets: bundled ≤ ${times(r.targets.vsUnbundled)} unbundled, ≤ ${times(r.targets.vsFloor)} the floor.`,
    '',
    table(
      ['handler', `bundled ms (min–max), ${r.rounds} runs`, 'unbundled ms', 'bundled ÷ unbundled', 'bundled ÷ floor', 'inside, bundled: load / 1st invoke ms', 'inside, unbundled'],
      cold,
    ),
    '',
    `Method: ${r.method}. Unbundled baseline: ${r.unbundledMethod}. ${r.warmupRounds} warm-up round discarded; variants alternate run by run.`,
    '"Inside" columns are medians measured inside the child: `require()` of the module, then the first invocation ' +
      '(the SDK clients resolve their configuration and open their first connection there).',
  ].join('\n');
}
