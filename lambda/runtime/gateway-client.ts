/**
 * `createGatewayClient`: the one object a Lambda function needs to work with the gateway's connections table and
 * its `@connections` endpoint. Create it at module scope; creating it never throws and makes no AWS call.
 * Settings are read from the options, else from the environment the gateway sets on every function it wires,
 * on the first call that needs them; a missing or invalid one throws a ConfigurationError naming the variable.
 * Arguments are checked before any AWS call (InvalidArgumentError, MessageTooLargeError).
 */
import { ApiGatewayManagementApiClient, DeleteConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LIMITS, ROOM_NAME } from '../../contract/gateway-contract';
import { Clock, epochSeconds, systemClock } from './clock';
import { CONFIG_VARIABLES, ConfigKey, Env, HandlerConfig, readConfig } from './config';
import { ConnectionRecord, ConnectionStore, Membership, RoomMember } from './connection-store';
import { createDocumentClient } from './dynamo-client';
import { ConfigurationError, ConnectionGoneError, InvalidArgumentError, MessageTooLargeError } from './errors';
import { Logger, createLogger } from './log';
import { createManagementClient } from './management-client';
import { FanOutCounts, Messenger, PostOutcome } from './messenger';
import { readEvent } from './websocket-event';
import { enqueueJob } from './delivery/enqueue';
import { Plan, planBroadcast, planRoom, PlannerOptions } from './delivery/planner';

/** Options of `createGatewayClient`. Every one is optional; a function the gateway wired needs none. */
export interface GatewayClientOptions {
  /** The connections table's name. @default - the CONNECTIONS_TABLE environment variable */
  readonly tableName?: string;
  /** Name of the table's index keyed by room. @default - the ROOM_INDEX environment variable */
  readonly roomIndex?: string;
  /**
   * The stage's `@connections` endpoint, `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`.
   * @default - the CALLBACK_URL environment variable
   */
  readonly callbackUrl?: string;
  /**
   * Lifetime of recorded connections and memberships, in seconds (their TTL).
   * @default - the CONNECTION_TTL_SECONDS environment variable, else 7500 (API Gateway's 2-hour limit plus 5 minutes)
   */
  readonly connectionTtlSeconds?: number;
  /**
   * The most `PostToConnection` calls `sendToRoom` and `broadcast` make at once.
   * @default - the FANOUT_CONCURRENCY environment variable, else 20
   */
  readonly fanoutConcurrency?: number;
  /** Where settings not given as options are read. @default - `process.env` */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * The DynamoDB client (a document client, or a plain client that is wrapped in one).
   * @default - a client built from the SDK's own configuration (region, credentials, endpoint)
   */
  readonly dynamoClient?: DynamoDBDocumentClient | DynamoDBClient;
  /**
   * The `@connections` client. Build it with `maxAttempts: 1`: the client retries 429, 5xx and network errors itself.
   * @default - a client on the callback URL with `maxAttempts: 1`
   */
  readonly managementClient?: ApiGatewayManagementApiClient;
  /** Where the client writes its JSON log lines (failed posts, removed stale connections). @default - stdout */
  readonly log?: Logger;
  /** Attempts per post when throttled (429), on 5xx or on a network error, the first included. @default 4 */
  readonly maxSendAttempts?: number;
  /** Backoff before the first retry of a post in milliseconds, doubled each retry. @default 100 */
  readonly retryBaseMs?: number;
  /** Items read per DynamoDB Query or Scan page. @default - DynamoDB's own 1 MB pages */
  readonly pageSize?: number;
  /**
   * The delivery queue of sharded delivery: `sendToRoom` and `broadcast` to more than `shardedAbove` recipients
   * enqueue a delivery job there instead of posting themselves.
   * @default - the DELIVERY_QUEUE_URL environment variable, else none: every send is posted by this function
   */
  readonly deliveryQueueUrl?: string;
  /** Audiences of more recipients than this are enqueued. @default - the SHARDED_ABOVE environment variable, else 1000 */
  readonly shardedAbove?: number;
  /** Recipients per shard of a delivery job. @default - the SHARD_SIZE environment variable, else 1000 */
  readonly shardSize?: number;
  /** The SQS client that enqueues delivery jobs. @default - a client from the SDK's own configuration */
  readonly sqsClient?: SQSClient;
}

/** Options of `recordConnection`. */
export interface RecordConnectionOptions {
  /** The user the connection belongs to. @default - the authorizer's `principalId` on the event */
  readonly userId?: string;
  /** Lifetime of the record in seconds. @default - the client's connection TTL */
  readonly ttlSeconds?: number;
}

/** Options of `joinRoom`. */
export interface JoinRoomOptions {
  /** The user recorded with the membership. @default - the user of the connection's record */
  readonly userId?: string;
}

/**
 * What `sendToRoom` and `broadcast` did: how many connections got the message, were gone, or failed. When the
 * audience was larger than the sharding threshold, the counts are 0 and `queued` says how many recipients the
 * enqueued delivery job (`jobId`, `shards` queue messages) will post to; the workers report their counts.
 */
export interface SendCounts extends FanOutCounts {
  /** Recipients handed to the delivery workers. @default - none: the message was posted directly */
  readonly queued?: number;
  /** The delivery job's id (in the workers' logs and metrics). */
  readonly jobId?: string;
  /** Number of shards (queue messages) of the job. */
  readonly shards?: number;
}

/** What `close` found: the connection was closed, or it was already gone. */
export type CloseOutcome = 'closed' | 'gone';

/** The data of a message: a string is sent as it is, anything else as its JSON text. */
export type MessageData = string | object;

export interface GatewayClient {
  /** Records the connection of a `$connect` event (connection id, user, source IP, connection time, TTL). */
  recordConnection(event: unknown, options?: RecordConnectionOptions): Promise<ConnectionRecord>;
  /** Removes a connection's record and all its room memberships; resolves to the number of items deleted. */
  removeConnection(connectionId: string): Promise<number>;
  /** The connection's live record, or undefined. */
  getConnection(connectionId: string): Promise<ConnectionRecord | undefined>;
  /** Adds the connection to a room (idempotent). */
  joinRoom(connectionId: string, room: string, options?: JoinRoomOptions): Promise<Membership>;
  /** Removes the connection from a room; true when it was a member. */
  leaveRoom(connectionId: string, room: string): Promise<boolean>;
  /** Every live member of a room. */
  roomMembers(room: string): Promise<RoomMember[]>;
  /** Sends to one connection; a gone connection's records are removed. */
  send(connectionId: string, data: MessageData): Promise<PostOutcome>;
  /** Sends to every member of a room with bounded concurrency; gone members are removed. */
  sendToRoom(room: string, data: MessageData): Promise<SendCounts>;
  /** Sends to every live connection, reading them page by page. */
  broadcast(data: MessageData): Promise<SendCounts>;
  /** Closes a connection from the server; API Gateway then runs `$disconnect`. */
  close(connectionId: string): Promise<CloseOutcome>;
}

type Setting = 'tableName' | 'roomIndex' | 'callbackUrl' | 'connectionTtlSeconds' | 'fanoutConcurrency'
  | 'deliveryQueueUrl' | 'shardedAbove' | 'shardSize';

function checkConnectionId(connectionId: unknown): string {
  if (typeof connectionId !== 'string' || connectionId.length === 0) {
    throw new InvalidArgumentError(`connectionId must be a non-empty string, got ${describe(connectionId)}`);
  }
  return connectionId;
}

function checkRoom(room: unknown): string {
  if (typeof room !== 'string' || !ROOM_NAME.test(room)) {
    throw new InvalidArgumentError(
      `room ${describe(room)} is not a valid room name; expected 1 to 64 characters of letters, digits, ".", "_" or "-"`,
    );
  }
  return room;
}

function checkUserId(userId: unknown): string {
  if (typeof userId !== 'string' || userId.length === 0) {
    throw new InvalidArgumentError(`userId must be a non-empty string, got ${describe(userId)}`);
  }
  return userId;
}

function checkTtl(ttl: unknown, what: string): number {
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > LIMITS.maxConnectionTtlSeconds) {
    throw new InvalidArgumentError(`${what} must be a whole number of seconds from 1 to ${LIMITS.maxConnectionTtlSeconds}, got ${describe(ttl)}`);
  }
  return ttl;
}

/** The text of a message, refused before any AWS call when it cannot be sent. */
function messageText(data: unknown): string {
  let text: string | undefined;
  if (typeof data === 'string') text = data;
  else if (typeof data === 'object' && data !== null) {
    try {
      text = JSON.stringify(data);
    } catch (err) {
      throw new InvalidArgumentError(`data could not be turned into JSON: ${(err as Error).message}`);
    }
  }
  if (text === undefined) throw new InvalidArgumentError(`data must be a string or an object, got ${describe(data)}`);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > LIMITS.maxPostBytes) throw new MessageTooLargeError(bytes);
  return text;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 64 ? `${JSON.stringify(value.slice(0, 64))}…` : JSON.stringify(value);
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : String(value);
}

function isGone(err: unknown): boolean {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const status = e.$metadata?.httpStatusCode;
  return e.name === 'GoneException' || e.name === 'NotFoundException' || status === 410 || status === 404;
}

async function* connectionIds(pages: AsyncIterable<readonly { connectionId: string }[]>): AsyncGenerator<string[]> {
  for await (const page of pages) yield page.map((item) => item.connectionId);
}

/** The client behind `createGatewayClient`. Its building blocks are built on first use. */
export class DefaultGatewayClient implements GatewayClient {
  private readonly options: GatewayClientOptions;
  private readonly env: Env;
  private readonly clock: Clock;
  private readonly settings = new Map<Setting, unknown>();
  private document: DynamoDBDocumentClient | undefined;
  private connectionStore: ConnectionStore | undefined;
  private poster: Messenger | undefined;
  private management: ApiGatewayManagementApiClient | undefined;
  private logger: Logger | undefined;
  private sqs: SQSClient | undefined;

  constructor(options: GatewayClientOptions = {}, clock: Clock = systemClock) {
    this.options = options;
    this.env = options.env ?? process.env;
    this.clock = clock;
  }

  async recordConnection(event: unknown, options: RecordConnectionOptions = {}): Promise<ConnectionRecord> {
    const facts = readEvent(event);
    if (!facts.connectionId) {
      throw new InvalidArgumentError('the event has no requestContext.connectionId; pass the $connect event Lambda received');
    }
    const userId = options.userId !== undefined ? checkUserId(options.userId) : facts.principalId;
    if (!userId) {
      throw new InvalidArgumentError(
        'the event has no requestContext.authorizer.principalId (no authorizer on $connect?); pass { userId } to recordConnection',
      );
    }
    const ttl = options.ttlSeconds !== undefined ? checkTtl(options.ttlSeconds, 'ttlSeconds') : this.setting('connectionTtlSeconds');
    const store = this.store();
    const now = this.clock();
    const record: ConnectionRecord = {
      connectionId: facts.connectionId,
      userId,
      connectedAt: facts.connectedAt ?? now,
      ...(facts.sourceIp ? { sourceIp: facts.sourceIp } : {}),
      expiresAt: epochSeconds(now) + ttl,
    };
    await store.putConnection(record);
    return record;
  }

  async removeConnection(connectionId: string): Promise<number> {
    const id = checkConnectionId(connectionId);
    return this.store().deleteConnection(id);
  }

  async getConnection(connectionId: string): Promise<ConnectionRecord | undefined> {
    const id = checkConnectionId(connectionId);
    return this.store().getConnection(id);
  }

  async joinRoom(connectionId: string, room: string, options: JoinRoomOptions = {}): Promise<Membership> {
    const id = checkConnectionId(connectionId);
    const name = checkRoom(room);
    const given = options.userId !== undefined ? checkUserId(options.userId) : undefined;
    const ttl = this.setting('connectionTtlSeconds');
    const store = this.store();
    let userId = given;
    if (userId === undefined) {
      const record = await store.getConnection(id);
      if (!record) {
        throw new ConnectionGoneError(id, `connection ${id} is not recorded (it may have expired or disconnected); it cannot join room ${name}`);
      }
      userId = record.userId;
    }
    const now = this.clock();
    const membership: Membership = { connectionId: id, room: name, userId, joinedAt: now, expiresAt: epochSeconds(now) + ttl };
    await store.joinRoom(membership);
    return membership;
  }

  async leaveRoom(connectionId: string, room: string): Promise<boolean> {
    const id = checkConnectionId(connectionId);
    const name = checkRoom(room);
    return this.store().leaveRoom(id, name);
  }

  async roomMembers(room: string): Promise<RoomMember[]> {
    const name = checkRoom(room);
    this.setting('roomIndex');
    const members: RoomMember[] = [];
    for await (const page of this.store().roomMembers(name)) members.push(...page);
    return members;
  }

  async send(connectionId: string, data: MessageData): Promise<PostOutcome> {
    const id = checkConnectionId(connectionId);
    const text = messageText(data);
    return this.messenger().post(id, text);
  }

  async sendToRoom(room: string, data: MessageData): Promise<SendCounts> {
    const name = checkRoom(room);
    const text = messageText(data);
    const roomIndex = this.setting('roomIndex');
    const messenger = this.messenger();
    const queueUrl = this.setting('deliveryQueueUrl');
    if (queueUrl !== undefined) return this.deliver(await planRoom({ ...this.plannerOptions(), roomIndex }, name), text, queueUrl);
    return messenger.fanOut(connectionIds(this.store().roomMembers(name)), text);
  }

  async broadcast(data: MessageData): Promise<SendCounts> {
    const text = messageText(data);
    const messenger = this.messenger();
    const queueUrl = this.setting('deliveryQueueUrl');
    if (queueUrl !== undefined) return this.deliver(await planBroadcast(this.plannerOptions()), text, queueUrl);
    return messenger.fanOut(connectionIds(this.store().connections()), text);
  }

  /** Posts to a small audience directly; enqueues a delivery job for a large one. */
  private async deliver(plan: Plan, text: string, queueUrl: string): Promise<SendCounts> {
    if (plan.kind === 'direct') return this.messenger().fanOut([plan.connectionIds], text);
    this.sqs ??= this.options.sqsClient ?? new SQSClient({});
    const job = await enqueueJob({ client: this.sqs, queueUrl }, text, plan.shards);
    this.log().info('delivery_job_enqueued', { jobId: job.jobId, shards: job.shards, recipients: plan.recipients });
    return { delivered: 0, gone: 0, failed: 0, queued: plan.recipients, jobId: job.jobId, shards: job.shards };
  }

  private plannerOptions(): PlannerOptions {
    return {
      client: this.documentClient(),
      tableName: this.setting('tableName'),
      shardedAbove: this.setting('shardedAbove'),
      shardSize: this.setting('shardSize'),
      ...(this.options.pageSize !== undefined ? { pageSize: this.options.pageSize } : {}),
      clock: this.clock,
    };
  }

  async close(connectionId: string): Promise<CloseOutcome> {
    const id = checkConnectionId(connectionId);
    const client = this.managementClient();
    try {
      await client.send(new DeleteConnectionCommand({ ConnectionId: id }));
      return 'closed';
    } catch (err) {
      if (isGone(err)) return 'gone';
      throw err;
    }
  }

  /** The connection store on the table (built on first use). */
  store(): ConnectionStore {
    if (!this.connectionStore) {
      const tableName = this.setting('tableName');
      const roomIndex = this.optionalSetting('roomIndex');
      this.connectionStore = new ConnectionStore({
        client: this.documentClient(),
        tableName,
        ...(roomIndex !== undefined ? { roomIndex } : {}),
        ...(this.options.pageSize !== undefined ? { pageSize: this.options.pageSize } : {}),
        clock: this.clock,
      });
    }
    return this.connectionStore;
  }

  /** The messenger on the `@connections` endpoint, removing gone connections from the table (built on first use). */
  messenger(): Messenger {
    if (!this.poster) {
      const client = this.managementClient();
      const store = this.store();
      this.poster = new Messenger({
        client,
        removeConnection: (id) => store.deleteConnection(id),
        concurrency: this.setting('fanoutConcurrency'),
        ...(this.options.maxSendAttempts !== undefined ? { maxAttempts: this.options.maxSendAttempts } : {}),
        ...(this.options.retryBaseMs !== undefined ? { retryBaseMs: this.options.retryBaseMs } : {}),
        log: this.log(),
      });
    }
    return this.poster;
  }

  private managementClient(): ApiGatewayManagementApiClient {
    if (!this.management) {
      const callbackUrl = this.setting('callbackUrl');
      this.management = this.options.managementClient ?? createManagementClient(callbackUrl);
    }
    return this.management;
  }

  private documentClient(): DynamoDBDocumentClient {
    if (!this.document) {
      const given = this.options.dynamoClient;
      this.document =
        given === undefined
          ? createDocumentClient()
          : given instanceof DynamoDBDocumentClient
            ? given
            : DynamoDBDocumentClient.from(given, { marshallOptions: { removeUndefinedValues: true } });
    }
    return this.document;
  }

  private log(): Logger {
    this.logger ??= this.options.log ?? createLogger({ component: 'wsgate-runtime' });
    return this.logger;
  }

  /** A setting from the options, else the environment; a ConfigurationError names the variable. */
  private setting<K extends Setting>(key: K): HandlerConfig[K] {
    if (!this.settings.has(key)) this.settings.set(key, this.resolve(key));
    return this.settings.get(key) as HandlerConfig[K];
  }

  /** Like `setting`, but undefined when neither the option nor the variable is set. */
  private optionalSetting<K extends Setting>(key: K): HandlerConfig[K] | undefined {
    try {
      return this.setting(key);
    } catch (err) {
      if (err instanceof ConfigurationError) return undefined;
      throw err;
    }
  }

  private resolve(key: Setting): unknown {
    const given = this.options[key];
    if (given === undefined) return readConfig(this.env, [key as ConfigKey])[key];
    // An option is checked by the same rule as its variable.
    try {
      return readConfig({ [CONFIG_VARIABLES[key]]: String(given) }, [key as ConfigKey])[key];
    } catch (err) {
      throw new ConfigurationError(`option ${key} (in place of ${CONFIG_VARIABLES[key]}) is invalid: ${(err as Error).message}`);
    }
  }
}

/**
 * A client of the gateway's connections table and `@connections` endpoint. Create it once at module scope:
 * creating it never throws and makes no AWS call; settings are read when a method first needs them.
 */
export function createGatewayClient(options: GatewayClientOptions = {}): GatewayClient {
  return new DefaultGatewayClient(options);
}
