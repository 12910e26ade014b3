/**
 * Synth benchmark: a fresh `node` process synthesizes an app into an empty output folder.
 * Floor: an empty aws-cdk-lib stack; compared: the example chat app (bin/chat.ts), the same topology hand-written
 * with L2 constructs and the same prebuilt bundles (bench/synth/l2-chat-stack.ts: the "without wsgate" baseline of
 * the abstraction-cost ratio) and with NodejsFunction handlers (bench/synth/nodejs-chat-stack.ts). All are
 * precompiled to JS the same way and run with `@aws-cdk/core:validateAgainstDefaultRules: true`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { compileTree } from '../lib/compile';
import { interleaved } from '../lib/interleave';
import { progress } from '../lib/log';
import { BENCH, ROOT, WORK } from '../lib/paths';
import { ratio, summarize, Summary } from '../lib/stats';
import { timeProcess } from '../lib/timing';

export const SYNTH_TARGET_RATIO = 1.25;
/** The example app over the hand-written L2 baseline: what the abstraction itself costs. */
export const SYNTH_L2_TARGET_RATIO = 1.1;
/**
 * The slow-synth threshold at 0 makes aws-cdk-lib write its phase timers (CDK_PERF_COUNTERS_FILE) on every synth,
 * not only on synths slower than 10 s per stack; it is set for every app alike.
 */
const CONTEXT = { '@aws-cdk/core:validateAgainstDefaultRules': true, '@aws-cdk/core.slowSynthThreshold': 0 };

export interface SynthResult {
  readonly method: string;
  readonly context: Record<string, unknown>;
  readonly rounds: number;
  readonly warmupRounds: number;
  readonly samplesMs: Record<string, number[]>;
  readonly summaryMs: Record<string, Summary>;
  /** Median over the empty-stack median. */
  readonly ratioToFloor: Record<string, number>;
  readonly targetRatio: number;
  readonly chatMeetsTarget: boolean;
  /** Example app median over the hand-written L2 baseline's median (absent in results from before the baseline). */
  readonly ratioToL2Baseline?: number;
  readonly l2TargetRatio?: number;
  readonly chatMeetsL2Target?: boolean;
  /** Resources in each synthesized template, and whether a validation report was written. */
  readonly templates: Record<string, { resources: number; validationReport: boolean }>;
  /** aws-cdk-lib's own phase timers per run (CDK_PERF_COUNTERS_FILE, as the CDK CLI sets it), ms. */
  readonly phaseSamplesMs: Record<string, Array<Record<string, number>>>;
  /** Median of each phase timer per app. */
  readonly phaseMedianMs: Record<string, Record<string, number>>;
}

const PHASES = ['phase:Load', 'phase:Construction', 'phase:Synthesis', 'validateTemplates', 'CloudFormationValidate.validate'];

function readPhases(file: string): Record<string, number> {
  if (!fs.existsSync(file)) return {};
  const counters = (JSON.parse(fs.readFileSync(file, 'utf8')) as { counters?: Record<string, number> }).counters ?? {};
  return Object.fromEntries(PHASES.filter((p) => typeof counters[p] === 'number').map((p) => [p, counters[p]]));
}

function inspectOutput(outdir: string): { resources: number; validationReport: boolean } {
  const templates = fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json'));
  if (templates.length === 0) throw new Error(`synth wrote no template to ${outdir}`);
  const resources = templates
    .map((t) => Object.keys(JSON.parse(fs.readFileSync(path.join(outdir, t), 'utf8')).Resources ?? {}).length)
    .reduce((a, b) => a + b, 0);
  return { resources, validationReport: fs.existsSync(path.join(outdir, 'validation-report.json')) };
}

export async function runSynth(): Promise<SynthResult> {
  progress('synth: compiling lib/, bin/ and bench/synth/ to JS');
  const jsOf = await compileTree(['contract', 'lib', 'bin', 'bench/synth']);
  const apps: Record<string, string> = {
    emptyStack: jsOf(path.join(BENCH, 'synth', 'empty-app.ts')),
    chatApp: jsOf(path.join(ROOT, 'bin', 'chat.ts')),
    l2ChatApp: jsOf(path.join(BENCH, 'synth', 'l2-chat-app.ts')),
    nodejsFunctionChatApp: jsOf(path.join(BENCH, 'synth', 'nodejs-chat-app.ts')),
  };
  const outRoot = path.join(WORK, 'synth-out');
  fs.rmSync(outRoot, { recursive: true, force: true });
  const templates: SynthResult['templates'] = {};
  const phaseSamplesMs: SynthResult['phaseSamplesMs'] = {};
  let seq = 0;
  let measuring = false;
  const variants = Object.entries(apps).map(([name, file]) => ({
    name,
    run: async () => {
      const outdir = path.join(outRoot, `${name}-${seq++}`);
      const countersFile = path.join(outRoot, `${name}-${seq}-counters.json`);
      const env: NodeJS.ProcessEnv = { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(CONTEXT), CDK_PERF_COUNTERS_FILE: countersFile };
      delete env.NODE_OPTIONS;
      const { ms } = await timeProcess(process.execPath, [file], { cwd: ROOT, env });
      templates[name] = inspectOutput(outdir);
      if (measuring) (phaseSamplesMs[name] ??= []).push(readPhases(countersFile));
      fs.rmSync(outdir, { recursive: true, force: true });
      return ms;
    },
  }));
  const rounds = 5;
  const warmupRounds = 1;
  const samplesMs = await interleaved(variants, rounds, warmupRounds, (name, round, ms) => {
    progress(`synth: ${name} ${round < 0 ? 'warm-up' : `run ${round + 1}/${rounds}`}: ${ms.toFixed(0)} ms`);
    // The warm-up round ends with the last app's warm-up run.
    if (round === -1 && name === variants[variants.length - 1].name) measuring = true;
  });
  const phaseMedianMs = Object.fromEntries(
    Object.entries(phaseSamplesMs).map(([app, runs]) => [
      app,
      Object.fromEntries(PHASES.filter((p) => runs.every((r) => p in r)).map((p) => [p, summarize(runs.map((r) => r[p])).median])),
    ]),
  );
  const summaryMs = Object.fromEntries(Object.entries(samplesMs).map(([k, v]) => [k, summarize(v)]));
  const floor = summaryMs.emptyStack.median;
  const ratioToFloor = Object.fromEntries(Object.entries(summaryMs).map(([k, s]) => [k, ratio(s.median, floor)]));
  return {
    method:
      'fresh `node <app>.js` per run (wall time from spawn to exit), sources precompiled to CommonJS with an esbuild transform ' +
      '(no bundling; aws-cdk-lib loaded from node_modules), CDK_OUTDIR a new empty folder, context via CDK_CONTEXT_JSON, ' +
      'CDK_PERF_COUNTERS_FILE set (as the CDK CLI does) to read aws-cdk-lib\'s phase timers',
    context: CONTEXT,
    rounds,
    warmupRounds,
    samplesMs,
    summaryMs,
    ratioToFloor,
    targetRatio: SYNTH_TARGET_RATIO,
    chatMeetsTarget: ratioToFloor.chatApp <= SYNTH_TARGET_RATIO,
    ratioToL2Baseline: ratio(summaryMs.chatApp.median, summaryMs.l2ChatApp.median),
    l2TargetRatio: SYNTH_L2_TARGET_RATIO,
    chatMeetsL2Target: ratio(summaryMs.chatApp.median, summaryMs.l2ChatApp.median) <= SYNTH_L2_TARGET_RATIO,
    templates,
    phaseSamplesMs,
    phaseMedianMs,
  };
}
