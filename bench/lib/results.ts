/** The shape of bench/results.json: one section per suite, each with the raw samples it was computed from. */
import type { MachineInfo } from './machine';
import type { SynthResult } from '../synth/suite';
import type { HandlersResult } from '../handlers/suite';
import type { CostResult } from '../cost/suite';
import type { FanoutResult } from '../fanout/suite';
import type { EchoResult } from '../echo/suite';
import type { PeerResult } from '../peer/suite';
import type { WatchResult } from '../watch/suite';
import type { ShardedResult } from '../fanout/sharded-suite';

/** Written into each section: when it ran and how busy the machine was (1-minute load average). */
export interface SectionMeta {
  readonly measuredAt: string;
  readonly quick: boolean;
  readonly loadAverageAtStart: number;
  readonly wallSeconds: number;
}

export interface Skipped {
  readonly skipped: string;
}

export type Section<T> = (T & { readonly meta: SectionMeta }) | (Skipped & { readonly meta: SectionMeta });

export interface BenchResults {
  readonly schema: 1;
  readonly machine: MachineInfo;
  /** The last `npm run bench` invocation: flags, suites run, total wall time. */
  lastRun?: { readonly startedAt: string; readonly quick: boolean; readonly suites: readonly string[]; wallSeconds?: number };
  synth?: Section<SynthResult>;
  handlers?: Section<HandlersResult>;
  cost?: Section<CostResult>;
  fanout?: Section<FanoutResult>;
  echo?: Section<EchoResult>;
  watch?: Section<WatchResult>;
  sharded?: Section<ShardedResult>;
  peer?: Section<PeerResult>;
}

export function isSkipped<T>(section: Section<T> | undefined): section is Skipped & { meta: SectionMeta } {
  return section !== undefined && 'skipped' in section;
}

/** The section's results, or undefined when it was not run or was skipped. */
export function measured<T>(section: Section<T> | undefined): (T & { meta: SectionMeta }) | undefined {
  return section === undefined || isSkipped(section) ? undefined : (section as T & { meta: SectionMeta });
}
