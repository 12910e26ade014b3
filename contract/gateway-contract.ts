/**
 * The values the constructs (lib/) and the runtime (lambda/) must agree on, in one place both import.
 * lib/ writes these into the functions' environment and the table's schema; lambda/ reads them back.
 * Internal to wsgate: not part of the public construct API (nothing here is exported from lib/index.ts).
 */

/** Environment variables the gateway sets on the functions it wires, and the runtime reads. */
export const ENV = {
  /** The connections table's name. */
  tableName: 'CONNECTIONS_TABLE',
  /** Name of the table's global secondary index keyed by room. */
  roomIndex: 'ROOM_INDEX',
  /** The stage's `@connections` endpoint, `https://{apiId}.execute-api.{region}.{urlSuffix}/{stage}`. */
  callbackUrl: 'CALLBACK_URL',
  /** Lifetime written into the TTL attribute of connection and membership items, in seconds. */
  connectionTtlSeconds: 'CONNECTION_TTL_SECONDS',
  /** Subprotocols `$connect` accepts, comma-separated, in order of preference. */
  subprotocols: 'SUBPROTOCOLS',
  /** The API's custom route keys, comma-separated (named in `$default` error frames). */
  routeKeys: 'ROUTE_KEYS',
  /** The most `PostToConnection` calls one invocation makes at once. */
  fanoutConcurrency: 'FANOUT_CONCURRENCY',
  /** Sharded delivery: URL of the delivery queue; unset = every send is delivered directly by the function itself. */
  deliveryQueueUrl: 'DELIVERY_QUEUE_URL',
  /** Sharded delivery: audiences larger than this many recipients are enqueued as a delivery job. */
  shardedAbove: 'SHARDED_ABOVE',
  /** Sharded delivery: recipients per shard (one queue message, one worker invocation). */
  shardSize: 'SHARD_SIZE',
  /** Authorizer: where the token is read, `querystring:<name>` or `header:<name>`. */
  tokenSource: 'TOKEN_SOURCE',
  /** Authorizer: the `iss` a token must carry. */
  jwtIssuer: 'JWT_ISSUER',
  /** Authorizer: the `aud` a token must carry. */
  jwtAudience: 'JWT_AUDIENCE',
  /** Authorizer: the JWKS URL that RS256/ES256 tokens are verified against. */
  jwksUrl: 'JWKS_URL',
  /** Authorizer: ARN of the Secrets Manager secret holding the HS256 key. */
  jwtSecretArn: 'JWT_SECRET_ARN',
} as const;

/** The connections table's schema. */
export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** TTL attribute (epoch seconds) on every item. */
  ttlAttribute: 'expiresAt',
  /** The sparse GSI keyed by room (partition `room`, sort `connectionId`). */
  roomIndexName: 'byRoom',
  roomIndexPartitionKey: 'room',
  roomIndexSortKey: 'connectionId',
  /** Attributes the room index projects besides its keys. */
  roomIndexProjection: ['userId', 'expiresAt'],
} as const;

/** Defaults and limits both sides apply. */
export const LIMITS = {
  /** API Gateway closes every connection after 2 hours; items live 5 minutes longer. */
  defaultConnectionTtlSeconds: 7500,
  /** The longest TTL accepted: one (leap) year. */
  maxConnectionTtlSeconds: 366 * 24 * 3600,
  defaultFanoutConcurrency: 20,
  maxFanoutConcurrency: 1000,
  /** Sharded delivery: audiences above this many recipients are enqueued. */
  defaultShardedAbove: 1000,
  /** Sharded delivery: recipients per shard. */
  defaultShardSize: 1000,
  /** The largest shard: one worker must post to it well inside its timeout. */
  maxShardSize: 100000,
  /** Progress items of delivery jobs (`job#<id>`) live this long: the delivery queue's retention period. */
  deliveryProgressTtlSeconds: 24 * 3600,
  /** The largest message `@connections` accepts, in bytes. */
  maxPostBytes: 131072,
} as const;

/** The CloudWatch metrics delivery workers write in embedded metric format (one JSON log line per shard run). */
export const DELIVERY_METRICS = {
  namespace: 'wsgate',
  /** The one dimension: the delivery queue's name. */
  queueDimension: 'DeliveryQueue',
  delivered: 'Delivered',
  gone: 'Gone',
  failed: 'Failed',
} as const;

/** The authorizer reads the token from this source unless the construct says otherwise. */
export const DEFAULT_TOKEN_SOURCE = { kind: 'querystring', name: 'token' } as const;

/** The `TOKEN_SOURCE` value for a token source (`querystring:token`, `header:Authorization`). */
export function tokenSourceValue(kind: 'querystring' | 'header', name: string): string {
  return `${kind}:${name}`;
}

/** A room name: 1 to 64 letters, digits, `.`, `_` or `-` (the runtime refuses any other before calling AWS). */
export const ROOM_NAME = /^[A-Za-z0-9._-]{1,64}$/;
