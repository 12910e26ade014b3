/**
 * The emulator's SQS endpoint: answers the AWS JSON 1.0 protocol the AWS SDK for JavaScript v3 speaks
 * (`X-Amz-Target: AmazonSQS.{Operation}`) for the template's queues (local/services/sqs-queue.ts). Errors carry
 * SQS's JSON shape (`__type`, `message`, and the `x-amzn-query-error` header), so the SDK throws its typed errors
 * (`QueueDoesNotExist`, `ReceiptHandleIsInvalid`...). With local IAM every call is SigV4-verified and checked for
 * `sqs:{Operation}` on the queue's ARN; a missing grant is `AccessDenied` (HTTP 403) naming the action and resource.
 *
 * Functions reach it through the emulator's port (their HTTPS connections to `sqs.{region}.amazonaws.com` are
 * redirected there, so a QueueUrl taken from the template works unchanged); tools use `endpoint` directly.
 */
import * as http from 'node:http';
import { readBody } from '../gateway/http-responses';
import type { IamAuthority } from '../iam/credentials';
import { credentialScope, type SigV4Failure } from '../iam/sigv4';
import { invalidParameter, queueDoesNotExist, SqsBroker, SqsError, type MessageAttributeValue, type QueueSettings, type SqsQueue, type StoredMessage } from './sqs-queue';
import { listenOnLoopback } from './loopback';

export interface SqsServiceOptions {
  readonly queues: readonly QueueSettings[];
  /** Verifies signatures and checks `sqs:{Operation}` on the queue ARN. @default - any caller is answered */
  readonly iam?: IamAuthority;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly accountId?: string;
  readonly log?: (line: string) => void;
}

export interface SqsService {
  /** `http://127.0.0.1:PORT`: the endpoint for an SQSClient of a test or tool. */
  readonly endpoint: string;
  readonly broker: SqsBroker;
  /** Answers an SQS request received elsewhere (the emulator's own port). */
  handle(req: http.IncomingMessage, res: http.ServerResponse): void;
  close(): Promise<void>;
}

/** Total bytes of one batch request's messages (SendMessageBatch). */
const MAX_BATCH_BYTES = 262_144;
const MAX_REQUEST_BYTES = 2 * 1024 * 1024;

type Input = Record<string, unknown>;

const OPERATIONS = [
  'SendMessage', 'SendMessageBatch', 'ReceiveMessage', 'DeleteMessage', 'DeleteMessageBatch',
  'ChangeMessageVisibility', 'ChangeMessageVisibilityBatch', 'GetQueueUrl', 'GetQueueAttributes', 'SetQueueAttributes', 'PurgeQueue', 'ListQueues',
] as const;
type Operation = (typeof OPERATIONS)[number];

/** Batch calls are authorized as their single form (sqs:SendMessage covers SendMessageBatch). */
const ACTION_OF: Partial<Record<Operation, string>> = {
  SendMessageBatch: 'SendMessage', DeleteMessageBatch: 'DeleteMessage', ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

/** The query-protocol code and status SQS gives each signature failure (its common errors). */
const SIGNATURE_ERRORS: Record<SigV4Failure['errorType'], [string, number]> = {
  MissingAuthenticationTokenException: ['MissingAuthenticationToken', 403],
  IncompleteSignatureException: ['IncompleteSignature', 400],
  InvalidSignatureException: ['SignatureDoesNotMatch', 403],
  UnrecognizedClientException: ['InvalidClientTokenId', 403],
};

const SYSTEM_ATTRIBUTES = ['ApproximateReceiveCount', 'SentTimestamp', 'SenderId', 'ApproximateFirstReceiveTimestamp'] as const;

function str(input: Input, key: string): string | undefined {
  const v = input[key];
  return typeof v === 'string' ? v : undefined;
}

function int(input: Input, key: string, min: number, max: number): number | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw invalidParameter(`Value ${String(v)} for parameter ${key} is invalid. Reason: Must be between ${min} and ${max}.`);
  }
  return n;
}

function required(input: Input, key: string): string {
  const v = str(input, key);
  if (v === undefined || v === '') throw new SqsError('MissingParameter', 'MissingParameter', 400, `The request must contain the parameter ${key}.`);
  return v;
}

function parseAttributes(raw: unknown): Record<string, MessageAttributeValue> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object') throw invalidParameter('MessageAttributes must be a map');
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(raw as Record<string, Record<string, unknown>>)) {
    const dataType = typeof value?.DataType === 'string' ? value.DataType : '';
    if (!/^(String|Number|Binary)(\..+)?$/.test(dataType)) {
      throw new SqsError('InvalidParameterValueException', 'InvalidParameterValue', 400, `The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`);
    }
    const isBinary = dataType.startsWith('Binary');
    const v = isBinary ? value.BinaryValue : value.StringValue;
    if (typeof v !== 'string' || v === '') {
      throw new SqsError('InvalidParameterValueException', 'InvalidParameterValue', 400, `Message (user) attribute '${name}' must contain a non-empty value of message attribute type '${dataType}'.`);
    }
    out[name] = isBinary ? { DataType: dataType, BinaryValue: v } : { DataType: dataType, StringValue: v };
  }
  return out;
}

function wanted(names: unknown, available: readonly string[]): string[] {
  if (!Array.isArray(names)) return [];
  if (names.includes('All') || names.includes('.*')) return [...available];
  return available.filter((a) => names.some((n) => n === a || (typeof n === 'string' && n.endsWith('.*') && a.startsWith(n.slice(0, -1)))));
}

/** The JSON of one received message, with the system and message attributes asked for. */
function messageJson(message: StoredMessage, receiptHandle: string, input: Input): Record<string, unknown> {
  const systemNames = wanted([...((input.MessageSystemAttributeNames as unknown[]) ?? []), ...((input.AttributeNames as unknown[]) ?? [])], SYSTEM_ATTRIBUTES);
  const system: Record<string, string> = {};
  for (const name of systemNames) {
    if (name === 'ApproximateReceiveCount') system[name] = String(message.receiveCount);
    if (name === 'SentTimestamp') system[name] = String(message.sentTimestamp);
    if (name === 'SenderId') system[name] = message.senderId;
    if (name === 'ApproximateFirstReceiveTimestamp') system[name] = String(message.firstReceiveTimestamp ?? message.sentTimestamp);
  }
  const attributeNames = wanted(input.MessageAttributeNames, Object.keys(message.attributes));
  const attributes = Object.fromEntries(attributeNames.map((n) => [n, message.attributes[n]]));
  return {
    MessageId: message.messageId,
    ReceiptHandle: receiptHandle,
    MD5OfBody: message.md5OfBody,
    Body: message.body,
    ...(systemNames.length > 0 ? { Attributes: system } : {}),
    ...(attributeNames.length > 0 ? { MessageAttributes: attributes, MD5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
  };
}

/** The queue attributes GetQueueAttributes knows, as strings. */
export function queueAttributes(queue: SqsQueue): Record<string, string> {
  const counts = queue.counts();
  return {
    QueueArn: queue.arn,
    ApproximateNumberOfMessages: String(counts.visible),
    ApproximateNumberOfMessagesNotVisible: String(counts.notVisible),
    ApproximateNumberOfMessagesDelayed: String(counts.delayed),
    VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(queue.messageRetentionSeconds),
    MaximumMessageSize: String(queue.maximumMessageSize),
    DelaySeconds: String(queue.delaySeconds),
    ReceiveMessageWaitTimeSeconds: String(queue.receiveMessageWaitTimeSeconds),
    CreatedTimestamp: String(queue.createdTimestamp),
    LastModifiedTimestamp: String(queue.lastModifiedTimestamp),
    ...(queue.redrive ? { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: queue.redrive.deadLetterTargetArn, maxReceiveCount: queue.redrive.maxReceiveCount }) } : {}),
  };
}

type BatchEntry = Record<string, unknown> & { Id: string };

function batchEntries(input: Input): BatchEntry[] {
  const entries = input.Entries;
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new SqsError('EmptyBatchRequest', 'AWS.SimpleQueueService.EmptyBatchRequest', 400, 'There should be at least one SendMessageBatchRequestEntry in the request.');
  }
  if (entries.length > 10) {
    throw new SqsError('TooManyEntriesInBatchRequest', 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest', 400, `Maximum number of entries per request are 10. You have sent ${entries.length}.`);
  }
  const ids = new Set<string>();
  for (const entry of entries as BatchEntry[]) {
    if (typeof entry?.Id !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(entry.Id)) {
      throw new SqsError('InvalidBatchEntryId', 'AWS.SimpleQueueService.InvalidBatchEntryId', 400, 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.');
    }
    if (ids.has(entry.Id)) {
      throw new SqsError('BatchEntryIdsNotDistinct', 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct', 400, `Id ${entry.Id} repeated.`);
    }
    ids.add(entry.Id);
  }
  return entries as BatchEntry[];
}

/** Runs each entry; an SqsError of one entry becomes its `Failed` line (SenderFault true), as SQS answers batches. */
function perEntry(entries: BatchEntry[], run: (entry: BatchEntry) => Record<string, unknown>): { Successful: unknown[]; Failed: unknown[] } {
  const Successful: unknown[] = [];
  const Failed: unknown[] = [];
  for (const entry of entries) {
    try {
      Successful.push({ Id: entry.Id, ...run(entry) });
    } catch (err) {
      if (!(err instanceof SqsError)) throw err;
      Failed.push({ Id: entry.Id, SenderFault: true, Code: err.queryCode, Message: err.message });
    }
  }
  return { Successful, Failed };
}

export async function startSqsService(options: SqsServiceOptions): Promise<SqsService> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const broker = new SqsBroker(options.queues);
  const log = options.log ?? (() => undefined);
  /** Long polls in progress, ended at close. */
  const polls = new AbortController();

  const arnOf = (input: Input, operation: Operation): string => {
    if (operation === 'ListQueues') return '*';
    if (operation === 'GetQueueUrl') {
      const name = str(input, 'QueueName') ?? '';
      return broker.byName(name)?.arn ?? `arn:aws:sqs:${region}:${str(input, 'QueueOwnerAWSAccountId') ?? accountId}:${name}`;
    }
    const url = str(input, 'QueueUrl') ?? '';
    const known = broker.byUrl(url);
    if (known) return known.arn;
    const parts = url.replace(/\/$/, '').split('/');
    return `arn:aws:sqs:${region}:${parts[parts.length - 2] ?? accountId}:${parts[parts.length - 1] ?? ''}`;
  };

  const queueOf = (input: Input): SqsQueue => {
    const queue = broker.byUrl(required(input, 'QueueUrl'));
    if (!queue) throw queueDoesNotExist();
    return queue;
  };

  async function run(operation: Operation, input: Input, senderId: string): Promise<unknown> {
    switch (operation) {
      case 'SendMessage': {
        const queue = queueOf(input);
        const message = queue.send(required(input, 'MessageBody'), {
          attributes: parseAttributes(input.MessageAttributes),
          delaySeconds: int(input, 'DelaySeconds', 0, 900),
          senderId,
        });
        return { MessageId: message.messageId, MD5OfMessageBody: message.md5OfBody, ...(message.md5OfMessageAttributes ? { MD5OfMessageAttributes: message.md5OfMessageAttributes } : {}) };
      }
      case 'SendMessageBatch': {
        const queue = queueOf(input);
        const entries = batchEntries(input);
        const total = entries.reduce((sum, e) => sum + Buffer.byteLength(typeof e.MessageBody === 'string' ? e.MessageBody : '', 'utf8'), 0);
        if (total > MAX_BATCH_BYTES) {
          throw new SqsError('BatchRequestTooLong', 'AWS.SimpleQueueService.BatchRequestTooLong', 400, `Batch requests cannot be longer than ${MAX_BATCH_BYTES} bytes. You have sent ${total} bytes.`);
        }
        return perEntry(entries, (entry) => {
          const message = queue.send(required(entry, 'MessageBody'), {
            attributes: parseAttributes(entry.MessageAttributes),
            delaySeconds: int(entry, 'DelaySeconds', 0, 900),
            senderId,
          });
          return { MessageId: message.messageId, MD5OfMessageBody: message.md5OfBody, ...(message.md5OfMessageAttributes ? { MD5OfMessageAttributes: message.md5OfMessageAttributes } : {}) };
        });
      }
      case 'ReceiveMessage': {
        const queue = queueOf(input);
        const max = int(input, 'MaxNumberOfMessages', 1, 10) ?? 1;
        const visibility = int(input, 'VisibilityTimeout', 0, 43_200);
        const waitSeconds = int(input, 'WaitTimeSeconds', 0, 20) ?? queue.receiveMessageWaitTimeSeconds;
        const deadline = Date.now() + waitSeconds * 1000;
        let received = queue.receive(max, visibility);
        while (received.length === 0 && Date.now() < deadline && !polls.signal.aborted) {
          await queue.waitForMessages(deadline - Date.now(), polls.signal);
          received = queue.receive(max, visibility);
        }
        return { Messages: received.map((r) => messageJson(r.message, r.receiptHandle, input)) };
      }
      case 'DeleteMessage':
        queueOf(input).delete(required(input, 'ReceiptHandle'));
        return {};
      case 'DeleteMessageBatch': {
        const queue = queueOf(input);
        return perEntry(batchEntries(input), (entry) => {
          queue.delete(required(entry, 'ReceiptHandle'));
          return {};
        });
      }
      case 'ChangeMessageVisibility':
        queueOf(input).changeVisibility(required(input, 'ReceiptHandle'), int(input, 'VisibilityTimeout', 0, 43_200) ?? 0);
        return {};
      case 'ChangeMessageVisibilityBatch': {
        const queue = queueOf(input);
        return perEntry(batchEntries(input), (entry) => {
          queue.changeVisibility(required(entry, 'ReceiptHandle'), int(entry, 'VisibilityTimeout', 0, 43_200) ?? 0);
          return {};
        });
      }
      case 'GetQueueUrl': {
        const queue = broker.byName(required(input, 'QueueName'));
        if (!queue) throw queueDoesNotExist();
        return { QueueUrl: queue.url };
      }
      case 'GetQueueAttributes': {
        const all = queueAttributes(queueOf(input));
        const names = wanted(input.AttributeNames, Object.keys(all));
        return { Attributes: Object.fromEntries(names.map((n) => [n, all[n]])) };
      }
      case 'SetQueueAttributes': {
        const attributes = input.Attributes;
        if (typeof attributes !== 'object' || attributes === null) throw new SqsError('MissingParameter', 'MissingParameter', 400, 'The request must contain the parameter Attributes.');
        queueOf(input).setAttributes(attributes as Record<string, string>);
        return {};
      }
      case 'PurgeQueue':
        queueOf(input).purge();
        return {};
      case 'ListQueues': {
        const prefix = str(input, 'QueueNamePrefix') ?? '';
        return { QueueUrls: broker.all.filter((q) => q.name.startsWith(prefix)).map((q) => q.url) };
      }
    }
  }

  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    void readBody(req, MAX_REQUEST_BYTES).then((received) => {
      const reply = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
        if (res.headersSent || res.destroyed) return;
        const text = JSON.stringify(body);
        res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.0', 'Content-Length': String(Buffer.byteLength(text)), 'x-amzn-RequestId': cryptoId(), ...headers });
        res.end(text);
      };
      const fail = (err: SqsError): void =>
        reply(err.status, { __type: err.errorName.includes('#') ? err.errorName : `com.amazonaws.sqs#${err.errorName}`, message: err.message }, {
          'x-amzn-query-error': `${err.queryCode};Sender`,
        });
      void (async () => {
        if (received === undefined) {
          return fail(new SqsError('InvalidParameterValueException', 'InvalidParameterValue', 400, `The request is larger than the local SQS reads (${MAX_REQUEST_BYTES} bytes).`));
        }
        const body = received;
        const target = String(req.headers['x-amz-target'] ?? '');
        const operation = target.replace(/^AmazonSQS\./, '') as Operation;
        if (!target.startsWith('AmazonSQS.') || !OPERATIONS.includes(operation)) {
          return fail(new SqsError('UnsupportedOperation', 'AWS.SimpleQueueService.UnsupportedOperation', 400,
            `The wsgate emulator's SQS answers ${OPERATIONS.join(', ')} (AWS JSON protocol), not ${target || '(no X-Amz-Target)'}`));
        }
        let input: Input;
        try {
          input = body.length > 0 ? JSON.parse(body.toString('utf8')) : {};
        } catch {
          return fail(new SqsError('InvalidParameterValueException', 'InvalidParameterValue', 400, 'The request body is not valid JSON.'));
        }
        let senderId = credentialScope(req.headers.authorization).accessKeyId ?? 'AIDAWSGATELOCALSENDER';
        if (options.iam) {
          const action = `sqs:${ACTION_OF[operation] ?? operation}`;
          const outcome = options.iam.authorize(
            { method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers, body }, 'sqs', action, [arnOf(input, operation)],
          );
          if (!outcome.ok) {
            if (outcome.kind === 'signature') {
              const [code, status] = SIGNATURE_ERRORS[outcome.failure.errorType];
              return fail(new SqsError(`com.amazon.coral.service#${outcome.failure.errorType}`, code, status, outcome.failure.message));
            }
            return fail(new SqsError('com.amazon.coral.service#AccessDeniedException', 'AccessDenied', 403, outcome.message));
          }
          senderId = outcome.identity.arn.includes(':assumed-role/')
            ? `AROA${outcome.identity.accessKeyId.slice(4, 20)}:${outcome.identity.arn.split('/').pop()}`
            : outcome.identity.accessKeyId;
        }
        try {
          reply(200, await run(operation, input, senderId));
        } catch (err) {
          if (err instanceof SqsError) return fail(err);
          log(`SQS ${operation} failed: ${(err as Error).stack ?? err}`);
          reply(500, { __type: 'com.amazonaws.sqs#InternalError', message: (err as Error).message }, { 'x-amzn-query-error': 'InternalError;Receiver' });
        }
      })();
    }, () => res.destroy()); // the client's request broke off: nothing to answer
  };

  const server = http.createServer(handle);
  const port = await listenOnLoopback(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    broker,
    handle,
    close: () => new Promise<void>((resolve) => {
      polls.abort();
      broker.close();
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}

let requestCounter = 0;
function cryptoId(): string {
  requestCounter = (requestCounter + 1) % 0xffffffff;
  return `00000000-0000-4000-8000-${requestCounter.toString(16).padStart(12, '0')}`;
}
