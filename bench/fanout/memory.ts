/**
 * Peak memory of a function's instances, read from Linux /proc: the worker processes of a function are the
 * processes whose working directory is its asset folder (local/runtime/instance.ts forks them with cwd = codeDir).
 * `reset()` clears their RSS high-water mark (writing 5 to /proc/<pid>/clear_refs), `peakBytes()` reads VmHWM.
 */
import * as fs from 'fs';
import * as path from 'path';

function pidsWithCwd(dir: string): number[] {
  const want = path.resolve(dir);
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readlinkSync(`/proc/${entry}/cwd`) === want) out.push(Number(entry));
    } catch {
      // exited, or not ours to read
    }
  }
  return out;
}

function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export interface MemoryProbe {
  /** Clears the high-water mark of every current instance, then samples VmHWM every `intervalMs` until `peak()`. */
  reset(intervalMs?: number): number;
  /**
   * Largest VmHWM (bytes) seen among the function's instances since `reset()`: sampled, so an instance stopped
   * on timeout still counts; and how many instances there are now.
   */
  peak(): { bytes: number; instances: number; resetWorked: boolean };
}

export function memoryProbe(codeDir: string): MemoryProbe {
  let resetWorked = true;
  let sampled = 0;
  let timer: NodeJS.Timeout | undefined;
  const current = () => Math.max(0, ...pidsWithCwd(codeDir).map((pid) => statusKb(pid, 'VmHWM'))) * 1024;
  return {
    reset(intervalMs = 100) {
      const pids = pidsWithCwd(codeDir);
      for (const pid of pids) {
        try {
          fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
        } catch {
          resetWorked = false;
        }
      }
      sampled = 0;
      if (timer) clearInterval(timer);
      timer = setInterval(() => (sampled = Math.max(sampled, current())), intervalMs);
      return pids.length;
    },
    peak() {
      if (timer) clearInterval(timer);
      timer = undefined;
      const instances = pidsWithCwd(codeDir).length;
      return { bytes: Math.max(sampled, current()), instances, resetWorked };
    },
  };
}
