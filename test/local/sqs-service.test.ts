/**
 * local/services/sqs-service.ts (+ sqs-queue.ts): the emulator's SQS, driven by the real SDK v3 SQSClient (which
 * checks MD5OfMessageBody on every send and receive) against the service alone. Visibility timeouts are a second
 * or less so redelivery is observed without long waits; waits are long polls that end when a message is ready.
 */
import {
  ChangeMessageVisibilityBatchCommand, ChangeMessageVisibilityCommand, DeleteMessageBatchCommand, DeleteMessageCommand,
  GetQueueAttributesCommand, GetQueueUrlCommand, PurgeQueueCommand, QueueDoesNotExist, ReceiptHandleIsInvalid,
  ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, SetQueueAttributesCommand, SQSClient,
} from '@aws-sdk/client-sqs';
import { IamAuthority } from '../../local/iam/credentials';
import type { FunctionModel } from '../../local/model';
import { md5OfMessageAttributes, type QueueSettings } from '../../local/services/sqs-queue';
import { startSqsService, type SqsService } from '../../local/services/sqs-service';

const ACCOUNT = '123456789012';
const queue = (name: string, extra: Partial<QueueSettings> = {}): QueueSettings => ({
  queueName: name, queueUrl: `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/${name}`, arn: `arn:aws:sqs:us-east-1:${ACCOUNT}:${name}`, ...extra,
});
const URL_OF = (name: string) => `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/${name}`;

describe('the SQS service without IAM', () => {
  let sqs: SqsService;
  let client: SQSClient;

  beforeAll(async () => {
    sqs = await startSqsService({
      queues: [
        queue('Work', { visibilityTimeoutSeconds: 1 }),
        queue('Jobs', { visibilityTimeoutSeconds: 1, redrive: { deadLetterTargetArn: `arn:aws:sqs:us-east-1:${ACCOUNT}:JobsDlq`, maxReceiveCount: 2 } }),
        queue('JobsDlq'),
        queue('Plain'),
      ],
    });
    client = new SQSClient({ endpoint: sqs.endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'x' } });
  });
  afterAll(async () => {
    client?.destroy();
    await sqs?.close();
  });
  afterEach(async () => {
    for (const name of ['Work', 'Jobs', 'JobsDlq', 'Plain']) await client.send(new PurgeQueueCommand({ QueueUrl: URL_OF(name) }));
  });

  test('GIVEN a message with attributes WHEN sent, received and deleted THEN the SDK accepts its MD5s and the queue is empty', async () => {
    // GIVEN / WHEN
    const sent = await client.send(new SendMessageCommand({
      QueueUrl: URL_OF('Plain'), MessageBody: '{"hello":"wörld"}',
      MessageAttributes: { kind: { DataType: 'String', StringValue: 'greeting' }, raw: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]) } },
    }));
    const got = await client.send(new ReceiveMessageCommand({
      QueueUrl: URL_OF('Plain'), MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'],
    }));
    // THEN
    expect(sent.MD5OfMessageAttributes).toBe(md5OfMessageAttributes({ kind: { DataType: 'String', StringValue: 'greeting' }, raw: { DataType: 'Binary', BinaryValue: 'AQID' } }));
    expect(got.Messages).toHaveLength(1);
    const [message] = got.Messages!;
    expect(message).toMatchObject({ MessageId: sent.MessageId, Body: '{"hello":"wörld"}', MD5OfMessageAttributes: sent.MD5OfMessageAttributes });
    expect(message.MessageAttributes?.kind).toEqual({ DataType: 'String', StringValue: 'greeting' });
    expect(Buffer.from(message.MessageAttributes!.raw.BinaryValue!)).toEqual(Buffer.from([1, 2, 3]));
    expect(message.Attributes).toMatchObject({ ApproximateReceiveCount: '1', SenderId: 'AKIDLOCAL' });
    expect(Number(message.Attributes!.SentTimestamp)).toBeLessThanOrEqual(Number(message.Attributes!.ApproximateFirstReceiveTimestamp));
    await client.send(new DeleteMessageCommand({ QueueUrl: URL_OF('Plain'), ReceiptHandle: message.ReceiptHandle }));
    const after = await client.send(new GetQueueAttributesCommand({ QueueUrl: URL_OF('Plain'), AttributeNames: ['All'] }));
    expect(after.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0', QueueArn: `arn:aws:sqs:us-east-1:${ACCOUNT}:Plain` });
  });

  test('GIVEN a received message not deleted WHEN its visibility timeout ends THEN a long poll gets it again with ApproximateReceiveCount 2 and a new receipt handle', async () => {
    // GIVEN
    await client.send(new SendMessageCommand({ QueueUrl: URL_OF('Work'), MessageBody: 'again' }));
    const first = await client.send(new ReceiveMessageCommand({ QueueUrl: URL_OF('Work'), MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
    const hidden = await client.send(new GetQueueAttributesCommand({ QueueUrl: URL_OF('Work'), AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    const meanwhile = await client.send(new ReceiveMessageCommand({ QueueUrl: URL_OF('Work') }));
    // WHEN: a long poll outlasting the 1 s visibility timeout
    const second = await client.send(new ReceiveMessageCommand({ QueueUrl: URL_OF('Work'), WaitTimeSeconds: 5, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
    // THEN
    expect(hidden.Attributes).toEqual({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '1' });
    expect(meanwhile.Messages ?? []).toEqual([]);
    expect(first.Messages![0].Attributes).toEqual({ ApproximateReceiveCount: '1' });
    expect(second.Messages![0]).toMatchObject({ MessageId: first.Messages![0].MessageId, Attributes: { ApproximateReceiveCount: '2' } });
    expect(second.Messages![0].ReceiptHandle).not.toBe(first.Messages![0].ReceiptHandle);
    // the outdated handle deletes nothing; the current one does
    await client.send(new DeleteMessageCommand({ QueueUrl: URL_OF('Work'), ReceiptHandle: first.Messages![0].ReceiptHandle }));
    await expect(client.send(new ChangeMessageVisibilityCommand({ QueueUrl: URL_OF('Work'), ReceiptHandle: first.Messages![0].ReceiptHandle, VisibilityTimeout: 0 })))
      .rejects.toMatchObject({ name: 'MessageNotInflight' });
    await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: URL_OF('Work'), ReceiptHandle: second.Messages![0].ReceiptHandle, VisibilityTimeout: 0 }));
    const third = await client.send(new ReceiveMessageCommand({ QueueUrl: URL_OF('Work'), MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
    expect(third.Messages![0].Attributes).toEqual({ ApproximateReceiveCount: '3' });
  });

  test('GIVEN maxReceiveCount 2 WHEN a message is received twice and not deleted THEN the next receive moves it to the dead-letter queue', async () => {
    // GIVEN
    const sent = await client.send(new SendMessageCommand({ QueueUrl: URL_OF('Jobs'), MessageBody: 'poison' }));
    // WHEN: two receives, each followed by a visibility change to 0 (a consumer giving it back)
    for (let i = 0; i < 2; i++) {
      const got = await client.send(new ReceiveMessageCommand({ QueueUrl: URL_OF('Jobs') }));
      expect(got.Messages).toHaveLength(1);
      await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: URL_OF('Jobs'), ReceiptHandle: got.Messages![0].ReceiptHandle, VisibilityTimeout: 0 }));
    }
    const third = await client.send(new ReceiveMessageCommand({ QueueUrl: URL_OF('Jobs') }));
    // THEN
    expect(third.Messages ?? []).toEqual([]);
    const dlq = await client.send(new GetQueueAttributesCommand({ QueueUrl: URL_OF('JobsDlq'), AttributeNames: ['ApproximateNumberOfMessages'] }));
    expect(dlq.Attributes).toEqual({ ApproximateNumberOfMessages: '1' });
    const source = await client.send(new GetQueueAttributesCommand({ QueueUrl: URL_OF('Jobs'), AttributeNames: ['All'] }));
    expect(source.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
    expect(JSON.parse(source.Attributes!.RedrivePolicy!)).toEqual({ deadLetterTargetArn: `arn:aws:sqs:us-east-1:${ACCOUNT}:JobsDlq`, maxReceiveCount: 2 });
    const dead = await client.send(new ReceiveMessageCommand({ QueueUrl: URL_OF('JobsDlq') }));
    expect(dead.Messages![0]).toMatchObject({ MessageId: sent.MessageId, Body: 'poison' });
  });

  test('GIVEN batch calls WHEN sending 3, changing and deleting them THEN each entry succeeds, and a bad entry fails alone', async () => {
    // GIVEN / WHEN
    const sent = await client.send(new SendMessageBatchCommand({
      QueueUrl: URL_OF('Plain'), Entries: [{ Id: 'a', MessageBody: 'A' }, { Id: 'b', MessageBody: 'B' }, { Id: 'c', MessageBody: 'C', DelaySeconds: 900 }],
    }));
    const got = await client.send(new ReceiveMessageCommand({ QueueUrl: URL_OF('Plain'), MaxNumberOfMessages: 10 }));
    const delayed = await client.send(new GetQueueAttributesCommand({ QueueUrl: URL_OF('Plain'), AttributeNames: ['ApproximateNumberOfMessagesDelayed'] }));
    const changed = await client.send(new ChangeMessageVisibilityBatchCommand({
      QueueUrl: URL_OF('Plain'), Entries: got.Messages!.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 60 })),
    }));
    const deleted = await client.send(new DeleteMessageBatchCommand({
      QueueUrl: URL_OF('Plain'), Entries: [...got.Messages!.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle })), { Id: 'bad', ReceiptHandle: 'not-a-handle' }],
    }));
    // THEN
    expect(sent.Successful!.map((s) => s.Id)).toEqual(['a', 'b', 'c']);
    expect(got.Messages!.map((m) => m.Body)).toEqual(['A', 'B']);
    expect(delayed.Attributes).toEqual({ ApproximateNumberOfMessagesDelayed: '1' });
    expect(changed.Successful).toHaveLength(2);
    expect(deleted.Successful!.map((s) => s.Id)).toEqual(['m0', 'm1']);
    expect(deleted.Failed).toEqual([expect.objectContaining({ Id: 'bad', Code: 'ReceiptHandleIsInvalid', SenderFault: true })]);
    await expect(client.send(new SendMessageBatchCommand({ QueueUrl: URL_OF('Plain'), Entries: [{ Id: 'x', MessageBody: '1' }, { Id: 'x', MessageBody: '2' }] })))
      .rejects.toMatchObject({ name: 'BatchEntryIdsNotDistinct' });
    await expect(client.send(new SendMessageBatchCommand({ QueueUrl: URL_OF('Plain'), Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, MessageBody: 'x' })) })))
      .rejects.toMatchObject({ name: 'TooManyEntriesInBatchRequest' });
  });

  test('GIVEN a body over 256 KiB, an unknown queue and a forged receipt handle WHEN called THEN SQS errors the SDK types', async () => {
    await expect(client.send(new SendMessageCommand({ QueueUrl: URL_OF('Plain'), MessageBody: 'x'.repeat(262_145) })))
      .rejects.toMatchObject({ name: 'InvalidParameterValue', message: 'One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes.', $metadata: { httpStatusCode: 400 } });
    await expect(client.send(new SendMessageCommand({ QueueUrl: URL_OF('Plain'), MessageBody: 'x'.repeat(262_144) }))).resolves.toMatchObject({ MessageId: expect.any(String) });
    const missing = client.send(new SendMessageCommand({ QueueUrl: URL_OF('Nope'), MessageBody: 'x' }));
    await expect(missing).rejects.toBeInstanceOf(QueueDoesNotExist);
    await expect(missing).rejects.toMatchObject({ message: 'The specified queue does not exist.' });
    await expect(client.send(new GetQueueUrlCommand({ QueueName: 'Nope' }))).rejects.toBeInstanceOf(QueueDoesNotExist);
    await expect(client.send(new GetQueueUrlCommand({ QueueName: 'Work' }))).resolves.toMatchObject({ QueueUrl: URL_OF('Work') });
    await expect(client.send(new DeleteMessageCommand({ QueueUrl: URL_OF('Plain'), ReceiptHandle: 'forged' }))).rejects.toBeInstanceOf(ReceiptHandleIsInvalid);
  });

  test('GIVEN SetQueueAttributes WHEN the visibility timeout is changed THEN the queue reports it, and an unknown or out-of-range attribute is refused', async () => {
    // WHEN
    await client.send(new SetQueueAttributesCommand({ QueueUrl: URL_OF('Plain'), Attributes: { VisibilityTimeout: '120' } }));
    // THEN
    const attributes = await client.send(new GetQueueAttributesCommand({ QueueUrl: URL_OF('Plain'), AttributeNames: ['VisibilityTimeout'] }));
    expect(attributes.Attributes).toEqual({ VisibilityTimeout: '120' });
    await expect(client.send(new SetQueueAttributesCommand({ QueueUrl: URL_OF('Plain'), Attributes: { Colour: 'blue' } as Record<string, string> }))).rejects.toMatchObject({ name: 'InvalidAttributeName' });
    await expect(client.send(new SetQueueAttributesCommand({ QueueUrl: URL_OF('Plain'), Attributes: { VisibilityTimeout: '43201' } }))).rejects.toMatchObject({ name: 'InvalidAttributeValue' });
    await client.send(new SetQueueAttributesCommand({ QueueUrl: URL_OF('Plain'), Attributes: { VisibilityTimeout: '30' } }));
  });
});

describe('the SQS service with local IAM', () => {
  let sqs: SqsService;
  let iam: IamAuthority;
  const log: string[] = [];
  const QUEUE_ARN = `arn:aws:sqs:us-east-1:${ACCOUNT}:Work`;
  const fn = {
    id: 'S/Sender', stackName: 'S', logicalId: 'Sender', functionName: 'S-Sender-1', handler: 'index.handler', runtime: 'nodejs22.x',
    codeDir: '/nonexistent', environment: {}, timeoutSeconds: 3, memorySize: 128, accountId: ACCOUNT,
    role: {
      id: 'S/SenderRole', roleName: 'S-SenderRole-1', arn: `arn:aws:iam::${ACCOUNT}:role/S-SenderRole-1`, managedPolicyArns: [], warnings: [],
      policies: [{ name: 'S/SenderPolicy', document: { Statement: [{ Effect: 'Allow', Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes'], Resource: QUEUE_ARN }] } }],
    },
  } as FunctionModel;

  beforeAll(async () => {
    iam = new IamAuthority({ functions: { [fn.id]: fn }, accountId: ACCOUNT, log: (l) => log.push(l) });
    sqs = await startSqsService({ queues: [queue('Work')], iam });
  });
  afterAll(async () => {
    await sqs?.close();
  });

  const asFunction = (): SQSClient => {
    const env = iam.credentialsFor(fn.id)!;
    return new SQSClient({
      endpoint: sqs.endpoint, region: 'us-east-1', maxAttempts: 1,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN },
    });
  };

  test('GIVEN a role allowed SendMessage on one queue WHEN it sends (single and batch) and then receives THEN the sends pass and the receive is AccessDenied naming action and resource', async () => {
    // GIVEN
    const client = asFunction();
    // WHEN / THEN
    const sent = await client.send(new SendMessageCommand({ QueueUrl: URL_OF('Work'), MessageBody: 'allowed' }));
    await client.send(new SendMessageBatchCommand({ QueueUrl: URL_OF('Work'), Entries: [{ Id: '1', MessageBody: 'also allowed' }] }));
    const denied = client.send(new ReceiveMessageCommand({ QueueUrl: URL_OF('Work') }));
    await expect(denied).rejects.toMatchObject({
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
      message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/S-SenderRole-1/S-Sender-1 is not authorized to perform: sqs:ReceiveMessage on resource: ${QUEUE_ARN} because no identity-based policy allows the sqs:ReceiveMessage action`,
    });
    expect(log).toEqual([expect.stringMatching(/^IAM: function S\/Sender \(role S-SenderRole-1\) refused sqs:ReceiveMessage on arn:aws:sqs:us-east-1:123456789012:Work/)]);
    // the refused receive left both messages on the queue; SenderId names the role session
    const attributes = await client.send(new GetQueueAttributesCommand({ QueueUrl: URL_OF('Work'), AttributeNames: ['ApproximateNumberOfMessages'] }));
    expect(attributes.Attributes).toEqual({ ApproximateNumberOfMessages: '2' });
    expect(sqs.broker.byName('Work')!.receive(1)[0].message).toMatchObject({ messageId: sent.MessageId, senderId: expect.stringMatching(/^AROA[A-Z0-9]+:S-Sender-1$/) });
    client.destroy();
  });

  test('GIVEN unsigned and wrongly signed requests WHEN sent THEN they are refused before the queue is read', async () => {
    const env = iam.credentialsFor(fn.id)!;
    const wrong = new SQSClient({
      endpoint: sqs.endpoint, region: 'us-east-1', maxAttempts: 1,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: 'not-the-secret', sessionToken: env.AWS_SESSION_TOKEN },
    });
    await expect(wrong.send(new SendMessageCommand({ QueueUrl: URL_OF('Work'), MessageBody: 'x' }))).rejects.toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } });
    wrong.destroy();
    const unsigned = await fetch(sqs.endpoint, {
      method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' },
      body: JSON.stringify({ QueueUrl: URL_OF('Work'), MessageBody: 'x' }),
    });
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-amzn-query-error')).toBe('MissingAuthenticationToken;Sender');
  });
});
