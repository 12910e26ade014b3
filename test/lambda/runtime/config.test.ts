/** The handlers' settings from the environment (lambda/runtime/config.ts). Pure functions. */
import { ConfigError, DEFAULT_CONNECTION_TTL_SECONDS, DEFAULT_FANOUT_CONCURRENCY, readConfig } from '../../../lambda/runtime/config';
import { ConfigurationError } from '../../../lambda/runtime/errors';
import { LIMITS } from '../../../contract/gateway-contract';

describe('config: readConfig', () => {
  const full = {
    CONNECTIONS_TABLE: 'Table',
    ROOM_INDEX: 'byRoom',
    CALLBACK_URL: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/',
    CONNECTION_TTL_SECONDS: '600',
    SUBPROTOCOLS: ' chat.v2, chat.v1 ,',
    ROUTE_KEYS: 'join,leave',
    FANOUT_CONCURRENCY: '5',
  };

  test('GIVEN every variable WHEN read THEN each is parsed (lists trimmed, URL without trailing slash)', () => {
    expect(readConfig(full, ['tableName', 'roomIndex', 'callbackUrl', 'connectionTtlSeconds', 'subprotocols', 'routeKeys', 'fanoutConcurrency'])).toEqual({
      tableName: 'Table',
      roomIndex: 'byRoom',
      callbackUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod',
      connectionTtlSeconds: 600,
      subprotocols: ['chat.v2', 'chat.v1'],
      routeKeys: ['join', 'leave'],
      fanoutConcurrency: 5,
    });
  });

  test('GIVEN the optional variables unset WHEN read THEN the documented defaults apply', () => {
    expect(readConfig({}, ['connectionTtlSeconds', 'fanoutConcurrency', 'subprotocols', 'routeKeys'])).toEqual({
      connectionTtlSeconds: DEFAULT_CONNECTION_TTL_SECONDS,
      fanoutConcurrency: DEFAULT_FANOUT_CONCURRENCY,
      subprotocols: [],
      routeKeys: [],
    });
  });

  test('GIVEN a handler that needs only the table WHEN read THEN other variables are not required', () => {
    expect(readConfig({ CONNECTIONS_TABLE: 'T' }, ['tableName'])).toEqual({ tableName: 'T' });
  });

  test.each([
    [{ ...full, CONNECTIONS_TABLE: undefined }, /CONNECTIONS_TABLE is not set; it must hold the connections table name/],
    [{ ...full, CONNECTIONS_TABLE: '  ' }, /CONNECTIONS_TABLE is not set/],
    [{ ...full, ROOM_INDEX: '' }, /ROOM_INDEX is not set/],
    [{ ...full, CALLBACK_URL: undefined }, /CALLBACK_URL is not set/],
    [{ ...full, CALLBACK_URL: 'abc123.execute-api' }, /CALLBACK_URL is "abc123.execute-api", which is not a URL/],
    [{ ...full, CALLBACK_URL: 'wss://abc/prod' }, /CALLBACK_URL uses "wss:"; expected an https:\/\//],
    [{ ...full, CONNECTION_TTL_SECONDS: 'two hours' }, /CONNECTION_TTL_SECONDS is "two hours"; expected a whole number/],
    [{ ...full, CONNECTION_TTL_SECONDS: '0' }, /CONNECTION_TTL_SECONDS is "0"/],
    [{ ...full, FANOUT_CONCURRENCY: '-3' }, /FANOUT_CONCURRENCY is "-3"; expected a whole number from 1 to 1000/],
    [{ ...full, FANOUT_CONCURRENCY: '1.5' }, /FANOUT_CONCURRENCY is "1.5"/],
  ])('GIVEN a bad environment WHEN read THEN a ConfigError names the variable (%#)', (env, pattern) => {
    const read = () => readConfig(env, ['tableName', 'roomIndex', 'callbackUrl', 'connectionTtlSeconds', 'fanoutConcurrency']);
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(pattern);
  });

  test('GIVEN a missing variable WHEN read THEN the error is the runtime\'s typed ConfigurationError telling to wire the function', () => {
    // GIVEN / WHEN
    const read = () => readConfig({}, ['callbackUrl']);
    // THEN
    expect(read).toThrow(ConfigurationError);
    expect(read).toThrow(/CALLBACK_URL is not set.*wire this function to the gateway/);
    expect.assertions(3);
    try {
      read();
    } catch (err) {
      expect((err as ConfigurationError).code).toBe('CONFIGURATION');
    }
  });
});

describe('config: boundaries and the sharded-delivery settings', () => {
  test('GIVEN values at the ends of their ranges, padded with spaces WHEN read THEN they are accepted as numbers', () => {
    expect(readConfig({ FANOUT_CONCURRENCY: ' 1 ', CONNECTION_TTL_SECONDS: String(LIMITS.maxConnectionTtlSeconds) }, ['fanoutConcurrency', 'connectionTtlSeconds'])).toEqual({
      fanoutConcurrency: 1,
      connectionTtlSeconds: LIMITS.maxConnectionTtlSeconds,
    });
    expect(readConfig({ FANOUT_CONCURRENCY: String(LIMITS.maxFanoutConcurrency) }, ['fanoutConcurrency'])).toEqual({ fanoutConcurrency: LIMITS.maxFanoutConcurrency });
  });

  test('GIVEN a value one over its maximum WHEN read THEN a ConfigError names the range', () => {
    expect(() => readConfig({ FANOUT_CONCURRENCY: String(LIMITS.maxFanoutConcurrency + 1) }, ['fanoutConcurrency'])).toThrow(/FANOUT_CONCURRENCY is "1001"; expected a whole number from 1 to 1000/);
    expect(() => readConfig({ SHARD_SIZE: String(LIMITS.maxShardSize + 1) }, ['shardSize'])).toThrow(/SHARD_SIZE is "100001"; expected a whole number from 1 to 100000/);
  });

  test('GIVEN a local http:// callback URL with trailing slashes WHEN read THEN it is accepted without them', () => {
    expect(readConfig({ CALLBACK_URL: 'http://127.0.0.1:3001/prod//' }, ['callbackUrl'])).toEqual({ callbackUrl: 'http://127.0.0.1:3001/prod' });
  });

  test('GIVEN no delivery variables WHEN read THEN there is no queue and the documented threshold and shard size apply', () => {
    expect(readConfig({ DELIVERY_QUEUE_URL: '  ' }, ['deliveryQueueUrl', 'shardedAbove', 'shardSize'])).toEqual({
      deliveryQueueUrl: undefined,
      shardedAbove: LIMITS.defaultShardedAbove,
      shardSize: LIMITS.defaultShardSize,
    });
  });

  test('GIVEN the delivery variables WHEN read THEN the queue URL, a threshold of 0 (always shard) and the shard size are parsed', () => {
    const env = { DELIVERY_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/delivery', SHARDED_ABOVE: ' 0 ', SHARD_SIZE: '250' };
    expect(readConfig(env, ['deliveryQueueUrl', 'shardedAbove', 'shardSize'])).toEqual({
      deliveryQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/delivery',
      shardedAbove: 0,
      shardSize: 250,
    });
  });

  test.each([
    [{ SHARDED_ABOVE: '-1' }, /SHARDED_ABOVE is "-1"; expected a whole number from 0 to 9007199254740991/],
    [{ SHARDED_ABOVE: '1.5' }, /SHARDED_ABOVE is "1.5"/],
    [{ SHARDED_ABOVE: '12abc' }, /SHARDED_ABOVE is "12abc"/],
    [{ SHARDED_ABOVE: 'x12' }, /SHARDED_ABOVE is "x12"/],
    [{ SHARDED_ABOVE: '9007199254740993' }, /SHARDED_ABOVE is "9007199254740993"/],
    [{ DELIVERY_QUEUE_URL: 'delivery-queue' }, /DELIVERY_QUEUE_URL is "delivery-queue", which is not a URL/],
  ])('GIVEN a bad delivery variable WHEN read THEN a ConfigError names it (%#)', (env, pattern) => {
    expect(() => readConfig(env, ['deliveryQueueUrl', 'shardedAbove'])).toThrow(pattern);
  });

  test('GIVEN SHARDED_ABOVE at the largest safe integer WHEN read THEN it is accepted', () => {
    expect(readConfig({ SHARDED_ABOVE: String(Number.MAX_SAFE_INTEGER) }, ['shardedAbove'])).toEqual({ shardedAbove: Number.MAX_SAFE_INTEGER });
  });
});
