/** TypeScript child processes with an IPC channel (ts-node, transpile-only): start, wait for a message, request/reply. */
import { ChildProcess, fork } from 'child_process';

export interface IpcChild {
  readonly process: ChildProcess;
  /** The next message of this `type` (rejects after `timeoutMs` or if the child exits first). */
  next<T = Record<string, unknown>>(type: string, timeoutMs?: number): Promise<T>;
  /** Sends `{ id, cmd, ...args }` and resolves with the `{ type: 'reply', id }` answer. */
  request<T = Record<string, unknown>>(cmd: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** Kills the child if it has not exited within `graceMs` of being asked to close. */
  stop(closeMessage?: unknown, graceMs?: number): Promise<void>;
}

/** Resolves once `child` has exited: `ask` asks it to stop, and SIGKILL follows if it is still running `graceMs` later. */
export function stopChild(child: ChildProcess, graceMs: number, ask: () => void): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    ask();
  });
}

export function forkTs(file: string, args: readonly string[] = [], stderrPrefix = ''): IpcChild {
  const child = fork(file, [...args], {
    execArgv: ['-r', 'ts-node/register/transpile-only'],
    // Prefer .ts: local/ and lib/ also hold compiled .js (package builds, git-ignored) that can be older than the
    // sources, and Node's resolution would load those first.
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true', TS_NODE_PREFER_TS_EXTS: 'true' },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    // Only the child's own failures; the SDK's Node version notice is noise here.
    if (!/NodeVersionSupportWarning|versions published|require node >=22|continue receiving|security updates|More information|^\s*$|trace-warnings/.test(chunk)) {
      process.stderr.write(chunk.split('\n').filter((l) => l.trim()).map((l) => `${stderrPrefix}${l}\n`).join(''));
    }
  });
  let seq = 0;
  const next = <T>(type: string, timeoutMs = 120_000): Promise<T> =>
    new Promise((resolve, reject) => {
      const onMessage = (m: { type?: string }) => {
        if (m?.type === 'failed') finish(() => reject(new Error(`child ${file} failed: ${(m as { message?: string }).message}`)));
        else if (m?.type === type) finish(() => resolve(m as T));
      };
      const onExit = (code: number | null) => finish(() => reject(new Error(`child ${file} exited (${code}) while waiting for ${type}`)));
      const timer = setTimeout(() => finish(() => reject(new Error(`child ${file}: no ${type} within ${timeoutMs} ms`))), timeoutMs);
      const finish = (then: () => void) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        then();
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  return {
    process: child,
    next,
    request: <T>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 300_000): Promise<T> =>
      new Promise((resolve, reject) => {
        const id = ++seq;
        const onMessage = (m: { type?: string; id?: number; error?: string }) => {
          if (m?.type !== 'reply' || m.id !== id) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          if (m.error) reject(new Error(`${cmd} failed in ${file}: ${m.error}`));
          else resolve(m as T);
        };
        const timer = setTimeout(() => {
          child.off('message', onMessage);
          reject(new Error(`${cmd}: no reply from ${file} within ${timeoutMs} ms`));
        }, timeoutMs);
        child.on('message', onMessage);
        child.send({ id, cmd, ...args });
      }),
    stop: (closeMessage?: unknown, graceMs = 30_000) =>
      stopChild(child, graceMs, () => {
        if (closeMessage !== undefined && child.connected) child.send(closeMessage as object);
        else child.kill('SIGTERM');
      }),
  };
}
