/** Lambda entry point for `$default`. Wiring only; the logic is lambda/gateway/routes/default-route.ts. */
import { readConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/log';
import { createMessagingWiring } from '../../runtime/messaging-wiring';
import { createDefaultHandler } from '../routes/default-route';

const config = readConfig(process.env, ['tableName', 'callbackUrl', 'routeKeys']);
const log = createLogger({ handler: 'default' });
// A sender that is already gone has its records removed, like any stale connection.
const { messenger } = createMessagingWiring({ ...config, log });

export const handler = createDefaultHandler({
  messenger,
  log,
  routeKeys: config.routeKeys,
});
