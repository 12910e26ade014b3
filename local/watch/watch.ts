/**
 * `wsgate local --watch`: keeps the running emulator on the app's newest code without dropping connections.
 *
 * Two modes, chosen by `watchPlan`:
 * - **synth** (a `cdk.json` in the current folder, or `--app CMD`): a change under the app's folder (cdk.json's
 *   `watch.include` / `watch.exclude` globs when it has them, as `cdk watch` reads them; else every file but
 *   node_modules, dot folders and the assembly) runs the app's command once the burst of changes settles, with
 *   `CDK_OUTDIR` set to the assembly folder and cdk.json's context in `CDK_CONTEXT_JSON` (as the CDK CLI runs it),
 *   then reloads the emulator. A failed synth prints its error and the emulator keeps the last good version.
 * - **assembly** (otherwise): something else synthesizes; a new assembly in the folder is reloaded.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { ReloadResult, RunningEmulator } from '../emulator';

export type WatchPrinter = (line: string) => void;

/** What `--watch` does, from the flags and the current folder. */
export interface WatchPlan {
  readonly mode: 'synth' | 'assembly';
  /** The app's folder (cdk.json's), watched in synth mode. */
  readonly projectDir: string;
  /** The command that synthesizes the app (`--app`, else cdk.json's `app`). @default - none in assembly mode */
  readonly command?: string;
  /** Globs of files whose change triggers a synth, relative to projectDir. */
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  /** Context the CDK CLI would pass (cdk.json `context`, then cdk.context.json). */
  readonly context: Record<string, unknown>;
}

/** Never trigger a synth: dependencies, the default assembly folders, and the context file the CDK CLI rewrites. */
const ALWAYS_EXCLUDED = ['node_modules', '.git', 'cdk.out', 'cdk.out.*', 'cdk.context.json'];

/**
 * synth mode when `app` is given or `cwd/cdk.json` names an `app` command; assembly mode otherwise.
 * Throws (with the file named) when cdk.json is not valid JSON.
 */
export function watchPlan(cwd: string, app?: string): WatchPlan {
  const cdkJson = path.join(cwd, 'cdk.json');
  let config: { app?: unknown; watch?: { include?: unknown; exclude?: unknown }; context?: Record<string, unknown> } = {};
  if (fs.existsSync(cdkJson)) {
    try {
      config = JSON.parse(fs.readFileSync(cdkJson, 'utf8'));
    } catch (err) {
      throw new Error(`${cdkJson} is not valid JSON (${(err as Error).message})`);
    }
  }
  const command = app ?? (typeof config.app === 'string' ? config.app : undefined);
  const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : []);
  let contextFile: Record<string, unknown> = {};
  try {
    contextFile = JSON.parse(fs.readFileSync(path.join(cwd, 'cdk.context.json'), 'utf8'));
  } catch {
    // No cached context.
  }
  const include = list(config.watch?.include);
  return {
    mode: command ? 'synth' : 'assembly',
    projectDir: cwd,
    ...(command ? { command } : {}),
    include: include.length > 0 ? include : ['**'],
    exclude: list(config.watch?.exclude),
    context: { ...(config.context ?? {}), ...contextFile },
  };
}

/** A glob (`**`, `*`, `?`; a bare name matches at any depth, a folder matches everything under it) as a RegExp. */
export function globToRegExp(glob: string): RegExp {
  let g = glob.replace(/\\/g, '/').replace(/^\.\//, '').replace(/\/$/, '');
  const anchored = g.includes('/') && !g.startsWith('**/');
  if (g.startsWith('**/')) g = g.slice(3);
  let out = '';
  for (let i = 0; i < g.length; i++) {
    const c = g[i];
    if (c === '*' && g[i + 1] === '*') {
      out += '.*';
      i++;
      if (g[i + 1] === '/') i++;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`${anchored ? '^' : '^(?:.*/)?'}${out}(?:/.*)?$`);
}

/** True when `relative` (a path under projectDir, `/`-separated) is watched under the plan's globs. */
export function isWatched(plan: Pick<WatchPlan, 'include' | 'exclude'>, relative: string, assemblyDir?: string): boolean {
  const file = relative.split(path.sep).join('/');
  const excluded = [...ALWAYS_EXCLUDED, ...plan.exclude, ...(assemblyDir ? [assemblyDir] : [])].map(globToRegExp);
  if (file.split('/').some((part) => part.startsWith('.') && part !== '.' && part !== '..')) return false;
  if (excluded.some((re) => re.test(file))) return false;
  return plan.include.map(globToRegExp).some((re) => re.test(file));
}

/**
 * Watches every folder under `root` but the excluded ones (node_modules is never walked), calling `onChange` with
 * the changed path relative to root. New folders are watched as they appear. Returns a function that stops it.
 */
export function watchTree(root: string, skipDir: (relative: string) => boolean, onChange: (relative: string) => void): () => void {
  const watchers = new Map<string, fs.FSWatcher>();
  const add = (dir: string): void => {
    if (watchers.has(dir)) return;
    const relative = path.relative(root, dir);
    if (relative && skipDir(relative)) return;
    let watcher: fs.FSWatcher;
    try {
      watcher = fs.watch(dir, (_event, name) => {
        if (!name) return;
        const full = path.join(dir, name.toString());
        try {
          if (fs.statSync(full).isDirectory()) {
            add(full);
            return;
          }
        } catch {
          // Deleted: still a change.
        }
        onChange(path.relative(root, full));
      });
    } catch {
      return;
    }
    watcher.on('error', () => {
      watcher.close();
      watchers.delete(dir);
    });
    watchers.set(dir, watcher);
    let entries: fs.Dirent[] = [];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) if (entry.isDirectory()) add(path.join(dir, entry.name));
  };
  add(root);
  return () => {
    for (const watcher of watchers.values()) watcher.close();
    watchers.clear();
  };
}

/**
 * Synth mode at start: true when the assembly has no manifest.json, or a watched file of the app is newer than it
 * (the app changed since its last synth), so `wsgate local --watch` synthesizes before serving.
 */
export function assemblyIsStale(plan: WatchPlan, assemblyDir: string): boolean {
  const manifest = path.join(path.resolve(plan.projectDir, assemblyDir), 'manifest.json');
  if (!fs.existsSync(manifest)) return true;
  const synthesizedAt = fs.statSync(manifest).mtimeMs;
  const assemblyRelative = path.relative(plan.projectDir, path.resolve(plan.projectDir, assemblyDir)).split(path.sep).join('/');
  const newer = (dir: string): boolean => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const relative = path.relative(plan.projectDir, full);
      if (entry.isDirectory()) {
        if (isWatchedDir(relative, plan, assemblyRelative) && newer(full)) return true;
      } else if (entry.isFile() && isWatched(plan, relative, assemblyRelative) && fs.statSync(full).mtimeMs > synthesizedAt) {
        return true;
      }
    }
    return false;
  };
  return newer(plan.projectDir);
}

/** Prints a reload's outcome; `took` is how long the change took to apply. */
function printReload(print: WatchPrinter, result: ReloadResult, took: () => number): void {
  if (result.error) print(`[watch] the new assembly cannot be loaded, still serving the last good version: ${result.error}`);
  else if (result.needsRestart.length > 0) print(`[watch] not hot-swappable (${result.needsRestart.join('; ')}): restart wsgate local to apply; still serving the last good version`);
  else if (result.swapped.length > 0) print(`[watch] swapped ${result.swapped.length} function(s) in ${took()} ms: ${result.swapped.join(', ')}`);
  else print('[watch] no function changed');
}

/**
 * Assembly mode: reloads the emulator's assembly once a burst of changes to its folder settles (a synth rewrites
 * many files; manifest.json last), and says what happened. Returns a function that stops watching.
 */
export function watchAssembly(
  emulator: Pick<RunningEmulator, 'reload'>,
  assemblyDir: string,
  print: WatchPrinter,
  settleMs = 400,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const reload = (): void => {
    running = running.then(async () => {
      const started = Date.now();
      const result = await emulator.reload();
      if (result.error || result.needsRestart.length > 0 || result.swapped.length > 0) printReload(print, result, () => Date.now() - started);
    });
  };
  const watcher = fs.watch(assemblyDir, () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(reload, settleMs);
  });
  return () => {
    if (timer) clearTimeout(timer);
    watcher.close();
  };
}

export interface SynthResult {
  readonly ok: boolean;
  readonly ms: number;
  /** The command's output (stderr, then stdout), trimmed to its last 40 lines. */
  readonly output: string;
  readonly exitCode: number | null;
}

/** Runs the app's command as the CDK CLI would (`CDK_OUTDIR`, `CDK_CONTEXT_JSON`), in the app's folder. */
export function runSynth(plan: WatchPlan, assemblyDir: string, env: NodeJS.ProcessEnv = process.env): Promise<SynthResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(plan.command!, {
      cwd: plan.projectDir,
      shell: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...env,
        CDK_OUTDIR: path.resolve(plan.projectDir, assemblyDir),
        CDK_CONTEXT_JSON: JSON.stringify(plan.context),
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const done = (exitCode: number | null, extra = ''): void => {
      const output = `${stderr}${stdout}${extra}`.trim().split('\n').slice(-40).join('\n');
      resolve({ ok: exitCode === 0, ms: Date.now() - started, output, exitCode });
    };
    child.on('error', (err) => done(null, `\n${err.message}`));
    child.on('close', (code) => done(code));
  });
}

export interface SynthWatchOptions {
  readonly emulator: Pick<RunningEmulator, 'reload'>;
  readonly plan: WatchPlan;
  readonly assemblyDir: string;
  readonly print: WatchPrinter;
  /** Quiet time after the last change before synthesizing. @default 150 */
  readonly settleMs?: number;
  /** Called after each round (tests, the benchmark). @default - none */
  readonly onRound?: (round: { files: string[]; synth: SynthResult; reload?: ReloadResult }) => void;
}

/**
 * Synth mode: a change under the app's folder → synth (one at a time; changes during a synth start one more after
 * it) → reload. Prints the changed files, the synth time and the reload's outcome. Returns a function that stops.
 */
export function watchAndSynth(options: SynthWatchOptions): () => void {
  const { plan, print, assemblyDir } = options;
  const settleMs = options.settleMs ?? 150;
  const assemblyRelative = path.relative(plan.projectDir, path.resolve(plan.projectDir, assemblyDir)).split(path.sep).join('/');
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let busy = false;
  let stopped = false;

  const round = async (): Promise<void> => {
    if (busy || stopped || pending.size === 0) return;
    busy = true;
    const files = [...pending].sort();
    pending.clear();
    const shown = files.length > 5 ? `${files.slice(0, 5).join(', ')} and ${files.length - 5} more` : files.join(', ');
    print(`[watch] changed: ${shown}; synthesizing (${plan.command})`);
    const synth = await runSynth(plan, assemblyDir);
    let reload: ReloadResult | undefined;
    if (stopped) {
      busy = false;
      return;
    }
    if (!synth.ok) {
      print(`[watch] synth failed (exit ${synth.exitCode ?? 'error'}) after ${synth.ms} ms; still serving the last good version:\n${synth.output}`);
    } else {
      const started = Date.now();
      reload = await options.emulator.reload();
      printReload(print, reload, () => synth.ms + Date.now() - started);
      if (!reload.error) print(`[watch] synth ${synth.ms} ms, reload ${Date.now() - started} ms`);
    }
    busy = false;
    options.onRound?.({ files, synth, ...(reload ? { reload } : {}) });
    if (pending.size > 0) schedule();
  };
  const schedule = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void round(), settleMs);
  };
  const stopTree = watchTree(
    plan.projectDir,
    (dir) => !isWatchedDir(dir, plan, assemblyRelative),
    (file) => {
      if (!isWatched(plan, file, assemblyRelative)) return;
      pending.add(file.split(path.sep).join('/'));
      if (!busy) schedule();
    },
  );
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    stopTree();
  };
}

/** A folder is walked unless it is excluded outright (node_modules, dot folders, the assembly, exclude globs). */
function isWatchedDir(relative: string, plan: WatchPlan, assemblyRelative: string): boolean {
  const dir = relative.split(path.sep).join('/');
  if (dir.split('/').some((part) => part.startsWith('.'))) return false;
  const excluded = [...ALWAYS_EXCLUDED, ...plan.exclude, assemblyRelative].map(globToRegExp);
  return !excluded.some((re) => re.test(dir));
}
