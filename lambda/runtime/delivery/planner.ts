/**
 * The shard planner: one keys-only pass over an audience that decides between direct delivery and a delivery
 * job, and for a job cuts the audience into shards.
 * - Up to `shardedAbove` recipients the connection ids read are kept and returned: the caller posts to them
 *   itself (memory bounded by the threshold).
 * - Above it the buffered ids are dropped; the pass goes on counting and, for a room, remembers one connection id
 *   every `shardSize` members (the shard boundaries). A broadcast becomes `ceil(count / shardSize)` Scan segments.
 * The pass reads only `connectionId` (a ProjectionExpression), page by page; it never holds the audience.
 */
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { epochSeconds } from '../clock';
import { BroadcastShard, RoomShard, Shard } from './job';

/** DynamoDB accepts at most this many segments in a parallel Scan. */
export const MAX_TOTAL_SEGMENTS = 1_000_000;

export interface PlannerOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly roomIndex?: string;
  /** Audiences of more recipients than this are sharded. */
  readonly shardedAbove: number;
  /** Recipients per shard. */
  readonly shardSize: number;
  /** Items read per page. @default - DynamoDB's 1 MB pages */
  readonly pageSize?: number;
  readonly clock: () => number;
}

export type Plan =
  | { readonly kind: 'direct'; readonly connectionIds: readonly string[] }
  | { readonly kind: 'sharded'; readonly recipients: number; readonly shards: readonly Shard[] };

type Page = { Items?: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> };

async function* ids(read: (startKey: Record<string, unknown> | undefined) => Promise<Page>): AsyncGenerator<string> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await read(startKey);
    for (const item of page.Items ?? []) yield String(item.connectionId);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

/** Plans a send to every live member of `room`. */
export async function planRoom(options: PlannerOptions, room: string): Promise<Plan> {
  if (!options.roomIndex) throw new Error('the shard planner needs the room index (ROOM_INDEX) to plan a room send');
  const now = epochSeconds(options.clock());
  const members = ids((startKey) =>
    options.client.send(new QueryCommand({
      TableName: options.tableName,
      IndexName: options.roomIndex,
      KeyConditionExpression: '#room = :room',
      FilterExpression: 'expiresAt >= :now',
      ProjectionExpression: 'connectionId',
      ExpressionAttributeNames: { '#room': 'room' },
      ExpressionAttributeValues: { ':room': room, ':now': now },
      Limit: options.pageSize,
      ExclusiveStartKey: startKey,
    })),
  );
  let buffer: string[] | undefined = [];
  let count = 0;
  const boundaries: string[] = [];
  for await (const id of members) {
    count++;
    if (buffer) {
      buffer.push(id);
      if (buffer.length > options.shardedAbove) buffer = undefined;
    }
    if (count % options.shardSize === 0) boundaries.push(id);
  }
  if (buffer) return { kind: 'direct', connectionIds: buffer };
  // The last shard is open-ended, so members who join while the job runs are reached too.
  if (count % options.shardSize === 0) boundaries.pop();
  const shards: RoomShard[] = [];
  let after: string | undefined;
  for (const until of boundaries) {
    shards.push({ kind: 'room', room, ...(after !== undefined ? { after } : {}), until });
    after = until;
  }
  shards.push({ kind: 'room', room, ...(after !== undefined ? { after } : {}) });
  return { kind: 'sharded', recipients: count, shards };
}

/** Plans a send to every live connection. */
export async function planBroadcast(options: PlannerOptions): Promise<Plan> {
  const now = epochSeconds(options.clock());
  const connections = ids((startKey) =>
    options.client.send(new ScanCommand({
      TableName: options.tableName,
      FilterExpression: 'sk = :meta AND expiresAt >= :now',
      ProjectionExpression: 'connectionId',
      ExpressionAttributeValues: { ':meta': 'meta', ':now': now },
      Limit: options.pageSize,
      ExclusiveStartKey: startKey,
    })),
  );
  let buffer: string[] | undefined = [];
  let count = 0;
  for await (const id of connections) {
    count++;
    if (buffer) {
      buffer.push(id);
      if (buffer.length > options.shardedAbove) buffer = undefined;
    }
  }
  if (buffer) return { kind: 'direct', connectionIds: buffer };
  const totalSegments = Math.min(MAX_TOTAL_SEGMENTS, Math.ceil(count / options.shardSize));
  const shards: BroadcastShard[] = [];
  for (let segment = 0; segment < totalSegments; segment++) shards.push({ kind: 'broadcast', segment, totalSegments });
  return { kind: 'sharded', recipients: count, shards };
}
