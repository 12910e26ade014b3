/**
 * Child process: runs the emulator (local/emulator.ts) on a free 127.0.0.1 port for the benchmarks, with DynamoDB
 * at the endpoint the parent gives (its metering proxy). Function output is dropped; warn/error lines are counted.
 * IPC out: { type: 'ready', port, endpoints, functions: [{ id, codeDir }] } | { type: 'stats', ... } | { type: 'closed' }
 * IPC in:  { type: 'stats' } | { type: 'close' }
 * argv: <assemblyDir> <dynamodbEndpoint> [<JSON of more EmulatorOptions, e.g. {"connectionsLatencyMs":20}>]
 */
import { startEmulator, type EmulatorOptions } from '../../local/emulator';

const [assemblyDir, dynamodbEndpoint, extraJson] = process.argv.slice(2);
const extra = (extraJson ? JSON.parse(extraJson) : {}) as Partial<EmulatorOptions>;
const functionIssues: string[] = [];
let functionIssueCount = 0;
const gatewayLines: string[] = [];

function send(message: unknown): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const emulator = await startEmulator({
    assemblyDir,
    dynamodbEndpoint,
    port: 0,
    // The benchmark measures the emulator, not the example stage's 500 rps throttle (local IAM stays on).
    throttle: false,
    ...extra,
    log: (line) => {
      if (gatewayLines.length < 50) gatewayLines.push(line);
    },
    functionLog: (functionId, _stream, line) => {
      if (/"level":"(warn|error)"|Error|Unhandled/.test(line)) {
        functionIssueCount++;
        if (functionIssues.length < 20) functionIssues.push(`${functionId}: ${line.slice(0, 400)}`);
      }
    },
  });
  const functions = Object.values(emulator.model.functions).map((f) => ({
    id: f.id,
    codeDir: f.codeDir,
    timeoutSeconds: f.timeoutSeconds,
    memorySize: f.memorySize,
    fanoutConcurrency: f.environment.FANOUT_CONCURRENCY,
    environment: Object.fromEntries(['SHARDED_ABOVE', 'SHARD_SIZE', 'FANOUT_CONCURRENCY'].filter((k) => k in f.environment).map((k) => [k, f.environment[k]])),
  }));
  send({ type: 'ready', port: emulator.port, endpoints: emulator.endpoints, functions });
  process.on('message', (message: { type?: string }) => {
    if (message?.type === 'stats') send({ type: 'stats', functionIssueCount, functionIssues, gatewayLines });
    if (message?.type === 'close') {
      void emulator.close().finally(() => {
        send({ type: 'closed' });
        process.exit(0);
      });
    }
  });
  process.on('disconnect', () => void emulator.close().finally(() => process.exit(0)));
}

main().catch((err) => {
  send({ type: 'failed', message: (err as Error).stack ?? String(err) });
  process.exit(1);
});
