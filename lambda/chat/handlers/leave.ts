/** Lambda entry point for the `leave` route. Wiring only; the logic is lambda/chat/routes/leave-route.ts. */
import { systemClock } from '../../runtime/clock';
import { readConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/log';
import { createMessagingWiring } from '../../runtime/messaging-wiring';
import { createLeaveHandler } from '../routes/leave-route';

const config = readConfig(process.env, ['tableName', 'roomIndex', 'callbackUrl']);
const log = createLogger({ handler: 'leave' });

export const handler = createLeaveHandler({
  ...createMessagingWiring({ ...config, log }),
  clock: systemClock,
  log,
});
