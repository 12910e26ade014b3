/** Lambda entry point for the `sendmessage` route. Wiring only; the logic is lambda/shared/routes/send-message-route.ts. */
import { systemClock } from '../shared/clock';
import { readConfig } from '../shared/config';
import { createLogger } from '../shared/log';
import { createMessagingWiring } from '../shared/messaging-wiring';
import { createSendMessageHandler } from '../shared/routes/send-message-route';

const config = readConfig(process.env, ['tableName', 'roomIndex', 'callbackUrl', 'fanoutConcurrency']);
const log = createLogger({ handler: 'sendmessage' });

export const handler = createSendMessageHandler({
  ...createMessagingWiring({ ...config, log }),
  clock: systemClock,
  log,
});
