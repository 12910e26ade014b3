/** Lambda entry point for the `join` route. Wiring only; the logic is lambda/shared/routes/join-route.ts. */
import { systemClock } from '../shared/clock';
import { readConfig } from '../shared/config';
import { createLogger } from '../shared/log';
import { createMessagingWiring } from '../shared/messaging-wiring';
import { createJoinHandler } from '../shared/routes/join-route';

const config = readConfig(process.env, ['tableName', 'roomIndex', 'callbackUrl', 'connectionTtlSeconds']);
const log = createLogger({ handler: 'join' });

export const handler = createJoinHandler({
  ...createMessagingWiring({ ...config, log }),
  clock: systemClock,
  log,
  connectionTtlSeconds: config.connectionTtlSeconds,
});
