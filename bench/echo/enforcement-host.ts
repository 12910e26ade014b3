/**
 * Child process: runs the emulator (local/emulator.ts) on a free 127.0.0.1 port over the echo enforcement app,
 * with enforcement on (local IAM, stage throttling, the `@connections` rate bucket) or off (`--no-iam`,
 * `--no-throttle`), and its own embedded DynamoDB. Function output is dropped.
 * IPC out: { type: 'ready', websocketUrl } | { type: 'closed' } | { type: 'failed', message }
 * IPC in:  { type: 'close' }
 * argv: <assemblyDir> <on|off>
 */
import { startEmulator } from '../../local/emulator';

const [assemblyDir, mode] = process.argv.slice(2);

function send(message: unknown): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const enforced = mode === 'on';
  const emulator = await startEmulator({
    assemblyDir,
    port: 0,
    iam: enforced,
    throttle: enforced,
    // AWS's account rate on @connections (the echo route makes no @connections call: the bucket is there, unused).
    ...(enforced ? { connectionsRatePerSecond: 10_000 } : {}),
    // Failures only (a refused or failed handshake, a failed function), on stderr: the bench prints them prefixed.
    log: (line) => {
      if (/failed|refused|timed out|error/i.test(line)) process.stderr.write(`${line}\n`);
    },
    functionLog: (functionId, _stream, line) => {
      if (/"level":"error"|Error|Unhandled|Task timed out/.test(line)) process.stderr.write(`${functionId}: ${line.slice(0, 400)}\n`);
    },
  });
  send({ type: 'ready', websocketUrl: emulator.endpoints[0].websocketUrl });
  process.on('message', (message: { type?: string }) => {
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
