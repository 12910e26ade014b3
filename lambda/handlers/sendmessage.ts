/** Lambda entry point for the `sendmessage` route. Wiring only; the logic is lambda/shared/routes/send-message-route.ts. */
import { systemClock } from '../shared/clock';
import { readConfig } from '../shared/config';
import { ConnectionStore } from '../shared/connection-store';
import { createDocumentClient } from '../shared/dynamo-client';
import { createLogger } from '../shared/log';
import { createManagementClient } from '../shared/management-client';
import { Messenger } from '../shared/messenger';
import { createSendMessageHandler } from '../shared/routes/send-message-route';

const config = readConfig(process.env, ['tableName', 'roomIndex', 'callbackUrl', 'fanoutConcurrency']);
const log = createLogger({ handler: 'sendmessage' });
const store = new ConnectionStore({ client: createDocumentClient(), tableName: config.tableName, roomIndex: config.roomIndex });

export const handler = createSendMessageHandler({
  store,
  messenger: new Messenger({
    client: createManagementClient(config.callbackUrl),
    removeConnection: (id) => store.deleteConnection(id),
    concurrency: config.fanoutConcurrency,
    log,
  }),
  clock: systemClock,
  log,
});
