/** Lambda entry point for the `sendmessage` route. Wiring only; the logic is lambda/chat/routes/send-message-route.ts. */
import { systemClock } from '../../runtime/clock';
import { readConfig } from '../../runtime/config';
import { DefaultGatewayClient } from '../../runtime/gateway-client';
import { createLogger } from '../../runtime/log';
import { createMessagingWiring } from '../../runtime/messaging-wiring';
import { createSendMessageHandler } from '../routes/send-message-route';

const config = readConfig(process.env, ['tableName', 'roomIndex', 'callbackUrl', 'fanoutConcurrency', 'deliveryQueueUrl', 'shardedAbove', 'shardSize']);
const log = createLogger({ handler: 'sendmessage' });

/** With sharded delivery on (DELIVERY_QUEUE_URL set), large audiences are enqueued for the delivery workers. */
function shardedDelivery(queueUrl: string) {
  const gateway = new DefaultGatewayClient({ ...config, deliveryQueueUrl: queueUrl, log, env: {} });
  return (room: string | null, frame: string) => (room === null ? gateway.broadcast(frame) : gateway.sendToRoom(room, frame));
}

export const handler = createSendMessageHandler({
  ...createMessagingWiring({ ...config, log }),
  ...(config.deliveryQueueUrl !== undefined ? { deliver: shardedDelivery(config.deliveryQueueUrl) } : {}),
  clock: systemClock,
  log,
});
