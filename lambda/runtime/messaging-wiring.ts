/**
 * The module-scope wiring shared by every bundled handler that posts back to clients: the runtime's gateway client
 * on the settings the handler read, whose connection store and messenger (which removes stale, 410, connections)
 * the route logic in lambda/{gateway,chat}/routes/ uses.
 * Built once per Lambda instance.
 */
import { ConnectionStore } from './connection-store';
import { DefaultGatewayClient } from './gateway-client';
import { Logger } from './log';
import { Messenger } from './messenger';

export interface MessagingWiringOptions {
  readonly tableName: string;
  /** Needed by routes that list a room's members. */
  readonly roomIndex?: string;
  readonly callbackUrl: string;
  readonly log: Logger;
  /** @default the messenger's own default */
  readonly fanoutConcurrency?: number;
}

export interface MessagingWiring {
  readonly store: ConnectionStore;
  readonly messenger: Messenger;
}

export function createMessagingWiring(options: MessagingWiringOptions): MessagingWiring {
  const gateway = new DefaultGatewayClient({
    tableName: options.tableName,
    callbackUrl: options.callbackUrl,
    log: options.log,
    ...(options.roomIndex !== undefined ? { roomIndex: options.roomIndex } : {}),
    ...(options.fanoutConcurrency !== undefined ? { fanoutConcurrency: options.fanoutConcurrency } : {}),
    // Only the settings above: a variable the handler did not read is never looked up.
    env: {},
  });
  return { store: gateway.store(), messenger: gateway.messenger() };
}
