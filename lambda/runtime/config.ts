/**
 * Reads the handlers' environment, validates it, and names the variable when something is wrong.
 * The variable names, defaults and limits come from contract/gateway-contract.ts, which the constructs read too.
 */
import { ENV, LIMITS } from '../../contract/gateway-contract';
import { ConfigurationError } from './errors';

export interface HandlerConfig {
  /** CONNECTIONS_TABLE: the connections table name. */
  readonly tableName: string;
  /** ROOM_INDEX: name of the GSI keyed by room. */
  readonly roomIndex: string;
  /** CALLBACK_URL: the `@connections` endpoint, `https://{apiId}.execute-api.{region}.{urlSuffix}/{stage}`. */
  readonly callbackUrl: string;
  /** CONNECTION_TTL_SECONDS: lifetime written into `expiresAt`. */
  readonly connectionTtlSeconds: number;
  /** SUBPROTOCOLS: subprotocols `$connect` accepts, in order; empty = refuse any offered subprotocol. */
  readonly subprotocols: readonly string[];
  /** ROUTE_KEYS: custom route keys of the API, named in `$default` error frames. */
  readonly routeKeys: readonly string[];
  /** FANOUT_CONCURRENCY: maximum concurrent PostToConnection calls. */
  readonly fanoutConcurrency: number;
  /** DELIVERY_QUEUE_URL: the delivery queue of sharded delivery; undefined = every send is delivered directly. */
  readonly deliveryQueueUrl: string | undefined;
  /** SHARDED_ABOVE: audiences of more recipients than this are enqueued as a delivery job. */
  readonly shardedAbove: number;
  /** SHARD_SIZE: recipients per shard of a delivery job. */
  readonly shardSize: number;
}

export type ConfigKey = keyof HandlerConfig;
export type Env = Readonly<Record<string, string | undefined>>;

/** 2 h maximum connection duration plus 5 minutes. */
export const DEFAULT_CONNECTION_TTL_SECONDS = LIMITS.defaultConnectionTtlSeconds;
export const DEFAULT_FANOUT_CONCURRENCY = LIMITS.defaultFanoutConcurrency;

/** The error a bad setting raises (the runtime's public `ConfigurationError`). */
export const ConfigError = ConfigurationError;
export type ConfigError = ConfigurationError;

const WIRE_IT = 'wire this function to the gateway (the wsgate construct sets it) or pass the value as an option';

type Reader<T> = (env: Env) => T;

function required(name: string, meaning: string): Reader<string> {
  return (env) => {
    const value = env[name]?.trim();
    if (!value) {
      throw new ConfigError(`environment variable ${name} is not set; it must hold ${meaning}: ${WIRE_IT}`);
    }
    return value;
  };
}

function positiveInteger(name: string, fallback: number, max: number): Reader<number> {
  return (env) => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    if (!/^[0-9]+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
      throw new ConfigError(`environment variable ${name} is "${raw}"; expected a whole number from 1 to ${max}`);
    }
    return Number(raw);
  };
}

function commaList(name: string): Reader<readonly string[]> {
  return (env) =>
    (env[name] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
}

function httpUrl(name: string): Reader<string> {
  const read = required(name, 'the @connections endpoint URL, https://{apiId}.execute-api.{region}.{urlSuffix}/{stage}');
  return (env) => {
    const value = read(env);
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new ConfigError(`environment variable ${name} is "${value}", which is not a URL; expected https://{apiId}.execute-api.{region}.{urlSuffix}/{stage}`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new ConfigError(`environment variable ${name} uses "${url.protocol}"; expected an https:// (or local http://) URL`);
    }
    return value.replace(/\/+$/, '');
  };
}

function optionalUrl(name: string): Reader<string | undefined> {
  const read = httpUrl(name);
  return (env) => (env[name]?.trim() ? read(env) : undefined);
}

function wholeNumber(name: string, fallback: number, max: number): Reader<number> {
  return (env) => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    if (!/^[0-9]+$/.test(raw) || Number(raw) > max) {
      throw new ConfigError(`environment variable ${name} is "${raw}"; expected a whole number from 0 to ${max}`);
    }
    return Number(raw);
  };
}

const readers: { readonly [K in ConfigKey]: Reader<HandlerConfig[K]> } = {
  tableName: required(ENV.tableName, 'the connections table name'),
  roomIndex: required(ENV.roomIndex, 'the name of the GSI keyed by room'),
  callbackUrl: httpUrl(ENV.callbackUrl),
  connectionTtlSeconds: positiveInteger(ENV.connectionTtlSeconds, DEFAULT_CONNECTION_TTL_SECONDS, LIMITS.maxConnectionTtlSeconds),
  subprotocols: commaList(ENV.subprotocols),
  routeKeys: commaList(ENV.routeKeys),
  fanoutConcurrency: positiveInteger(ENV.fanoutConcurrency, DEFAULT_FANOUT_CONCURRENCY, LIMITS.maxFanoutConcurrency),
  deliveryQueueUrl: optionalUrl(ENV.deliveryQueueUrl),
  shardedAbove: wholeNumber(ENV.shardedAbove, LIMITS.defaultShardedAbove, Number.MAX_SAFE_INTEGER),
  shardSize: positiveInteger(ENV.shardSize, LIMITS.defaultShardSize, LIMITS.maxShardSize),
};

/** The environment variable a setting is read from. */
export const CONFIG_VARIABLES: { readonly [K in ConfigKey]: string } = {
  tableName: ENV.tableName,
  roomIndex: ENV.roomIndex,
  callbackUrl: ENV.callbackUrl,
  connectionTtlSeconds: ENV.connectionTtlSeconds,
  subprotocols: ENV.subprotocols,
  routeKeys: ENV.routeKeys,
  fanoutConcurrency: ENV.fanoutConcurrency,
  deliveryQueueUrl: ENV.deliveryQueueUrl,
  shardedAbove: ENV.shardedAbove,
  shardSize: ENV.shardSize,
};

/** Reads only the variables a handler needs; throws a ConfigError naming the first bad one. */
export function readConfig<K extends ConfigKey>(env: Env, keys: readonly K[]): Pick<HandlerConfig, K> {
  const config = {} as Record<ConfigKey, unknown>;
  for (const key of keys) config[key] = readers[key](env);
  return config as Pick<HandlerConfig, K>;
}
