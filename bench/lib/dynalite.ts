/** An in-memory dynalite on 127.0.0.1 and the connections table of CONTRIBUTING.md "Connections table item model". */
import type { Server } from 'http';
import type { AddressInfo } from 'net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { connectionsTableInput } from '../../test/lambda/support/connections-table-schema';

// dynalite has no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite: (options: Record<string, unknown>) => Server = require('dynalite');

export { ROOM_INDEX } from '../../test/lambda/support/connections-table-schema';
export const REGION = 'us-east-1';
export const FAKE_CREDENTIALS = { accessKeyId: 'AKIABENCHLOCAL000000', secretAccessKey: 'bench-local-fake-secret' };

export interface LocalDynamo {
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function startDynalite(): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export function dynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: REGION, credentials: FAKE_CREDENTIALS });
}

/** pk/sk table with the sparse `byRoom` GSI (room, connectionId; INCLUDE userId, expiresAt). */
export async function createConnectionsTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(new CreateTableCommand(connectionsTableInput(tableName)));
}
