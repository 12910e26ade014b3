/**
 * One emulator session for the benchmarks: dynalite and the metering proxy in this process, the emulator
 * (bench/fanout/emulator-host.ts) in a child process pointed at the proxy, the benchmark app's assembly.
 */
import * as path from 'path';
import { DynamoMeter, startDynamoMeter } from '../lib/ddb-meter';
import { LocalDynamo, startDynalite } from '../lib/dynalite';
import { forkTs, IpcChild } from '../lib/child';
import { BENCH } from '../lib/paths';
import { progress } from '../lib/log';

export interface FunctionInfo {
  readonly id: string;
  readonly codeDir: string;
  readonly timeoutSeconds: number;
  readonly memorySize: number;
  /** FANOUT_CONCURRENCY from the function's environment, if set. */
  readonly fanoutConcurrency?: string;
  /** SHARDED_ABOVE, SHARD_SIZE and FANOUT_CONCURRENCY from the function's environment, where set. */
  readonly environment?: Record<string, string>;
}

export interface EmulatorSession {
  readonly websocketUrl: string;
  readonly meter: DynamoMeter;
  readonly functions: FunctionInfo[];
  /** The function whose logical id matches. */
  fn(pattern: RegExp): FunctionInfo;
  /** warn/error lines the functions printed, and the gateway's log lines. */
  stats(): Promise<{ functionIssueCount: number; functionIssues: string[]; gatewayLines: string[] }>;
  close(): Promise<void>;
}

/**
 * `emulatorOptions`: more options for startEmulator (JSON-serializable: the @connections latency and rate);
 * `stackName`: whose WebSocket endpoint to use.
 */
export async function startEmulatorSession(
  assemblyDir: string,
  emulatorOptions: Record<string, unknown> = {},
  stackName = 'WsgateBench',
): Promise<EmulatorSession> {
  const dynamo: LocalDynamo = await startDynalite();
  const meter = await startDynamoMeter(dynamo.endpoint);
  const host: IpcChild = forkTs(path.join(BENCH, 'fanout', 'emulator-host.ts'), [assemblyDir, meter.endpoint, JSON.stringify(emulatorOptions)], '[emulator] ');
  const ready = await host.next<{ port: number; endpoints: Array<{ stackName: string; websocketUrl: string }>; functions: FunctionInfo[] }>('ready', 120_000);
  const endpoint = ready.endpoints.find((e) => e.stackName === stackName) ?? ready.endpoints[0];
  progress(`emulator ready on port ${ready.port}: ${endpoint.websocketUrl}`);
  return {
    websocketUrl: endpoint.websocketUrl,
    meter,
    functions: ready.functions,
    fn(pattern) {
      const found = ready.functions.find((f) => pattern.test(f.id));
      if (!found) throw new Error(`no function matching ${pattern} among ${ready.functions.map((f) => f.id).join(', ')}`);
      return found;
    },
    async stats() {
      host.process.send({ type: 'stats' });
      return host.next('stats', 10_000);
    },
    async close() {
      await host.stop({ type: 'close' }, 30_000);
      await meter.stop();
      await dynamo.stop();
    },
  };
}
