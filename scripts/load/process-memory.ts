/**
 * Resident memory of a process and of its descendants, read from /proc (Linux). Used by the load test to record the
 * emulator's memory: its own process (gateway, dynalite, @connections) and the function instances it forks.
 */
import * as fs from 'fs';

/** Kilobytes of a `VmRSS:` / `VmHWM:` line of /proc/<pid>/status, or undefined when the process is gone. */
function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Every live descendant of `root` (children, grandchildren …). */
function descendants(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat, after the parenthesised command name (which may contain spaces).
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited while we were reading
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [pid, ppid] of parentOf) {
      if (ppid === parent) {
        found.push(pid);
        queue.push(pid);
      }
    }
  }
  return found;
}

export interface MemorySample {
  /** RSS of the root process, MiB. */
  readonly processMiB: number;
  /** RSS of the root and all its descendants, MiB. */
  readonly treeMiB: number;
  /** How many descendant processes there were. */
  readonly descendants: number;
}

const mib = (kb: number): number => Math.round((kb / 1024) * 10) / 10;

/** One sample of the process tree under `pid`; undefined when `pid` has exited. */
export function sampleMemory(pid: number): MemorySample | undefined {
  const own = statusKb(pid, 'VmRSS');
  if (own === undefined) return undefined;
  const children = descendants(pid);
  const childKb = children.reduce((sum, child) => sum + (statusKb(child, 'VmRSS') ?? 0), 0);
  return { processMiB: mib(own), treeMiB: mib(own + childKb), descendants: children.length };
}

/** The kernel's high-water mark of the root process's RSS (its true peak), MiB. */
export function peakProcessMiB(pid: number): number | undefined {
  const kb = statusKb(pid, 'VmHWM');
  return kb === undefined ? undefined : mib(kb);
}

/** Samples every `intervalMs` until stopped; keeps the peaks. */
export class MemoryRecorder {
  private timer?: NodeJS.Timeout;
  private peakProcess = 0;
  private peakTree = 0;
  private peakDescendants = 0;
  private samples = 0;

  constructor(private readonly pid: number, private readonly intervalMs: number) {}

  start(): void {
    this.take();
    this.timer = setInterval(() => this.take(), this.intervalMs);
    this.timer.unref();
  }

  /** Takes one sample now (also called at the end of each phase) and returns it. */
  take(): MemorySample | undefined {
    const sample = sampleMemory(this.pid);
    if (sample) {
      this.samples += 1;
      this.peakProcess = Math.max(this.peakProcess, sample.processMiB);
      this.peakTree = Math.max(this.peakTree, sample.treeMiB);
      this.peakDescendants = Math.max(this.peakDescendants, sample.descendants);
    }
    return sample;
  }

  stop(): { samples: number; peakSampledProcessMiB: number; peakProcessMiB?: number; peakTreeMiB: number; peakDescendants: number } {
    if (this.timer) clearInterval(this.timer);
    return {
      samples: this.samples,
      peakSampledProcessMiB: this.peakProcess,
      peakProcessMiB: peakProcessMiB(this.pid),
      peakTreeMiB: this.peakTree,
      peakDescendants: this.peakDescendants,
    };
  }
}
