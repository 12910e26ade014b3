/**
 * AWS's DynamoDB Local (fetched into .wsgate/dynamodb-local/ by scripts/fetch-dynamodb-local.sh) for tests:
 * whether it is there, whether CI requires it, and a launcher on a free loopback port.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

const DIR = path.join(__dirname, '..', '..', '..', '.wsgate', 'dynamodb-local');

export const hasDynamoDbLocal = fs.existsSync(path.join(DIR, 'DynamoDBLocal.jar'));
/** `.ci/run` sets WSGATE_REQUIRE_DYNAMODB_LOCAL=1: the tests then fail instead of skipping when the jar is absent. */
export const requireDynamoDbLocal = process.env.WSGATE_REQUIRE_DYNAMODB_LOCAL === '1';

export interface DynamoDbLocalProcess {
  readonly endpoint: string;
  /** Resolves once the port accepts connections; rejects if the process exits first or never opens it. */
  readonly ready: Promise<void>;
  stop(): void;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('DynamoDB Local did not open its port');
}

/**
 * Starts DynamoDB Local in memory; `ready` tells when it listens (it boots in seconds: start it early).
 * `-sharedDb` as the README says: with local IAM every function signs with its own access key, and without it
 * DynamoDB Local keeps one database per access key (a function would not see the tables the emulator created).
 */
export async function launchDynamoDbLocal(): Promise<DynamoDbLocalProcess> {
  const port = await freePort();
  const child = spawn('java', [
    `-Djava.library.path=${path.join(DIR, 'lib')}`,
    '-cp', `${path.join(DIR, 'DynamoDBLocal.jar')}:${path.join(DIR, 'lib', '*')}`,
    'software.amazon.dynamodb.services.local.main.ServerRunner', '-inMemory', '-sharedDb', '-port', String(port),
  ], { stdio: 'ignore' });
  const ready = waitForPort(port, child);
  ready.catch(() => undefined); // awaited by the caller; not an unhandled rejection meanwhile
  return { endpoint: `http://127.0.0.1:${port}`, ready, stop: () => child.kill('SIGKILL') };
}
