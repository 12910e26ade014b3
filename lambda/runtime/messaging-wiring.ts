/**
 * The module-scope wiring shared by every bundled handler that posts back to clients: a connection store on the
 * table and a messenger on the stage's `@connections` endpoint that removes stale (410) connections, which the
 * route logic in lambda/{gateway,chat}/routes/ uses. Built once per Lambda instance.
 *
 * Built from the store and messenger directly, not through the gateway client: that client also carries sharded
 * delivery (the SQS client), which join, leave and `$default` never use and would otherwise bundle.
 */
import { ConnectionStore } from './connection-store';
import { createDocumentClient } from './dynamo-client';
import { Logger } from './log';
import { createManagementClient } from './management-client';
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
  const store = new ConnectionStore({
    client: createDocumentClient(),
    tableName: options.tableName,
    ...(options.roomIndex !== undefined ? { roomIndex: options.roomIndex } : {}),
  });
  const messenger = new Messenger({
    client: createManagementClient(options.callbackUrl),
    removeConnection: (id) => store.deleteConnection(id),
    ...(options.fanoutConcurrency !== undefined ? { concurrency: options.fanoutConcurrency } : {}),
    log: options.log,
  });
  return { store, messenger };
}
