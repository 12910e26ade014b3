/** Lambda entry point for the `join` route. Wiring only; the logic is lambda/chat/routes/join-route.ts. */
import { systemClock } from '../../runtime/clock';
import { readConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/log';
import { createMessagingWiring } from '../../runtime/messaging-wiring';
import { createJoinHandler } from '../routes/join-route';

const config = readConfig(process.env, ['tableName', 'roomIndex', 'callbackUrl', 'connectionTtlSeconds']);
const log = createLogger({ handler: 'join' });

export const handler = createJoinHandler({
  ...createMessagingWiring({ ...config, log }),
  clock: systemClock,
  log,
  connectionTtlSeconds: config.connectionTtlSeconds,
});
