/** Lambda entry point for `$disconnect`. Wiring only; the logic is lambda/shared/routes/disconnect-route.ts. */
import { readConfig } from '../shared/config';
import { ConnectionStore } from '../shared/connection-store';
import { createDocumentClient } from '../shared/dynamo-client';
import { createLogger } from '../shared/log';
import { createDisconnectHandler } from '../shared/routes/disconnect-route';

const config = readConfig(process.env, ['tableName', 'roomIndex']);

export const handler = createDisconnectHandler({
  store: new ConnectionStore({ client: createDocumentClient(), tableName: config.tableName, roomIndex: config.roomIndex }),
  log: createLogger({ handler: 'disconnect' }),
});
