/**
 * The connections table of CONTRIBUTING.md ("Connections table item model") as a CreateTable input: pk/sk keys and
 * the sparse `byRoom` GSI (room + connectionId; KEYS_ONLY plus userId and expiresAt). Shared by the handler tests
 * and the benchmarks, which both create it in a local store.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const ROOM_INDEX = 'byRoom';

export function connectionsTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'room', AttributeType: 'S' },
      { AttributeName: 'connectionId', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: ROOM_INDEX,
        KeySchema: [
          { AttributeName: 'room', KeyType: 'HASH' },
          { AttributeName: 'connectionId', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['userId', 'expiresAt'] },
      },
    ],
  };
}
