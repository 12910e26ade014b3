/** Command line of `npm run bench`: `--quick` (fewer runs, N = 1,000 only) and `--only <suite,...>`. */

export const SUITES = ['synth', 'handlers', 'cost', 'fanout', 'echo', 'watch', 'sharded', 'peer'] as const;
/** Run without --only: every suite but `peer` (it installs serverless-offline and takes 10+ minutes; ask for it). */
const DEFAULT_SUITES = SUITES.filter((s) => s !== 'peer');
export type SuiteName = (typeof SUITES)[number];

export interface BenchArgs {
  readonly quick: boolean;
  readonly only: readonly SuiteName[];
  /** Re-render docs/benchmarks.md from bench/results.json without running anything. */
  readonly reportOnly: boolean;
}

export function parseArgs(argv: readonly string[]): BenchArgs {
  let quick = false;
  let reportOnly = false;
  let only: SuiteName[] = [...DEFAULT_SUITES];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') quick = true;
    else if (arg === '--report-only') reportOnly = true;
    else if (arg === '--only') {
      const names = (argv[++i] ?? '').split(',').filter(Boolean);
      const unknown = names.filter((n) => !(SUITES as readonly string[]).includes(n));
      if (names.length === 0 || unknown.length > 0) {
        throw new Error(`--only takes a comma-separated list of: ${SUITES.join(', ')}; got ${JSON.stringify(argv[i] ?? '')}`);
      }
      only = names as SuiteName[];
    } else if (arg === '--help' || arg === '-h') {
      throw new Error('usage: npm run bench -- [--quick] [--only synth,handlers,cost,fanout,echo,watch,sharded] [--report-only]');
    } else {
      throw new Error(`unknown argument ${JSON.stringify(arg)}; try --help`);
    }
  }
  return { quick, only, reportOnly };
}
