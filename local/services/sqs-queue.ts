/**
 * In-memory SQS standard queues for the emulator: messages with visibility timeouts, receive counts, delays,
 * retention and redrive to a dead-letter queue after `maxReceiveCount` receives, as Amazon SQS documents them.
 * `SqsBroker` holds the queues of the assembly; `local/services/sqs-service.ts` answers the SDK's wire protocol
 * with it, and `local/runtime/sqs-event-source.ts` polls it in-process for Lambda event source mappings.
 *
 * Local choices (documented in local/gateway/README.md): ordering is first-in first-out and a message is never
 * delivered twice while it is invisible (AWS standard queues may reorder and, rarely, deliver twice); FIFO queues
 * are served as standard queues; only the most recent receipt handle of a message deletes it.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';

/** The queue settings of the template (AWS::SQS::Queue), with CloudFormation's defaults applied. */
export interface QueueSettings {
  readonly queueName: string;
  /** `https://sqs.{region}.amazonaws.com/{account}/{name}`. */
  readonly queueUrl: string;
  readonly arn: string;
  /** @default 30 */
  readonly visibilityTimeoutSeconds?: number;
  /** @default 345600 (4 days) */
  readonly messageRetentionSeconds?: number;
  /** Body plus message attributes, in bytes. @default 262144 (256 KiB) */
  readonly maximumMessageSize?: number;
  /** @default 0 */
  readonly delaySeconds?: number;
  /** @default 0 */
  readonly receiveMessageWaitTimeSeconds?: number;
  /** RedrivePolicy: the dead-letter queue's ARN and the receives after which a message moves there. @default - none */
  readonly redrive?: { readonly deadLetterTargetArn: string; readonly maxReceiveCount: number };
}

export interface MessageAttributeValue {
  readonly DataType: string;
  readonly StringValue?: string;
  /** Base64, as the JSON protocol carries it. */
  readonly BinaryValue?: string;
}

export interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly attributes: Readonly<Record<string, MessageAttributeValue>>;
  readonly md5OfMessageAttributes?: string;
  readonly sentTimestamp: number;
  readonly senderId: string;
  firstReceiveTimestamp?: number;
  receiveCount: number;
  /** Epoch ms from which it may be received. */
  visibleAt: number;
  /** The handle of its latest receive (only that one deletes it or changes its visibility). */
  receiptHandle?: string;
}

/** A message as one receive hands it out. */
export interface ReceivedMessage {
  readonly message: StoredMessage;
  readonly receiptHandle: string;
}

/** An error of the SQS API: its SDK error name (the JSON `__type`), the query-compatible code, HTTP status. */
export class SqsError extends Error {
  constructor(readonly errorName: string, readonly queryCode: string, readonly status: number, message: string) {
    super(message);
    this.name = errorName;
  }
}

export const queueDoesNotExist = (): SqsError =>
  new SqsError('QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 400, 'The specified queue does not exist.');
export const invalidParameter = (message: string): SqsError =>
  new SqsError('InvalidParameterValueException', 'InvalidParameterValue', 400, message);

export const md5Hex = (data: string | Buffer): string => createHash('md5').update(data).digest('hex');

/**
 * MD5OfMessageAttributes as SQS computes it: for each attribute in name order, the name, the data type (each as a
 * 4-byte big-endian length and UTF-8 bytes), a transport byte (1 string, 2 binary) and the value (length + bytes).
 */
export function md5OfMessageAttributes(attributes: Readonly<Record<string, MessageAttributeValue>>): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const parts: Buffer[] = [];
  const withLength = (bytes: Buffer): void => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  };
  for (const name of names) {
    const value = attributes[name];
    withLength(Buffer.from(name, 'utf8'));
    withLength(Buffer.from(value.DataType, 'utf8'));
    if (value.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]));
      withLength(Buffer.from(value.BinaryValue, 'base64'));
    } else {
      parts.push(Buffer.from([1]));
      withLength(Buffer.from(value.StringValue ?? '', 'utf8'));
    }
  }
  return md5Hex(Buffer.concat(parts));
}

/** Bytes a message counts against MaximumMessageSize: the body and every attribute's name, type and value. */
export function messageSize(body: string, attributes: Readonly<Record<string, MessageAttributeValue>>): number {
  let size = Buffer.byteLength(body, 'utf8');
  for (const [name, value] of Object.entries(attributes)) {
    size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value.DataType, 'utf8');
    size += value.BinaryValue !== undefined ? Buffer.from(value.BinaryValue, 'base64').length : Buffer.byteLength(value.StringValue ?? '', 'utf8');
  }
  return size;
}

type Waiter = () => void;

export class SqsQueue {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  /** The settings SetQueueAttributes may change. */
  visibilityTimeoutSeconds: number;
  messageRetentionSeconds: number;
  maximumMessageSize: number;
  delaySeconds: number;
  receiveMessageWaitTimeSeconds: number;
  lastModifiedTimestamp: number;
  readonly redrive?: { readonly deadLetterTargetArn: string; readonly maxReceiveCount: number };
  readonly createdTimestamp = Math.floor(Date.now() / 1000);
  /** Insertion order is delivery order. */
  private readonly messages = new Map<string, StoredMessage>();
  private readonly handles = new Map<string, StoredMessage>();
  private waiters: Waiter[] = [];
  private timer?: NodeJS.Timeout;
  private timerAt = Infinity;
  private closed = false;

  constructor(settings: QueueSettings, private readonly broker: SqsBroker, private readonly now: () => number) {
    this.name = settings.queueName;
    this.url = settings.queueUrl;
    this.arn = settings.arn;
    this.visibilityTimeoutSeconds = settings.visibilityTimeoutSeconds ?? 30;
    this.messageRetentionSeconds = settings.messageRetentionSeconds ?? 345_600;
    this.maximumMessageSize = settings.maximumMessageSize ?? 262_144;
    this.delaySeconds = settings.delaySeconds ?? 0;
    this.receiveMessageWaitTimeSeconds = settings.receiveMessageWaitTimeSeconds ?? 0;
    this.lastModifiedTimestamp = this.createdTimestamp;
    if (settings.redrive) this.redrive = settings.redrive;
  }

  /** Adds a message (SendMessage); throws SqsError for a message over the size limit or a bad delay. */
  send(body: string, options: { attributes?: Record<string, MessageAttributeValue>; delaySeconds?: number; senderId: string }): StoredMessage {
    const attributes = options.attributes ?? {};
    if (body.length === 0) throw new SqsError('MissingParameter', 'MissingParameter', 400, 'The request must contain the parameter MessageBody.');
    const size = messageSize(body, attributes);
    if (size > this.maximumMessageSize) {
      throw invalidParameter(`One or more parameters are invalid. Reason: Message must be shorter than ${this.maximumMessageSize} bytes.`);
    }
    if (Object.keys(attributes).length > 10) throw invalidParameter('Number of message attributes [' + Object.keys(attributes).length + '] exceeds the allowed maximum [10].');
    const delay = options.delaySeconds ?? this.delaySeconds;
    if (!Number.isInteger(delay) || delay < 0 || delay > 900) {
      throw invalidParameter(`Value ${delay} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.`);
    }
    const md5Attributes = md5OfMessageAttributes(attributes);
    const message: StoredMessage = {
      messageId: randomUUID(),
      body,
      md5OfBody: md5Hex(body),
      attributes,
      ...(md5Attributes ? { md5OfMessageAttributes: md5Attributes } : {}),
      sentTimestamp: this.now(),
      senderId: options.senderId,
      receiveCount: 0,
      visibleAt: this.now() + delay * 1000,
    };
    this.messages.set(message.messageId, message);
    this.changed();
    return message;
  }

  /** A message redriven from its source queue keeps its id, body, attributes and sent timestamp. */
  adopt(message: StoredMessage): void {
    const moved: StoredMessage = { ...message, receiveCount: 0, visibleAt: this.now(), receiptHandle: undefined, firstReceiveTimestamp: undefined };
    this.messages.set(moved.messageId, moved);
    this.changed();
  }

  /**
   * Receives up to `max` visible messages, each hidden for `visibilityTimeoutSeconds` with a new receipt handle.
   * A message already received `maxReceiveCount` times moves to the dead-letter queue instead.
   */
  receive(max: number, visibilityTimeoutSeconds = this.visibilityTimeoutSeconds): ReceivedMessage[] {
    this.expire();
    const now = this.now();
    const out: ReceivedMessage[] = [];
    for (const message of this.messages.values()) {
      if (out.length >= max) break;
      if (message.visibleAt > now) continue;
      if (this.redrive && message.receiveCount >= this.redrive.maxReceiveCount) {
        const target = this.broker.byArn(this.redrive.deadLetterTargetArn);
        if (target) {
          this.remove(message);
          target.adopt(message);
          continue;
        }
      }
      if (message.receiptHandle) this.handles.delete(message.receiptHandle);
      message.receiveCount += 1;
      message.firstReceiveTimestamp ??= now;
      message.visibleAt = now + visibilityTimeoutSeconds * 1000;
      message.receiptHandle = `${Buffer.from(this.name).toString('base64url')}.${randomBytes(24).toString('base64url')}`;
      this.handles.set(message.receiptHandle, message);
      out.push({ message, receiptHandle: message.receiptHandle });
    }
    if (out.length > 0) this.schedule();
    return out;
  }

  /** Waits until a message may be receivable, the timeout passes or the queue closes. */
  waitForMessages(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.closed || timeoutMs <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(timeout);
        signal?.removeEventListener('abort', finish);
        this.waiters = this.waiters.filter((w) => w !== finish);
        resolve();
      };
      const timeout = setTimeout(finish, timeoutMs);
      signal?.addEventListener('abort', finish);
      this.waiters.push(finish);
      this.schedule();
    });
  }

  /** Deletes the message of `receiptHandle` (DeleteMessage). An outdated handle of a redelivered message deletes nothing. */
  delete(receiptHandle: string): void {
    const message = this.lookup(receiptHandle);
    if (message && message.receiptHandle === receiptHandle) this.remove(message);
  }

  /** ChangeMessageVisibility: the message becomes visible `seconds` from now. */
  changeVisibility(receiptHandle: string, seconds: number): void {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 43_200) {
      throw invalidParameter(`Value ${seconds} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.`);
    }
    const message = this.lookup(receiptHandle);
    if (!message || message.receiptHandle !== receiptHandle || message.visibleAt <= this.now()) {
      throw new SqsError('MessageNotInflight', 'AWS.SimpleQueueService.MessageNotInflight', 400, 'Message does not exist or is not available for visibility timeout change.');
    }
    message.visibleAt = this.now() + seconds * 1000;
    this.changed();
  }

  /** SetQueueAttributes: the settings a queue's owner may change, each checked against SQS's range. */
  setAttributes(attributes: Record<string, string>): void {
    const ranges: Record<string, [number, number, (v: number) => void]> = {
      VisibilityTimeout: [0, 43_200, (v) => (this.visibilityTimeoutSeconds = v)],
      MessageRetentionPeriod: [60, 1_209_600, (v) => (this.messageRetentionSeconds = v)],
      MaximumMessageSize: [1024, 1_048_576, (v) => (this.maximumMessageSize = v)],
      DelaySeconds: [0, 900, (v) => (this.delaySeconds = v)],
      ReceiveMessageWaitTimeSeconds: [0, 20, (v) => (this.receiveMessageWaitTimeSeconds = v)],
    };
    const checked: Array<() => void> = [];
    for (const [name, raw] of Object.entries(attributes)) {
      const range = ranges[name];
      if (!range) throw new SqsError('InvalidAttributeName', 'InvalidAttributeName', 400, `Unknown Attribute ${name}.`);
      const value = Number(raw);
      if (!Number.isInteger(value) || value < range[0] || value > range[1]) {
        throw new SqsError('InvalidAttributeValue', 'InvalidAttributeValue', 400, `Invalid value for the parameter ${name}.`);
      }
      checked.push(() => range[2](value));
    }
    for (const apply of checked) apply();
    this.lastModifiedTimestamp = Math.floor(this.now() / 1000);
  }

  /** Makes a message received with `receiptHandle` visible again at once (a poller that stopped before invoking). */
  release(receiptHandle: string): void {
    const message = this.handles.get(receiptHandle);
    if (message && message.receiptHandle === receiptHandle) {
      message.visibleAt = this.now();
      this.changed();
    }
  }

  purge(): void {
    this.messages.clear();
    this.handles.clear();
  }

  counts(): { visible: number; notVisible: number; delayed: number } {
    this.expire();
    const now = this.now();
    let visible = 0;
    let notVisible = 0;
    let delayed = 0;
    for (const message of this.messages.values()) {
      if (message.visibleAt <= now) visible++;
      else if (message.receiveCount === 0) delayed++;
      else notVisible++;
    }
    return { visible, notVisible, delayed };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const waiter of [...this.waiters]) waiter();
  }

  private lookup(receiptHandle: string): StoredMessage | undefined {
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{32}$/.test(receiptHandle)) {
      throw new SqsError('ReceiptHandleIsInvalid', 'ReceiptHandleIsInvalid', 404, `The input receipt handle "${receiptHandle}" is not a valid receipt handle.`);
    }
    return this.handles.get(receiptHandle);
  }

  private remove(message: StoredMessage): void {
    this.messages.delete(message.messageId);
    if (message.receiptHandle) this.handles.delete(message.receiptHandle);
  }

  /** Drops messages older than the retention period. */
  private expire(): void {
    const oldest = this.now() - this.messageRetentionSeconds * 1000;
    for (const message of this.messages.values()) if (message.sentTimestamp < oldest) this.remove(message);
  }

  /** Something may be receivable now: wake the waiters. */
  private changed(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Wakes the waiters when the next hidden message becomes visible. */
  private schedule(): void {
    if (this.waiters.length === 0 || this.closed) return;
    const now = this.now();
    let next = Infinity;
    for (const message of this.messages.values()) {
      if (message.visibleAt <= now) return this.changed();
      next = Math.min(next, message.visibleAt);
    }
    if (next === Infinity || next >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => {
      this.timerAt = Infinity;
      this.changed();
      this.schedule();
    }, Math.max(0, next - now) + 1);
    this.timer.unref?.();
  }
}

/** The queues of the assembly, found by URL, name or ARN. */
export class SqsBroker {
  private readonly queues: SqsQueue[] = [];

  constructor(settings: readonly QueueSettings[], now: () => number = Date.now) {
    for (const s of settings) this.queues.push(new SqsQueue(s, this, now));
  }

  get all(): readonly SqsQueue[] {
    return this.queues;
  }

  byArn(arn: string): SqsQueue | undefined {
    return this.queues.find((q) => q.arn === arn);
  }

  byName(name: string): SqsQueue | undefined {
    return this.queues.find((q) => q.name === name);
  }

  /** By queue URL: any host (the AWS URL or the local endpoint), matched on `/{account}/{name}`. */
  byUrl(url: string): SqsQueue | undefined {
    let pathname: string;
    try {
      pathname = new URL(url).pathname;
    } catch {
      return undefined;
    }
    return this.queues.find((q) => new URL(q.url).pathname === pathname.replace(/\/$/, ''));
  }

  close(): void {
    for (const q of this.queues) q.close();
  }
}
