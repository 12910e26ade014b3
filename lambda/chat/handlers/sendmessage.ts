/** Lambda entry point for the `sendmessage` route. Wiring only; the logic is lambda/chat/routes/send-message-route.ts. */
import { systemClock } from '../../runtime/clock';
import { readConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/log';
import { createMessagingWiring } from '../../runtime/messaging-wiring';
import { createSendMessageHandler } from '../routes/send-message-route';

const config = readConfig(process.env, ['tableName', 'roomIndex', 'callbackUrl', 'fanoutConcurrency']);
const log = createLogger({ handler: 'sendmessage' });

export const handler = createSendMessageHandler({
  ...createMessagingWiring({ ...config, log }),
  clock: systemClock,
  log,
});
