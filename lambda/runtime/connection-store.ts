/**
 * The connections table's item model:
 * one `meta` item per connection and one `room#<room>` item per membership, both under `pk = conn#<id>`,
 * with the sparse GSI keyed by `room`. Reads skip items whose TTL (`expiresAt`, epoch s) has passed,
 * because DynamoDB deletes expired items only eventually.
 */
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  QueryCommandInput,
  ScanCommand,
  ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { Clock, epochSeconds, systemClock } from './clock';
import { sleep as realSleep } from './sleep';

export interface ConnectionRecord {
  readonly connectionId: string;
  readonly userId: string;
  /** Epoch ms. */
  readonly connectedAt: number;
  readonly sourceIp?: string;
  /** Epoch s (TTL). */
  readonly expiresAt: number;
}

export interface Membership {
  readonly connectionId: string;
  readonly room: string;
  readonly userId: string;
  /** Epoch ms. */
  readonly joinedAt: number;
  /** Epoch s (TTL). */
  readonly expiresAt: number;
}

/** What the `byRoom` index projects: the keys plus `userId` and `expiresAt`. */
export type RoomMember = Pick<Membership, 'connectionId' | 'room' | 'userId' | 'expiresAt'>;

export interface ConnectionStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Name of the GSI keyed by room (ROOM_INDEX). @default - none: `roomMembers` refuses to run */
  readonly roomIndex?: string;
  /** Items evaluated per Scan/Query page (`Limit`). @default - DynamoDB's 1 MB pages */
  readonly pageSize?: number;
  readonly clock?: Clock;
  /** Attempts for a BatchWrite whose UnprocessedItems must be retried. @default 6 */
  readonly maxBatchAttempts?: number;
  /** Base delay before retrying UnprocessedItems, doubled each attempt. @default 50 */
  readonly batchRetryBaseMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

type Key = { readonly pk: string; readonly sk: string };
const META = 'meta';
const BATCH_WRITE_LIMIT = 25;

export const connectionKey = (connectionId: string): Key => ({ pk: `conn#${connectionId}`, sk: META });
export const membershipKey = (connectionId: string, room: string): Key => ({ pk: `conn#${connectionId}`, sk: `room#${room}` });

export class ConnectionStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly roomIndex: string | undefined;
  private readonly pageSize: number | undefined;
  private readonly clock: Clock;
  private readonly maxBatchAttempts: number;
  private readonly batchRetryBaseMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: ConnectionStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.roomIndex = options.roomIndex;
    this.pageSize = options.pageSize;
    this.clock = options.clock ?? systemClock;
    this.maxBatchAttempts = options.maxBatchAttempts ?? 6;
    this.batchRetryBaseMs = options.batchRetryBaseMs ?? 50;
    this.sleep = options.sleep ?? realSleep;
  }

  /** Idempotent upsert of the connection item (one PutItem: written whole or not at all). */
  async putConnection(record: ConnectionRecord): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: { ...connectionKey(record.connectionId), ...record } }));
  }

  /** The live connection item, or undefined when absent or expired. */
  async getConnection(connectionId: string): Promise<ConnectionRecord | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: connectionKey(connectionId), ConsistentRead: true }),
    );
    return out.Item && !this.isExpired(out.Item) ? toConnection(out.Item) : undefined;
  }

  /** Records (or refreshes) a membership. Idempotent. */
  async joinRoom(membership: Membership): Promise<void> {
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { ...membershipKey(membership.connectionId, membership.room), ...membership } }),
    );
  }

  /** Removes a membership; true when a live one existed. */
  async leaveRoom(connectionId: string, room: string): Promise<boolean> {
    const out = await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: membershipKey(connectionId, room), ReturnValues: 'ALL_OLD' }),
    );
    return out.Attributes !== undefined && !this.isExpired(out.Attributes);
  }

  /** The live membership, or undefined. */
  async getMembership(connectionId: string, room: string): Promise<Membership | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: membershipKey(connectionId, room), ConsistentRead: true }),
    );
    return out.Item && !this.isExpired(out.Item) ? toMembership(out.Item) : undefined;
  }

  /**
   * Deletes the connection item and every membership of the connection: a paginated Query on `pk`, then
   * BatchWrite deletes of 25, retrying UnprocessedItems. Returns how many items were deleted.
   */
  async deleteConnection(connectionId: string): Promise<number> {
    let deleted = 0;
    const pages = this.itemPages('query', () => ({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `conn#${connectionId}` },
      ProjectionExpression: 'pk, sk',
      ConsistentRead: true,
    }));
    for await (const items of pages) {
      const keys = items.map((item) => ({ pk: String(item.pk), sk: String(item.sk) }));
      for (let i = 0; i < keys.length; i += BATCH_WRITE_LIMIT) {
        await this.batchDelete(keys.slice(i, i + BATCH_WRITE_LIMIT), connectionId);
      }
      deleted += keys.length;
    }
    return deleted;
  }

  /** Live members of a room, page by page (a paginated Query on the `byRoom` index, never a Scan). */
  async *roomMembers(room: string): AsyncGenerator<RoomMember[]> {
    if (!this.roomIndex) throw new Error('ConnectionStore was built without roomIndex (ROOM_INDEX), so it cannot list a room');
    const pages = this.itemPages('query', () => ({
      TableName: this.tableName,
      IndexName: this.roomIndex,
      KeyConditionExpression: '#room = :room',
      FilterExpression: 'expiresAt >= :now',
      ExpressionAttributeNames: { '#room': 'room' },
      ExpressionAttributeValues: { ':room': room, ':now': this.nowSeconds() },
    }));
    for await (const items of pages) {
      if (items.length > 0) yield items.map(toRoomMember);
    }
  }

  /** Every live connection, page by page (a paginated Scan for `sk = meta`); never all in memory. */
  async *connections(): AsyncGenerator<ConnectionRecord[]> {
    const pages = this.itemPages('scan', () => ({
      TableName: this.tableName,
      FilterExpression: 'sk = :meta AND expiresAt >= :now',
      ExpressionAttributeValues: { ':meta': META, ':now': this.nowSeconds() },
    }));
    for await (const items of pages) {
      if (items.length > 0) yield items.map(toConnection);
    }
  }

  /**
   * The items of a Query or Scan, one page (`pageSize` items read) at a time, following LastEvaluatedKey.
   * `input` is built anew for every page, so a filter on "now" moves with the clock as the iteration goes on.
   */
  private async *itemPages(
    kind: 'query' | 'scan',
    input: () => Omit<QueryCommandInput & ScanCommandInput, 'Limit' | 'ExclusiveStartKey'>,
  ): AsyncGenerator<Record<string, unknown>[]> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const request = { ...input(), Limit: this.pageSize, ExclusiveStartKey: startKey };
      const page = kind === 'query'
        ? await this.client.send(new QueryCommand(request as QueryCommandInput))
        : await this.client.send(new ScanCommand(request as ScanCommandInput));
      yield page.Items ?? [];
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  private async batchDelete(keys: Key[], connectionId: string): Promise<void> {
    let pending: Record<string, unknown>[] = keys.map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 1; ; attempt++) {
      const out = await this.client.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending as never } }));
      pending = (out.UnprocessedItems?.[this.tableName] ?? []) as Record<string, unknown>[];
      if (pending.length === 0) return;
      if (attempt >= this.maxBatchAttempts) {
        throw new Error(
          `could not delete ${pending.length} item(s) of connection ${connectionId}: still unprocessed after ${attempt} BatchWrite attempts`,
        );
      }
      await this.sleep(this.batchRetryBaseMs * 2 ** (attempt - 1));
    }
  }

  private nowSeconds(): number {
    return epochSeconds(this.clock());
  }

  private isExpired(item: Record<string, unknown>): boolean {
    return typeof item.expiresAt === 'number' && item.expiresAt < this.nowSeconds();
  }
}

function toConnection(item: Record<string, unknown>): ConnectionRecord {
  return {
    connectionId: String(item.connectionId),
    userId: String(item.userId),
    connectedAt: Number(item.connectedAt),
    ...(typeof item.sourceIp === 'string' ? { sourceIp: item.sourceIp } : {}),
    expiresAt: Number(item.expiresAt),
  };
}

function toMembership(item: Record<string, unknown>): Membership {
  return { ...toRoomMember(item), joinedAt: Number(item.joinedAt) };
}

function toRoomMember(item: Record<string, unknown>): RoomMember {
  return {
    connectionId: String(item.connectionId),
    room: String(item.room),
    userId: String(item.userId),
    expiresAt: Number(item.expiresAt),
  };
}
