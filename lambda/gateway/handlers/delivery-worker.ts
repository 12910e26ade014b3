/** Lambda entry point of the delivery worker (SQS event source). Wiring only; the logic is lambda/runtime/delivery/worker.ts. */
import { systemClock } from '../../runtime/clock';
import { readConfig } from '../../runtime/config';
import { createDocumentClient } from '../../runtime/dynamo-client';
import { createLogger } from '../../runtime/log';
import { createMessagingWiring } from '../../runtime/messaging-wiring';
import { createDeliveryWorkerHandler } from '../../runtime/delivery/worker';

const config = readConfig(process.env, ['tableName', 'roomIndex', 'callbackUrl', 'fanoutConcurrency']);
const log = createLogger({ handler: 'delivery-worker' });

export const handler = createDeliveryWorkerHandler({
  client: createDocumentClient(),
  tableName: config.tableName,
  roomIndex: config.roomIndex,
  messenger: createMessagingWiring({ ...config, log }).messenger,
  log,
  clock: systemClock,
});
