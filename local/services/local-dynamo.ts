/** DynamoDB for the emulator: embedded dynalite on a free 127.0.0.1 port, or an external endpoint (DynamoDB Local). */
import {
  CreateTableCommand, CreateTableCommandInput, DescribeTableCommand, DynamoDBClient, ResourceInUseException, UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { TableModel } from '../model';
import { listenOnLoopback } from './loopback';

// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite: (options: Record<string, unknown>) => import('http').Server = require('dynalite');

export interface LocalDynamo {
  /** e.g. `http://127.0.0.1:54321`. */
  readonly endpoint: string;
  /** Stops the embedded server (an external endpoint is left running). */
  close(): Promise<void>;
}

export interface LocalDynamoOptions {
  /** Use this DynamoDB-compatible endpoint (e.g. DynamoDB Local) instead of starting dynalite. */
  readonly endpoint?: string;
}

export async function startLocalDynamo(options: LocalDynamoOptions = {}): Promise<LocalDynamo> {
  if (options.endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(options.endpoint);
    } catch {
      throw new Error(`startLocalDynamo: endpoint ${JSON.stringify(options.endpoint)} is not a URL like http://127.0.0.1:8000`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`startLocalDynamo: endpoint ${options.endpoint} must be http:// or https://`);
    }
    return { endpoint: options.endpoint.replace(/\/$/, ''), close: async () => undefined };
  }
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const port = await listenOnLoopback(server);
  // dynalite closes its database while requests it already accepted may still wait for an item lock; such a request
  // then throws "Database is closed" out of its callback (an uncaught exception in the host process). Close waits for
  // the requests in flight first (bounded), once nothing can send new ones (the emulator stops its functions before).
  let inFlight = 0;
  let drained: (() => void) | undefined;
  server.on('request', (_req: unknown, res: { end: (...args: unknown[]) => unknown }) => {
    inFlight++;
    // Counted until dynalite answers (even when the caller has gone: its operation still runs).
    const end = res.end;
    res.end = function (this: unknown, ...args: unknown[]) {
      inFlight--;
      if (inFlight === 0) drained?.();
      return end.apply(this, args);
    };
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5_000);
          drained = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A client for the local endpoint, with the fake credentials the local services accept. */
export function localDynamoClient(endpoint: string, region = 'us-east-1'): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'AKIAWSGATELOCAL00000', secretAccessKey: 'wsgate-local-fake-secret-access-key' },
  });
}

/**
 * Creates the template's tables; a table that already exists with that name is kept as it is.
 * TTL is enabled where the server supports UpdateTimeToLive (dynalite does not; items are not expired there).
 * Returns the names it created.
 */
export async function createTables(endpoint: string, tables: readonly TableModel[]): Promise<string[]> {
  const client = localDynamoClient(endpoint);
  const created: string[] = [];
  try {
    for (const table of tables) {
      try {
        await client.send(new CreateTableCommand(table.createTableInput as unknown as CreateTableCommandInput));
        created.push(table.tableName);
      } catch (e) {
        if (e instanceof ResourceInUseException || (e as Error).name === 'ResourceInUseException') continue;
        throw new Error(`createTables: ${table.stackName}/${table.logicalId} (${table.tableName}) cannot be created: ${(e as Error).message}`);
      }
      await waitUntilActive(client, table.tableName);
      if (table.ttlAttribute) {
        try {
          await client.send(new UpdateTimeToLiveCommand({
            TableName: table.tableName,
            TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true },
          }));
        } catch (e) {
          if (!/UnknownOperation|not supported|Unsupported/i.test(`${(e as Error).name} ${(e as Error).message}`)) throw e;
        }
      }
    }
  } finally {
    client.destroy();
  }
  return created;
}

async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`createTables: ${tableName} did not become ACTIVE`);
}
