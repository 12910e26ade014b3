/** Lambda entry point for the `leave` route. Wiring only; the logic is lambda/shared/routes/leave-route.ts. */
import { systemClock } from '../shared/clock';
import { readConfig } from '../shared/config';
import { ConnectionStore } from '../shared/connection-store';
import { createDocumentClient } from '../shared/dynamo-client';
import { createLogger } from '../shared/log';
import { createManagementClient } from '../shared/management-client';
import { Messenger } from '../shared/messenger';
import { createLeaveHandler } from '../shared/routes/leave-route';

const config = readConfig(process.env, ['tableName', 'roomIndex', 'callbackUrl']);
const log = createLogger({ handler: 'leave' });
const store = new ConnectionStore({ client: createDocumentClient(), tableName: config.tableName, roomIndex: config.roomIndex });

export const handler = createLeaveHandler({
  store,
  messenger: new Messenger({
    client: createManagementClient(config.callbackUrl),
    removeConnection: (id) => store.deleteConnection(id),
    log,
  }),
  clock: systemClock,
  log,
});
