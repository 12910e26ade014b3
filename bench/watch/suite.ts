/**
 * `--only watch`: the edit loop of `wsgate local --watch` in synth mode. A copy of the small fixture app
 * (test/local/fixtures/watch: `node app.js`, one Node.js function from src/) is served by the real emulator and
 * watched by the real watcher (local/watch); each run edits the handler's SOURCE file and times
 * edit → next message on the same open connection answered by the new code. It includes the watcher's settle time,
 * the synth, the reload and the new instance's cold start.
 *
 * Compared with the app's synth time: its command run alone (what the watcher runs), and `cdk synth -q` (what a
 * user would otherwise run by hand before restarting), medians of the same number of runs, alternating.
 * Target (issue 12): edit-to-next-invocation under 2× the synth time.
 */
import * as fs from 'fs';
import * as path from 'path';
import { startEmulator } from '../../local/emulator';
import { runSynth, watchAndSynth, watchPlan } from '../../local/watch/watch';
import { progress } from '../lib/log';
import { ROOT, WORK } from '../lib/paths';
import { ratio, summarize, Summary } from '../lib/stats';
import { timeProcess } from '../lib/timing';

export interface WatchResult {
  readonly runs: number;
  /** Edit of src/handler.js → the reply of the new code on the same connection. */
  readonly editToNextInvocationMs: Summary;
  readonly editToNextInvocationSamples: readonly number[];
  /** The synth step inside each watch round (as the watcher measured it). */
  readonly synthInRoundMs: Summary;
  readonly synthInRoundSamples?: readonly number[];
  /** Per round: edit-to-answer minus its synth (settle time, reload, cold start, the message round trip). */
  readonly beyondSynthMs?: Summary;
  /** The app's command alone (`node app.js` with CDK_OUTDIR), outside the watcher. */
  readonly appSynthMs: Summary;
  readonly appSynthSamples: readonly number[];
  /** `npx cdk synth -q` in the app's folder. */
  readonly cdkSynthMs?: Summary;
  readonly cdkSynthSamples?: readonly number[];
  /** editToNextInvocation ÷ appSynth (medians). */
  readonly ratioToAppSynth: number;
  /** editToNextInvocation ÷ cdk synth (medians). */
  readonly ratioToCdkSynth?: number;
  readonly targetRatio: number;
  readonly meetsTarget: boolean;
  /** The watcher's settle time (quiet time after the last change). */
  readonly settleMs: number;
}

const TARGET_RATIO = 2;
const SETTLE_MS = 150;

export async function runWatch(quick: boolean): Promise<WatchResult> {
  const runs = quick ? 3 : 5;
  const dir = path.join(WORK, 'watch-app');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true });
  fs.cpSync(path.join(ROOT, 'test/local/fixtures/watch'), dir, { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const plan = watchPlan(dir);
  const first = await runSynth(plan, 'cdk.out');
  if (!first.ok) throw new Error(`the fixture app's synth failed: ${first.output}`);

  // The reference: the app's synth alone, and `cdk synth -q`, alternating.
  const appSynth: number[] = [];
  const cdkSynth: number[] = [];
  const cdk = path.join(ROOT, 'node_modules/.bin/cdk');
  for (let i = 0; i < runs; i++) {
    const s = await runSynth(plan, 'cdk.out.reference');
    if (!s.ok) throw new Error(`synth failed: ${s.output}`);
    appSynth.push(s.ms);
    if (fs.existsSync(cdk)) {
      try {
        const run = await timeProcess(cdk, ['synth', '-q', '--no-notices', '--no-version-reporting', '-o', 'cdk.out.reference'], { cwd: dir });
        cdkSynth.push(Math.round(run.ms));
      } catch (err) {
        progress(`watch: cdk synth failed (${(err as Error).message.slice(0, 300)}); not compared`);
      }
    }
    progress(`watch: synth reference ${i + 1}/${runs}: app ${appSynth[i]} ms${cdkSynth[i] !== undefined ? `, cdk synth ${cdkSynth[i]} ms` : ''}`);
  }

  const emulator = await startEmulator({ assemblyDir: path.join(dir, 'cdk.out'), port: 0, functionLog: () => undefined, log: () => undefined });
  const rounds: Array<{ synthMs: number; ok: boolean }> = [];
  let roundDone: (() => void) | undefined;
  const stop = watchAndSynth({
    emulator,
    plan,
    assemblyDir: 'cdk.out',
    settleMs: SETTLE_MS,
    print: () => undefined,
    onRound: (r) => {
      rounds.push({ synthMs: r.synth.ms, ok: r.synth.ok && !!r.reload && r.reload.swapped.length > 0 });
      roundDone?.();
    },
  });
  const { WebSocket } = await import('ws');
  const socket = new WebSocket(emulator.endpoints[0].websocketUrl);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const replies: string[] = [];
  let onReply: (() => void) | undefined;
  socket.on('message', (data) => {
    replies.push(data.toString());
    onReply?.();
  });
  const ask = async (): Promise<string> => {
    const before = replies.length;
    const answered = new Promise<void>((resolve) => (onReply = () => replies.length > before && resolve()));
    socket.send(JSON.stringify({ action: 'echo' }));
    await answered;
    return replies[replies.length - 1];
  };
  const samples: number[] = [];
  const beyond: number[] = [];
  try {
    const handler = path.join(dir, 'src', 'handler.js');
    let version = 'v1';
    if (!(await ask()).includes(version)) throw new Error('the fixture does not answer v1');
    for (let i = 0; i < runs; i++) {
      const next = `w${i + 2}`;
      const waitRound = new Promise<void>((resolve) => (roundDone = resolve));
      const t0 = Date.now();
      fs.writeFileSync(handler, fs.readFileSync(handler, 'utf8').replace(`version: '${version}'`, `version: '${next}'`));
      await waitRound;
      if (!rounds[rounds.length - 1].ok) throw new Error(`watch round ${i + 1} did not swap the function`);
      const reply = await ask();
      const ms = Date.now() - t0;
      if (!reply.includes(`"version":"${next}"`)) throw new Error(`round ${i + 1}: the reply ${reply} is not the new code (${next})`);
      version = next;
      samples.push(ms);
      beyond.push(ms - rounds[rounds.length - 1].synthMs);
      progress(`watch: round ${i + 1}/${runs}: edit → new code answered in ${ms} ms (synth ${rounds[rounds.length - 1].synthMs} ms)`);
    }
  } finally {
    stop();
    socket.close();
    await emulator.close();
  }
  const edit = summarize(samples);
  const app = summarize(appSynth);
  const cdkSummary = cdkSynth.length === runs ? summarize(cdkSynth) : undefined;
  const ratioToAppSynth = ratio(edit.median, app.median);
  return {
    runs,
    editToNextInvocationMs: edit,
    editToNextInvocationSamples: samples,
    synthInRoundMs: summarize(rounds.map((r) => r.synthMs)),
    synthInRoundSamples: rounds.map((r) => r.synthMs),
    beyondSynthMs: summarize(beyond),
    appSynthMs: app,
    appSynthSamples: appSynth,
    ...(cdkSummary ? { cdkSynthMs: cdkSummary, cdkSynthSamples: cdkSynth, ratioToCdkSynth: ratio(edit.median, cdkSummary.median) } : {}),
    ratioToAppSynth,
    targetRatio: TARGET_RATIO,
    meetsTarget: ratioToAppSynth < TARGET_RATIO,
    settleMs: SETTLE_MS,
  };
}
