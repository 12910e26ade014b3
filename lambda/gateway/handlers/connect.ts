/** Lambda entry point for `$connect`. Wiring only; the logic is lambda/shared/routes/connect-route.ts. */
import { systemClock } from '../shared/clock';
import { readConfig } from '../shared/config';
import { ConnectionStore } from '../shared/connection-store';
import { createDocumentClient } from '../shared/dynamo-client';
import { createLogger } from '../shared/log';
import { createConnectHandler } from '../shared/routes/connect-route';

const config = readConfig(process.env, ['tableName', 'connectionTtlSeconds', 'subprotocols']);

export const handler = createConnectHandler({
  store: new ConnectionStore({ client: createDocumentClient(), tableName: config.tableName }),
  clock: systemClock,
  log: createLogger({ handler: 'connect' }),
  connectionTtlSeconds: config.connectionTtlSeconds,
  subprotocols: config.subprotocols,
});
