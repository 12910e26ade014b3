/** Lambda entry point for the `leave` route. Wiring only; the logic is lambda/shared/routes/leave-route.ts. */
import { systemClock } from '../shared/clock';
import { readConfig } from '../shared/config';
import { createLogger } from '../shared/log';
import { createMessagingWiring } from '../shared/messaging-wiring';
import { createLeaveHandler } from '../shared/routes/leave-route';

const config = readConfig(process.env, ['tableName', 'roomIndex', 'callbackUrl']);
const log = createLogger({ handler: 'leave' });

export const handler = createLeaveHandler({
  ...createMessagingWiring({ ...config, log }),
  clock: systemClock,
  log,
});
