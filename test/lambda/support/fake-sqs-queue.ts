/**
 * A small real HTTP server answering SendMessageBatch in the SQS JSON protocol (with the body MD5s the SDK checks),
 * so the real `@aws-sdk/client-sqs` client can enqueue delivery jobs in tests. No real SQS (no ElasticMQ): it keeps
 * the messages it accepted; the tests hand them to the delivery worker as Lambda's event source mapping would.
 */
import { createHash } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { SQSClient } from '@aws-sdk/client-sqs';
import { TEST_CREDENTIALS } from './local-dynamodb';

export interface FakeQueue {
  readonly url: string;
  /** A client on this server with `maxAttempts: 1`. */
  readonly client: SQSClient;
  /** Bodies of accepted messages, in order. */
  readonly bodies: string[];
  /** Entries and bytes of each SendMessageBatch request. */
  readonly batches: { entries: number; bytes: number; ids: string[] }[];
  /** The next `n` entries are refused (`senderFault` false: retryable; true: a permanent refusal). */
  refuseNext(n: number, refusal?: { senderFault?: boolean; code?: string; message?: string }): void;
  /** Every request the server received. */
  readonly requestCount: number;
  drain(): string[];
  stop(): Promise<void>;
}

export async function startFakeQueue(): Promise<FakeQueue> {
  const bodies: string[] = [];
  const batches: { entries: number; bytes: number; ids: string[] }[] = [];
  let refuse = 0;
  let refusal: { senderFault?: boolean; code?: string; message?: string } = {};
  let requestCount = 0;
  const server: Server = createServer((req, res) => {
    requestCount++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Entries: { Id: string; MessageBody: string }[] };
      if (target !== 'AmazonSQS.SendMessageBatch') {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ __type: 'com.amazonaws.sqs#InvalidAction', message: target }));
        return;
      }
      batches.push({ entries: input.Entries.length, bytes: input.Entries.reduce((n, e) => n + Buffer.byteLength(e.MessageBody), 0), ids: input.Entries.map((e) => e.Id) });
      const Successful: unknown[] = [];
      const Failed: unknown[] = [];
      for (const entry of input.Entries) {
        if (refuse > 0) {
          refuse--;
          Failed.push({
            Id: entry.Id,
            SenderFault: refusal.senderFault ?? false,
            ...(refusal.code !== undefined ? { Code: refusal.code } : {}),
            ...(refusal.message !== undefined ? { Message: refusal.message } : {}),
          });
          continue;
        }
        bodies.push(entry.MessageBody);
        Successful.push({ Id: entry.Id, MessageId: `m-${bodies.length}`, MD5OfMessageBody: createHash('md5').update(entry.MessageBody).digest('hex') });
      }
      // Like SQS, an answer without refusals carries no Failed list.
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ Successful, ...(Failed.length > 0 ? { Failed } : {}) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new SQSClient({ endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  return {
    url: `${endpoint}/123456789012/wsgate-delivery`,
    client,
    bodies,
    batches,
    refuseNext: (n, how = { code: 'InternalError', message: 'try again' }) => {
      refuse = n;
      refusal = how;
    },
    get requestCount() {
      return requestCount;
    },
    drain: () => bodies.splice(0, bodies.length),
    stop: () =>
      new Promise<void>((resolve) => {
        client.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
