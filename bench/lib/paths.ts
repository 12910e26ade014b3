/** Folders the benchmarks use. `bench/.work/` is scratch space (git-ignored). */
import * as path from 'path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const BENCH = path.join(ROOT, 'bench');
export const WORK = path.join(BENCH, '.work');
export const RESULTS_FILE = path.join(BENCH, 'results.json');
export const REPORT_FILE = path.join(ROOT, 'docs', 'benchmarks.md');
export const HANDLER_ASSETS = path.join(ROOT, 'assets', 'handlers');
