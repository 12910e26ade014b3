/**
 * The emulator as a separate process (`wsgate local` from local/cli.ts), so its memory is measured apart from the
 * 5,000 clients. Resolves once the CLI has printed the stage's ws:// URL.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export interface EmulatorProcess {
  readonly pid: number;
  /** `ws://127.0.0.1:PORT/<stage>` of the first stage the CLI printed. */
  readonly websocketUrl: string;
  /** Lines the emulator wrote to stderr (gateway messages, function errors), most recent last. */
  readonly stderrTail: string[];
  /** How many stderr lines the emulator has written so far (function logs included). */
  stderrLines(): number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const STDERR_LINES_KEPT = 200;

/** `logFile`: where to copy everything the emulator writes to stderr (function logs included). */
export function startEmulatorProcess(assemblyDir: string, startTimeoutMs: number, logFile?: string): Promise<EmulatorProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', path.join(REPO_ROOT, 'local', 'cli.ts'), 'local', assemblyDir, '--port', '0', '--no-throttle'],
    { cwd: REPO_ROOT, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stderrTail: string[] = [];
  let stderrLines = 0;
  const logStream = logFile ? fs.createWriteStream(logFile) : undefined;
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    logStream?.write(chunk);
    for (const line of chunk.split('\n')) {
      if (!line.trim()) continue;
      stderrTail.push(line);
      stderrLines += 1;
    }
    stderrTail.splice(0, Math.max(0, stderrTail.length - STDERR_LINES_KEPT));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => logStream?.end());

  const stop = async (graceMs = 10_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(killer);
  };

  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      void stop(1000);
      reject(new Error(`The emulator printed no ws:// URL within ${startTimeoutMs} ms. stderr:\n${stderrTail.join('\n')}`));
    }, startTimeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`The emulator exited (${code}) before it was ready. stderr:\n${stderrTail.join('\n')}`));
    });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const url = /(ws:\/\/127\.0\.0\.1:\d+\/\S+)/.exec(stdout)?.[1];
      if (url && child.pid !== undefined) {
        clearTimeout(timer);
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve({ pid: child.pid, websocketUrl: url, stderrTail, stderrLines: () => stderrLines, stop });
      }
    });
  });
}
