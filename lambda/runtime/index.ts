/**
 * `wsgate/runtime`: what a Lambda function behind a wsgate WebSocket gateway uses to record connections, manage
 * rooms, send to clients and close connections. Everything is typed; nothing here imports aws-cdk-lib.
 */
export {
  createGatewayClient,
  type GatewayClient,
  type GatewayClientOptions,
  type RecordConnectionOptions,
  type JoinRoomOptions,
  type SendCounts,
  type CloseOutcome,
  type MessageData,
} from './gateway-client';
export { readIdentity, type ConnectionIdentity, type ContextValue } from './read-identity';
export { WsgateError, InvalidArgumentError, ConfigurationError, MessageTooLargeError, ConnectionGoneError } from './errors';
export {
  ConnectionStore,
  type ConnectionStoreOptions,
  type ConnectionRecord,
  type Membership,
  type RoomMember,
} from './connection-store';
export { Messenger, type MessengerOptions, type PostOutcome, type FanOutCounts } from './messenger';
export type { Logger, LogFields, LogLevel } from './log';
export { LIMITS, ENV, TABLE, ROOM_NAME } from '../../contract/gateway-contract';
