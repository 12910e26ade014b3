/**
 * AWS::SQS::Queue → `QueueModel` and AWS::Lambda::EventSourceMapping (SQS sources) → `EventSourceMappingModel`,
 * intrinsics resolved. KMS settings are accepted and ignored (the local queues are not encrypted). A mapping of any
 * other source (Kinesis, DynamoDB streams, Kafka, MQ...) or one whose queue or function is unknown becomes a warning.
 */
import { EventSourceMappingModel, FunctionModel, QueueModel } from '../model';
import { where } from './errors';
import { StackResolver } from './intrinsics';

/** Lambda's SQS poller default when the mapping sets no ScalingConfig.MaximumConcurrency (AWS scales up to 1,000). */
export const LOCAL_MAXIMUM_CONCURRENCY_DEFAULT = 5;

const num = (value: unknown, fallback: number): number => {
  if (value === undefined || value === null || value === '') return fallback;
  const n = Number(value);
  return Number.isFinite(n) ? n : fallback;
};

export function readQueues(resolver: StackResolver, warnings: string[]): QueueModel[] {
  const out: QueueModel[] = [];
  for (const [logicalId, resource] of Object.entries(resolver.resources)) {
    if (resource.Type !== 'AWS::SQS::Queue' || !resolver.isDeployed(logicalId)) continue;
    const props = resolver.resolve(resource.Properties ?? {}, logicalId, 'Properties') as Record<string, any>;
    const queueUrl = String(resolver.ref(logicalId, logicalId, 'Ref'));
    const arn = String(resolver.getAtt(logicalId, 'Arn', logicalId, 'Fn::GetAtt'));
    let redrive: QueueModel['redrive'];
    const policy = typeof props.RedrivePolicy === 'string' ? safeJson(props.RedrivePolicy) : props.RedrivePolicy;
    if (policy && typeof policy === 'object') {
      const target = (policy as Record<string, unknown>).deadLetterTargetArn;
      const max = num((policy as Record<string, unknown>).maxReceiveCount, NaN);
      if (typeof target === 'string' && Number.isInteger(max) && max >= 1) redrive = { deadLetterTargetArn: target, maxReceiveCount: max };
      else warnings.push(`${where(resolver.stackName, logicalId)}: RedrivePolicy needs deadLetterTargetArn and maxReceiveCount; messages are never moved to a dead-letter queue locally`);
    }
    if (props.FifoQueue === true || props.FifoQueue === 'true') {
      warnings.push(`${where(resolver.stackName, logicalId)}: a FIFO queue is served as a standard queue locally (no message groups, no deduplication)`);
    }
    out.push({
      id: `${resolver.stackName}/${logicalId}`,
      stackName: resolver.stackName,
      logicalId,
      queueName: queueUrl.split('/').pop()!,
      queueUrl,
      arn,
      visibilityTimeoutSeconds: num(props.VisibilityTimeout, 30),
      messageRetentionSeconds: num(props.MessageRetentionPeriod, 345_600),
      maximumMessageSize: num(props.MaximumMessageSize, 262_144),
      delaySeconds: num(props.DelaySeconds, 0),
      receiveMessageWaitTimeSeconds: num(props.ReceiveMessageWaitTimeSeconds, 0),
      ...(redrive ? { redrive } : {}),
    });
  }
  return out;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The stack's event source mappings. `lookup` finds a function by name or ARN (what FunctionName resolves to);
 * `queueArns` are the ARNs of the assembly's queues.
 */
export function readEventSourceMappings(
  resolver: StackResolver,
  lookup: (nameOrArn: string) => FunctionModel | undefined,
  queueArns: ReadonlySet<string>,
  warnings: string[],
): EventSourceMappingModel[] {
  const out: EventSourceMappingModel[] = [];
  for (const [logicalId, resource] of Object.entries(resolver.resources)) {
    if (resource.Type !== 'AWS::Lambda::EventSourceMapping' || !resolver.isDeployed(logicalId)) continue;
    const label = where(resolver.stackName, logicalId);
    const props = resolver.resolve(resource.Properties ?? {}, logicalId, 'Properties') as Record<string, any>;
    const source = typeof props.EventSourceArn === 'string' ? props.EventSourceArn : '';
    const fn = typeof props.FunctionName === 'string' ? lookup(props.FunctionName) : undefined;
    const target = fn ? fn.id : String(props.FunctionName);
    if (!/^arn:[^:]+:sqs:/.test(source)) {
      const kind = source.split(':')[2] || (props.SelfManagedEventSource ? 'self-managed Kafka' : 'unknown');
      warnings.push(`${label}: the ${kind} event source mapping of ${target} is not run by the emulator (only SQS sources are); invoke the function yourself with a batch event`);
      continue;
    }
    if (!fn) {
      warnings.push(`${label}: the SQS event source mapping targets ${target}, which is not a function of the assembly; it is not run`);
      continue;
    }
    if (!queueArns.has(source)) {
      warnings.push(`${label}: the SQS event source mapping of ${fn.id} reads ${source}, which is not a queue of the assembly; it is not run`);
      continue;
    }
    const types: unknown[] = Array.isArray(props.FunctionResponseTypes) ? props.FunctionResponseTypes : [];
    const maximumConcurrency = props.ScalingConfig?.MaximumConcurrency;
    if (props.FilterCriteria) warnings.push(`${label}: FilterCriteria of the SQS event source mapping of ${fn.id} is not applied locally (every message is delivered)`);
    out.push({
      id: `${resolver.stackName}/${logicalId}`,
      stackName: resolver.stackName,
      logicalId,
      functionId: fn.id,
      queueArn: source,
      batchSize: num(props.BatchSize, 10),
      maximumBatchingWindowSeconds: num(props.MaximumBatchingWindowInSeconds, 0),
      enabled: props.Enabled === undefined ? true : props.Enabled === true || props.Enabled === 'true',
      reportBatchItemFailures: types.includes('ReportBatchItemFailures'),
      ...(maximumConcurrency !== undefined ? { maximumConcurrency: num(maximumConcurrency, LOCAL_MAXIMUM_CONCURRENCY_DEFAULT) } : {}),
    });
  }
  return out;
}
