/** Items the handler benchmarks need in the table: connections and room memberships, written directly. */
import { BatchWriteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';

const TTL_SECONDS = 7500;

function connectionItem(id: string, user: string): Record<string, { S: string } | { N: string }> {
  const now = Date.now();
  return {
    pk: { S: `conn#${id}` },
    sk: { S: 'meta' },
    connectionId: { S: id },
    userId: { S: user },
    connectedAt: { N: String(now) },
    sourceIp: { S: '127.0.0.1' },
    expiresAt: { N: String(Math.floor(now / 1000) + TTL_SECONDS) },
  };
}

function membershipItem(id: string, user: string, room: string): Record<string, { S: string } | { N: string }> {
  const now = Date.now();
  return {
    pk: { S: `conn#${id}` },
    sk: { S: `room#${room}` },
    room: { S: room },
    connectionId: { S: id },
    userId: { S: user },
    joinedAt: { N: String(now) },
    expiresAt: { N: String(Math.floor(now / 1000) + TTL_SECONDS) },
  };
}

export async function seedConnection(client: DynamoDBClient, table: string, id: string, user: string, rooms: readonly string[] = []): Promise<void> {
  await client.send(new PutItemCommand({ TableName: table, Item: connectionItem(id, user) }));
  for (const room of rooms) await client.send(new PutItemCommand({ TableName: table, Item: membershipItem(id, user, room) }));
}

/** Many connections (each optionally a member of `room`), 25 items per BatchWriteItem. */
export async function seedMany(client: DynamoDBClient, table: string, ids: readonly string[], room?: string): Promise<void> {
  const items = ids.flatMap((id, i) => {
    const user = `user${i}`;
    return room ? [connectionItem(id, user), membershipItem(id, user, room)] : [connectionItem(id, user)];
  });
  for (let i = 0; i < items.length; i += 25) {
    let pending = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0 && attempt < 10; attempt++) {
      const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
      pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
    }
    if (pending.length > 0) throw new Error(`seedMany: ${pending.length} items still unprocessed`);
  }
}
