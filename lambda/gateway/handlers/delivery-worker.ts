/** Lambda entry point of the delivery worker (SQS event source). Wiring only; the logic is lambda/runtime/delivery/worker.ts. */
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import { systemClock } from '../../runtime/clock';
import { readConfig } from '../../runtime/config';
import { createDocumentClient } from '../../runtime/dynamo-client';
import { createLogger } from '../../runtime/log';
import { createMessagingWiring } from '../../runtime/messaging-wiring';
import { createDeliveryWorkerHandler } from '../../runtime/delivery/worker';

const config = readConfig(process.env, ['tableName', 'roomIndex', 'callbackUrl', 'fanoutConcurrency', 'deliveryQueueUrl']);
const sqs = new SQSClient({});
const queueUrl = config.deliveryQueueUrl;
const log = createLogger({ handler: 'delivery-worker' });

export const handler = createDeliveryWorkerHandler({
  client: createDocumentClient(),
  tableName: config.tableName,
  roomIndex: config.roomIndex,
  messenger: createMessagingWiring({ ...config, log }).messenger,
  log,
  clock: systemClock,
  // A paused shard is received again at once instead of after the visibility timeout.
  ...(queueUrl !== undefined
    ? {
        releaseForRetry: async (record: { receiptHandle?: string }) => {
          if (record.receiptHandle) {
            await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: 0 }));
          }
        },
      }
    : {}),
});
