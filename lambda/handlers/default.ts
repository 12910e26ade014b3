/** Lambda entry point for `$default`. Wiring only; the logic is lambda/shared/routes/default-route.ts. */
import { readConfig } from '../shared/config';
import { ConnectionStore } from '../shared/connection-store';
import { createDocumentClient } from '../shared/dynamo-client';
import { createLogger } from '../shared/log';
import { createManagementClient } from '../shared/management-client';
import { Messenger } from '../shared/messenger';
import { createDefaultHandler } from '../shared/routes/default-route';

const config = readConfig(process.env, ['tableName', 'callbackUrl', 'routeKeys']);
const log = createLogger({ handler: 'default' });
const store = new ConnectionStore({ client: createDocumentClient(), tableName: config.tableName });

export const handler = createDefaultHandler({
  // A sender that is already gone has its records removed, like any stale connection.
  messenger: new Messenger({
    client: createManagementClient(config.callbackUrl),
    removeConnection: (id) => store.deleteConnection(id),
    log,
  }),
  log,
  routeKeys: config.routeKeys,
});
