/**
 * Builds the benchmark-only assets (the naive handler, bundled like scripts/build-handlers.mjs does) and
 * synthesizes bench/apps/bench-app.ts into bench/.work/cdk.out-bench, for the emulator benchmarks.
 */
import * as fs from 'fs';
import * as path from 'path';
import { build, type BuildOptions } from 'esbuild';
import handlerBundleOptions from '../../scripts/handler-bundle-options.json';
import { compileTree } from '../lib/compile';
import { progress } from '../lib/log';
import { BENCH, ROOT, WORK } from '../lib/paths';
import { timeProcess } from '../lib/timing';

export const BENCH_ASSEMBLY = path.join(WORK, 'cdk.out-bench');

export async function synthBenchApp(): Promise<string> {
  const naiveDir = path.join(WORK, 'naive-asset');
  await build({
    entryPoints: [path.join(BENCH, 'fanout', 'naive-handler.ts')],
    outfile: path.join(naiveDir, 'index.js'),
    ...(handlerBundleOptions as BuildOptions),
    logLevel: 'error',
  });
  const jsOf = await compileTree(['contract', 'lib', 'bin', 'bench/apps']);
  fs.rmSync(BENCH_ASSEMBLY, { recursive: true, force: true });
  progress('synthesizing the benchmark app (example chat + naivesend + echo routes)');
  const env = {
    ...process.env,
    CDK_OUTDIR: BENCH_ASSEMBLY,
    CDK_CONTEXT_JSON: JSON.stringify({ '@aws-cdk/core:validateAgainstDefaultRules': true }),
    BENCH_NAIVE_ASSET: naiveDir,
    BENCH_ECHO_ASSET: path.join(BENCH, 'echo', 'handler'),
  };
  await timeProcess(process.execPath, [jsOf(path.join(BENCH, 'apps', 'bench-app.ts'))], { cwd: ROOT, env });
  return BENCH_ASSEMBLY;
}

export const SHARDED_BENCH_ASSEMBLY = path.join(WORK, 'cdk.out-bench-sharded');

/** Synthesizes bench/apps/sharded-bench-app.ts (sharded delivery + a single-invocation `directsend` route). */
export async function synthShardedBenchApp(): Promise<string> {
  const jsOf = await compileTree(['contract', 'lib', 'bench/apps']);
  fs.rmSync(SHARDED_BENCH_ASSEMBLY, { recursive: true, force: true });
  progress('synthesizing the sharded benchmark app (sharded sendmessage + single-invocation directsend)');
  const env = {
    ...process.env,
    CDK_OUTDIR: SHARDED_BENCH_ASSEMBLY,
    CDK_CONTEXT_JSON: JSON.stringify({ '@aws-cdk/core:validateAgainstDefaultRules': true }),
    BENCH_HANDLER_ASSETS: path.join(ROOT, 'assets', 'handlers'),
  };
  await timeProcess(process.execPath, [jsOf(path.join(BENCH, 'apps', 'sharded-bench-app.ts'))], { cwd: ROOT, env });
  return SHARDED_BENCH_ASSEMBLY;
}
