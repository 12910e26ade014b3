/**
 * A real DynamoDB-compatible server for tests: embedded dynalite on a free loopback port, with the connections
 * table created exactly as CONTRIBUTING.md describes (pk/sk, sparse GSI `byRoom` on room + connectionId,
 * projection KEYS_ONLY plus userId and expiresAt).
 */
import { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../../lambda/runtime/dynamo-client';
import { connectionsTableInput } from './connections-table-schema';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: Record<string, unknown>) => import('node:http').Server;

export const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
export { ROOM_INDEX } from './connections-table-schema';

export interface LocalDynamo {
  readonly endpoint: string;
  /** A document client on this server, as the handlers build one. */
  readonly doc: DynamoDBDocumentClient;
  createConnectionsTable(name: string): Promise<void>;
  /** Every item of a table, sorted by pk then sk, for before/after comparisons. */
  snapshot(tableName: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export function documentClientFor(endpoint: string): DynamoDBDocumentClient {
  return createDocumentClient({ endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1 });
}

export async function startLocalDynamo(): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const raw = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS });
  const doc = documentClientFor(endpoint);
  return {
    endpoint,
    doc,
    async createConnectionsTable(name) {
      await raw.send(new CreateTableCommand(connectionsTableInput(name)));
    },
    async snapshot(tableName) {
      const items: Record<string, unknown>[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey }));
        items.push(...(page.Items ?? []));
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      return items.sort((a, b) => `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`));
    },
    async close() {
      raw.destroy();
      doc.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port with nothing listening: a DynamoDB endpoint that is unreachable. */
export async function closedPort(): Promise<number> {
  const net = await import('node:net');
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * One server for the calling test file: started in a `beforeAll`, closed in an `afterAll` (registered where this is
 * called). The object it returns stands for that server inside tests and later hooks; touching it before the
 * `beforeAll` has run throws.
 */
export function useLocalDynamo(): LocalDynamo {
  let started: LocalDynamo | undefined;
  beforeAll(async () => {
    started = await startLocalDynamo();
  });
  afterAll(async () => {
    await started?.close();
  });
  const current = (): LocalDynamo => {
    if (!started) throw new Error('useLocalDynamo: the server starts in beforeAll; use it inside a test or a later hook');
    return started;
  };
  return {
    get endpoint() {
      return current().endpoint;
    },
    get doc() {
      return current().doc;
    },
    createConnectionsTable: (name) => current().createConnectionsTable(name),
    snapshot: (tableName) => current().snapshot(tableName),
    close: () => current().close(),
  };
}
