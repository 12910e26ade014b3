/** Lambda entry point for `$connect`. Wiring only; the logic is lambda/gateway/routes/connect-route.ts. */
import { systemClock } from '../../runtime/clock';
import { readConfig } from '../../runtime/config';
import { ConnectionStore } from '../../runtime';
import { createDocumentClient } from '../../runtime/dynamo-client';
import { createLogger } from '../../runtime/log';
import { createConnectHandler } from '../routes/connect-route';

const config = readConfig(process.env, ['tableName', 'connectionTtlSeconds', 'subprotocols']);

export const handler = createConnectHandler({
  store: new ConnectionStore({ client: createDocumentClient(), tableName: config.tableName }),
  clock: systemClock,
  log: createLogger({ handler: 'connect' }),
  connectionTtlSeconds: config.connectionTtlSeconds,
  subprotocols: config.subprotocols,
});
