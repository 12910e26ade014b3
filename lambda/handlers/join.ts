/** Lambda entry point for the `join` route. Wiring only; the logic is lambda/shared/routes/join-route.ts. */
import { systemClock } from '../shared/clock';
import { readConfig } from '../shared/config';
import { ConnectionStore } from '../shared/connection-store';
import { createDocumentClient } from '../shared/dynamo-client';
import { createLogger } from '../shared/log';
import { createManagementClient } from '../shared/management-client';
import { Messenger } from '../shared/messenger';
import { createJoinHandler } from '../shared/routes/join-route';

const config = readConfig(process.env, ['tableName', 'roomIndex', 'callbackUrl', 'connectionTtlSeconds']);
const log = createLogger({ handler: 'join' });
const store = new ConnectionStore({ client: createDocumentClient(), tableName: config.tableName, roomIndex: config.roomIndex });

export const handler = createJoinHandler({
  store,
  messenger: new Messenger({
    client: createManagementClient(config.callbackUrl),
    removeConnection: (id) => store.deleteConnection(id),
    log,
  }),
  clock: systemClock,
  log,
  connectionTtlSeconds: config.connectionTtlSeconds,
});
