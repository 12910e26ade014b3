/** Lambda entry point for `$disconnect`. Wiring only; the logic is lambda/gateway/routes/disconnect-route.ts. */
import { readConfig } from '../../runtime/config';
import { ConnectionStore } from '../../runtime';
import { createDocumentClient } from '../../runtime/dynamo-client';
import { createLogger } from '../../runtime/log';
import { createDisconnectHandler } from '../routes/disconnect-route';

const config = readConfig(process.env, ['tableName', 'roomIndex']);

export const handler = createDisconnectHandler({
  store: new ConnectionStore({ client: createDocumentClient(), tableName: config.tableName, roomIndex: config.roomIndex }),
  log: createLogger({ handler: 'disconnect' }),
});
