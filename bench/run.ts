/**
 * `npm run bench [-- --quick] [-- --only synth,handlers,cost,fanout,echo,peer] [-- --report-only]`
 * Runs the suites one after another, writes bench/results.json (machine, every raw sample, summaries) and
 * renders docs/benchmarks.md from it. With --only, the other sections of an existing results.json are kept
 * (each section records when it was measured).
 */
import * as fs from 'fs';
import * as os from 'os';
import { parseArgs, SuiteName } from './lib/args';
import { progress } from './lib/log';
import { machineInfo } from './lib/machine';
import { REPORT_FILE, RESULTS_FILE } from './lib/paths';
import { BenchResults, SectionMeta } from './lib/results';
import { renderReport } from './report/render';
import { runSynth } from './synth/suite';
import { runHandlers } from './handlers/suite';
import { runCost } from './cost/suite';
import { runFanout } from './fanout/suite';
import { runEcho } from './echo/suite';
import { runPeer } from './peer/suite';
import { runWatch } from './watch/suite';
import { runSharded } from './fanout/sharded-suite';
import { synthBenchApp } from './apps/synth-bench-app';
import { EmulatorSession, startEmulatorSession } from './fanout/emulator-session';

function previous(): Partial<BenchResults> {
  try {
    return JSON.parse(fs.readFileSync(RESULTS_FILE, 'utf8')) as Partial<BenchResults>;
  } catch {
    return {};
  }
}

function write(results: BenchResults): void {
  fs.writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 1)}\n`);
  fs.writeFileSync(REPORT_FILE, renderReport(results));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.reportOnly) {
    write(previous() as BenchResults);
    progress(`rendered ${REPORT_FILE} from ${RESULTS_FILE}`);
    return;
  }
  const started = Date.now();
  const results: BenchResults = {
    ...previous(),
    schema: 1,
    machine: machineInfo(),
    lastRun: { startedAt: new Date(started).toISOString(), quick: args.quick, suites: args.only },
  };
  const section = async <K extends SuiteName>(name: K, run: () => Promise<object>): Promise<void> => {
    const t0 = Date.now();
    const meta = (): SectionMeta => ({
      measuredAt: new Date(t0).toISOString(),
      quick: args.quick,
      loadAverageAtStart: Math.round(os.loadavg()[0] * 100) / 100,
      wallSeconds: Math.round((Date.now() - t0) / 100) / 10,
    });
    const load = os.loadavg()[0];
    progress(`${name}: starting (load average ${load.toFixed(2)} on ${os.cpus().length} cores)`);
    try {
      const value = await run();
      (results as unknown as Record<string, unknown>)[name] = { ...value, meta: { ...meta(), loadAverageAtStart: load } };
    } catch (err) {
      progress(`${name}: FAILED: ${(err as Error).stack ?? err}`);
      (results as unknown as Record<string, unknown>)[name] = { skipped: `failed: ${(err as Error).message}`, meta: { ...meta(), loadAverageAtStart: load } };
      process.exitCode = 1;
    }
    write(results);
  };

  if (args.only.includes('synth')) await section('synth', () => runSynth());
  if (args.only.includes('handlers')) await section('handlers', () => runHandlers(args.quick));
  if (args.only.includes('cost')) await section('cost', () => runCost());
  if (args.only.includes('watch')) await section('watch', () => runWatch(args.quick));
  if (args.only.includes('echo') || args.only.includes('fanout')) {
    let session: EmulatorSession | undefined;
    try {
      const assembly = await synthBenchApp();
      session = await startEmulatorSession(assembly);
      const s = session;
      // Echo first: the fan-out leaves thousands of connections open.
      if (args.only.includes('echo')) await section('echo', () => runEcho(s, args.quick));
      if (args.only.includes('fanout')) await section('fanout', () => runFanout(s, args.quick));
    } catch (err) {
      progress(`emulator session failed: ${(err as Error).stack ?? err}`);
      for (const name of ['echo', 'fanout'] as const) {
        if (args.only.includes(name) && !(results as unknown as Record<string, unknown>)[name]) {
          (results as unknown as Record<string, unknown>)[name] = { skipped: `emulator session failed: ${(err as Error).message}`, meta: { measuredAt: new Date().toISOString(), quick: args.quick, loadAverageAtStart: os.loadavg()[0], wallSeconds: 0 } };
        }
      }
      write(results);
      process.exitCode = 1;
    } finally {
      await session?.close();
    }
  }
  // Its own emulator sessions and clients, after the fan-out session has closed its thousands of connections.
  if (args.only.includes('sharded')) await section('sharded', () => runSharded(args.quick));
  if (args.only.includes('peer')) await section('peer', () => runPeer(args.quick));
  results.lastRun!.wallSeconds = Math.round((Date.now() - started) / 1000);
  write(results);
  progress(`done in ${results.lastRun!.wallSeconds} s: ${RESULTS_FILE} and ${REPORT_FILE}`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
});
