/**
 * Sharded delivery in the constructs (lib/delivery.ts and its wiring in WebSocketGateway): the queue, dead-letter
 * queue, worker and event source, least-privilege grants, the delivery settings on the functions that send,
 * alarms, the synth-time checks, and that nothing of it exists without the `delivery` prop.
 */
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { BundledHandler, DeliveryOptions, GatewayPermission, RouteHandler, WebSocketGateway } from '../../lib';
import { actionsOf, gatewayIn, newValidatedStack, statementsOfRole, userFunction } from './template-helpers';

function environmentOf(stack: Stack, template: Template, fn: lambda.IFunction): Record<string, unknown> {
  const id = stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
  return template.toJSON().Resources[id].Properties.Environment?.Variables ?? {};
}

function chatGateway(stack: Stack, delivery?: DeliveryOptions): WebSocketGateway {
  const gateway = gatewayIn(stack, delivery ? { delivery } : {});
  gateway.addRoute('join', { handler: RouteHandler.bundled(BundledHandler.JOIN) });
  gateway.addRoute('sendmessage', { handler: RouteHandler.bundled(BundledHandler.SEND_MESSAGE) });
  return gateway;
}

describe('WebSocketGateway delivery', () => {
  test('GIVEN delivery: {} WHEN synthesized THEN an encrypted TLS-only queue with a dead-letter queue feeds the worker one shard per invocation', () => {
    // GIVEN
    const stack = newValidatedStack();
    const gateway = chatGateway(stack, {});
    // WHEN
    const template = Template.fromStack(stack);
    // THEN
    template.resourceCountIs('AWS::SQS::Queue', 2);
    const queueId = stack.getLogicalId(gateway.delivery!.queue.node.defaultChild as never);
    const dlqId = stack.getLogicalId(gateway.delivery!.deadLetterQueue.node.defaultChild as never);
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: 'alias/aws/sqs',
      VisibilityTimeout: 360,
      MessageRetentionPeriod: 86400,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: 'alias/aws/sqs', MessageRetentionPeriod: 1209600 });
    for (const id of [queueId, dlqId]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    }
    const worker = gateway.bundledFunction(BundledHandler.DELIVERY_WORKER)!;
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: { Ref: stack.getLogicalId(worker.node.defaultChild as lambda.CfnFunction) },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 10 },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Timeout: 60,
      Environment: { Variables: { CONNECTIONS_TABLE: Match.anyValue(), ROOM_INDEX: 'byRoom', CALLBACK_URL: Match.anyValue(), FANOUT_CONCURRENCY: '20' } },
    });
    expect(environmentOf(stack, template, worker)).toEqual({
      CONNECTIONS_TABLE: expect.anything(), ROOM_INDEX: 'byRoom', CALLBACK_URL: expect.anything(), FANOUT_CONCURRENCY: '20',
      DELIVERY_QUEUE_URL: { Ref: queueId },
    });
  });

  test('GIVEN delivery WHEN synthesized THEN the worker may read connections, post, remove gone ones and write only job# items; it receives from its queue', () => {
    const stack = newValidatedStack();
    const gateway = chatGateway(stack, {});
    const template = Template.fromStack(stack);
    const worker = gateway.bundledFunction(BundledHandler.DELIVERY_WORKER)!;
    const statements = statementsOfRole(stack, template, worker.role!);
    const actions = statements.flatMap(actionsOf).sort();
    expect(actions).toEqual(expect.arrayContaining([
      'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:BatchWriteItem', 'dynamodb:PutItem',
      'execute-api:ManageConnections', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility',
    ]));
    expect(actions).not.toContain('sqs:SendMessage');
    const put = statements.filter((s) => actionsOf(s).includes('dynamodb:PutItem'));
    expect(put).toEqual([expect.objectContaining({ Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['job#*'] } } })]);
  });

  test('GIVEN delivery WHEN functions that send are wired THEN sendmessage, publishers and posting route handlers get the delivery settings and may enqueue; join does not', () => {
    // GIVEN
    const stack = newValidatedStack();
    const gateway = chatGateway(stack, { shardedAbove: 5000, shardSize: 2500 });
    const publisher = userFunction(stack, 'Publisher');
    const poster = userFunction(stack, 'Poster');
    const reader = userFunction(stack, 'Reader');
    gateway.addPublisher(publisher);
    gateway.addRoute('post', { handler: RouteHandler.fromFunction(poster, { permissions: [GatewayPermission.POST_TO_CONNECTIONS] }) });
    gateway.addRoute('read', { handler: RouteHandler.fromFunction(reader, { permissions: [GatewayPermission.READ_CONNECTIONS] }) });
    // WHEN
    const template = Template.fromStack(stack);
    // THEN
    const queueUrl = stack.resolve(gateway.delivery!.queue.queueUrl);
    const sendmessage = gateway.bundledFunction(BundledHandler.SEND_MESSAGE)!;
    const join = gateway.bundledFunction(BundledHandler.JOIN)!;
    for (const fn of [sendmessage, publisher, poster, reader]) {
      expect(environmentOf(stack, template, fn)).toMatchObject({ DELIVERY_QUEUE_URL: queueUrl, SHARDED_ABOVE: '5000', SHARD_SIZE: '2500' });
    }
    expect(environmentOf(stack, template, join)).not.toHaveProperty('DELIVERY_QUEUE_URL');
    const sends = (fn: lambda.IFunction) => statementsOfRole(stack, template, fn.role!).flatMap(actionsOf).includes('sqs:SendMessage');
    expect([sendmessage, publisher, poster, reader, join].map(sends)).toEqual([true, true, true, false, false]);
  });

  test('GIVEN no delivery prop WHEN synthesized THEN there is no queue, no worker, no alarm and no delivery setting', () => {
    const stack = newValidatedStack();
    const gateway = chatGateway(stack);
    gateway.addPublisher(userFunction(stack, 'Publisher'));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SQS::Queue', 0);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    expect(gateway.delivery).toBeUndefined();
    expect(gateway.bundledFunction(BundledHandler.DELIVERY_WORKER)).toBeUndefined();
    expect(JSON.stringify(template.toJSON())).not.toMatch(/DELIVERY_QUEUE_URL|SHARDED_ABOVE/);
  });

  test('GIVEN an alarm topic WHEN synthesized THEN the DLQ, worker-error and worker-throttle alarms notify it; alarms: false creates none', () => {
    // GIVEN
    const stack = newValidatedStack();
    const topic = new sns.Topic(stack, 'Alarms', { enforceSSL: true });
    const gateway = chatGateway(stack, { alarmTopic: topic, workerConcurrency: 50, maxReceiveCount: 2 });
    // WHEN
    const template = Template.fromStack(stack);
    // THEN
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    const topicRef = { Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) };
    const dlqName = { 'Fn::GetAtt': [stack.getLogicalId(gateway.delivery!.deadLetterQueue.node.defaultChild as never), 'QueueName'] };
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS', Dimensions: [{ Name: 'QueueName', Value: dlqName }],
      Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching', AlarmActions: [topicRef],
    });
    for (const metric of ['Errors', 'Throttles']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: metric, Namespace: 'AWS/Lambda', AlarmActions: [topicRef] });
    }
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 50 } });
    template.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: Match.objectLike({ maxReceiveCount: 2 }) });
    const quiet = newValidatedStack('Quiet');
    chatGateway(quiet, { alarms: false });
    Template.fromStack(quiet).resourceCountIs('AWS::CloudWatch::Alarm', 0);
  });

  test('GIVEN out-of-range delivery settings or the worker on a route WHEN built THEN synth-time errors name the prop and the fix', () => {
    expect(() => gatewayIn(newValidatedStack(), { delivery: { shardSize: 0 } })).toThrow(/Gateway\/Delivery: invalid delivery.shardSize 0: give a whole number from 1 to 100000/);
    expect(() => gatewayIn(newValidatedStack(), { delivery: { workerConcurrency: 1 } })).toThrow(/invalid delivery.workerConcurrency 1: give a whole number from 2 to 1000/);
    expect(() => gatewayIn(newValidatedStack(), { delivery: { shardedAbove: 1.5 } })).toThrow(/invalid delivery.shardedAbove 1.5/);
    expect(() => gatewayIn(newValidatedStack(), { delivery: { maxReceiveCount: 0 } })).toThrow(/invalid delivery.maxReceiveCount 0/);
    const gateway = gatewayIn(newValidatedStack(), { delivery: {} });
    expect(() => gateway.addRoute('work', { handler: RouteHandler.bundled(BundledHandler.DELIVERY_WORKER) }))
      .toThrow(/the bundled 'delivery-worker' handler serves only the delivery queue of sharded delivery/);
  });
});
