// StrykerJS config for `npm run mutate` (not part of CI). One module per run, chosen by WSGATE_MUTATE_MODULE
// (see stryker/modules.mjs); stryker/run.mjs runs them all in turn and writes reports/mutation/.
import { MODULES } from './modules.mjs';

const name = process.env.WSGATE_MUTATE_MODULE ?? 'messenger';
const module = MODULES[name];
if (!module) throw new Error(`WSGATE_MUTATE_MODULE: unknown module "${name}" (one of ${Object.keys(MODULES).join(', ')})`);

// Property tests run at most this many cases per mutant (the test files read it; CI never sets it and runs their
// full counts). The test runner processes inherit this process's environment.
process.env.WSGATE_PROPERTY_RUNS ??= '100';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  testRunnerNodeArgs: ['--max-old-space-size=2048'],
  jest: {
    projectType: 'custom',
    configFile: 'jest.config.js',
    // Only this module's tests: testMatch replaces the project's `**/*.test.ts`.
    // WSGATE_MUTATE_TESTS (comma-separated) re-checks against some of them only: a mutant a subset kills, all kill.
    config: { testMatch: (process.env.WSGATE_MUTATE_TESTS ? process.env.WSGATE_MUTATE_TESTS.split(',') : module.tests).map((t) => `<rootDir>/${t}`) },
    enableFindRelatedTests: false,
  },
  // WSGATE_MUTATE_ONLY (comma-separated, e.g. `local/iam/sigv4.ts:101-101`) re-checks some lines after new tests;
  // give it WSGATE_MUTATE_REPORT too so the module's full report stays.
  mutate: process.env.WSGATE_MUTATE_ONLY ? process.env.WSGATE_MUTATE_ONLY.split(',') : module.mutate,
  coverageAnalysis: 'perTest',
  // Static mutants (module-level constants) would re-run every test for each mutant; they are reported as
  // ignored instead (their count is in the summary).
  ignoreStatic: true,
  // One test process by default: the machine has 2 cores shared with other work (WSGATE_MUTATE_CONCURRENCY=2 for more).
  concurrency: Number(process.env.WSGATE_MUTATE_CONCURRENCY ?? 1),
  timeoutMS: 15000,
  timeoutFactor: 2,
  // The sandbox copies the project: leave out what no unit test reads (the emulator's data dir is ~0.5 GB).
  ignorePatterns: ['.stryker-tmp*', '.wsgate', 'cdk.out*', 'bench/.work', 'web/dist', 'reports', 'coverage', '.jsii', 'tsconfig.tsbuildinfo', 'test/.work'],
  tempDirName: `.stryker-tmp-${name}`,
  cleanTempDir: true,
  reporters: ['json', 'clear-text', 'progress'],
  jsonReporter: { fileName: process.env.WSGATE_MUTATE_REPORT ?? `reports/mutation/${name}.json` },
  thresholds: { high: 90, low: 80, break: null },
  logLevel: 'info',
  fileLogLevel: 'off',
};
