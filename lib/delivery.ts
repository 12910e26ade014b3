import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DELIVERY_METRICS, LIMITS } from '../contract/gateway-contract';
import { acknowledgeDeadLetterQueueRedrive, acknowledgeQueueEventSourceDestination } from './nag-acknowledgements';

/**
 * Sharded delivery of large sends: a room send or broadcast to more recipients than `shardedAbove` is cut into
 * shards, one SQS message each, and delivery workers (a Lambda function on the queue) post to one shard each.
 */
export interface DeliveryOptions {
  /**
   * Sends to at most this many recipients are posted by the sending function itself; larger audiences are
   * enqueued as a delivery job. 0 shards every send.
   *
   * @default 1000
   */
  readonly shardedAbove?: number;

  /**
   * Recipients per shard: one queue message and one worker invocation each. A shard must be posted well inside
   * the worker's one-minute timeout (about 1,000 posts a second per worker at the default fan-out concurrency).
   *
   * @default 1000
   */
  readonly shardSize?: number;

  /**
   * The most worker invocations running at once (the event source's maximum concurrency, 2 to 1000). All
   * workers share the account's `@connections` rate, so more workers help only up to that rate.
   *
   * @default 10
   */
  readonly workerConcurrency?: number;

  /**
   * Receives of one shard message before it moves to the dead-letter queue. A worker that runs short of time
   * records its progress and hands the shard back, which counts as a receive.
   *
   * @default 5
   */
  readonly maxReceiveCount?: number;

  /**
   * Create alarms: a message in the dead-letter queue, worker errors, worker throttles.
   *
   * @default true
   */
  readonly alarms?: boolean;

  /**
   * Where the alarms notify when they go into ALARM.
   *
   * @default - the alarms have no action; watch them on the dashboard or add actions to `delivery.alarms`
   */
  readonly alarmTopic?: sns.ITopic;
}

/** Properties of a {@link ShardedDelivery}. */
export interface ShardedDeliveryProps extends DeliveryOptions {
  /** The delivery worker function (the bundled `delivery-worker` handler, wired to the gateway). */
  readonly worker: lambda.IFunction;
}

/**
 * The delivery queue (KMS-encrypted, TLS only), its dead-letter queue, the worker's event source (one shard
 * per invocation, failed shards reported per item) and the alarms. Created by `WebSocketGateway` when its
 * `delivery` prop is set.
 */
export class ShardedDelivery extends Construct {
  /** How long the worker may run. The queue's visibility timeout is six times this, as AWS recommends. */
  public static readonly WORKER_TIMEOUT: Duration = Duration.minutes(1);

  /** The queue delivery jobs are enqueued on, one message per shard. */
  public readonly queue: sqs.Queue;
  /** Shard messages that kept failing `maxReceiveCount` times. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The worker function posting shards. */
  public readonly worker: lambda.IFunction;
  /** The alarms created (empty with `alarms: false`). */
  public readonly alarms: cloudwatch.Alarm[] = [];
  /** Audiences above this many recipients are enqueued. */
  public readonly shardedAbove: number;
  /** Recipients per shard. */
  public readonly shardSize: number;

  constructor(scope: Construct, id: string, props: ShardedDeliveryProps) {
    super(scope, id);
    this.shardedAbove = props.shardedAbove ?? LIMITS.defaultShardedAbove;
    this.shardSize = props.shardSize ?? LIMITS.defaultShardSize;
    const workerConcurrency = props.workerConcurrency ?? 10;
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    this.check('shardedAbove', this.shardedAbove, 0, Number.MAX_SAFE_INTEGER);
    this.check('shardSize', this.shardSize, 1, LIMITS.maxShardSize);
    this.check('workerConcurrency', workerConcurrency, 2, 1000);
    this.check('maxReceiveCount', maxReceiveCount, 1, 1000);
    this.worker = props.worker;

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.KMS_MANAGED,
      enforceSSL: true,
      // A shard's progress item lives as long as its message can: a redelivered shard always finds it.
      retentionPeriod: Duration.seconds(LIMITS.deliveryProgressTtlSeconds),
      visibilityTimeout: Duration.seconds(ShardedDelivery.WORKER_TIMEOUT.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledgeDeadLetterQueueRedrive(this.deadLetterQueue);
    const eventSource = new lambdaEventSources.SqsEventSource(this.queue, {
      batchSize: 1,
      reportBatchItemFailures: true,
      maxConcurrency: workerConcurrency,
    });
    props.worker.addEventSource(eventSource);
    // The mapping is a child of the worker function.
    acknowledgeQueueEventSourceDestination(props.worker);

    if (props.alarms ?? true) this.createAlarms(props.alarmTopic);
  }

  /** Allows `grantee` to enqueue delivery jobs: `sqs:SendMessage` (and the batch form) on this queue only. */
  public grantEnqueue(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grantSendMessages(grantee);
  }

  /** Recipients the workers posted to (embedded metric format from the workers' logs). */
  public metricDelivered(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deliveryMetric(DELIVERY_METRICS.delivered, props);
  }

  /** Recipients that were gone (410) and were removed. */
  public metricGone(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deliveryMetric(DELIVERY_METRICS.gone, props);
  }

  /** Posts that failed after their retries. */
  public metricFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deliveryMetric(DELIVERY_METRICS.failed, props);
  }

  /** Shard messages waiting in the dead-letter queue. */
  public metricDeadLetterDepth(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1), ...props });
  }

  private deliveryMetric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: DELIVERY_METRICS.namespace,
      metricName,
      dimensionsMap: { [DELIVERY_METRICS.queueDimension]: this.queue.queueName },
      statistic: 'Sum',
      period: Duration.minutes(1),
      ...props,
    });
  }

  private createAlarms(topic: sns.ITopic | undefined): void {
    const alarm = (id: string, metric: cloudwatch.Metric, description: string) => {
      const created = metric.createAlarm(this, id, {
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      if (topic) created.addAlarmAction(new cloudwatchActions.SnsAction(topic));
      this.alarms.push(created);
    };
    alarm('DeadLetterAlarm', this.metricDeadLetterDepth(),
      'A delivery shard failed maxReceiveCount times and is in the dead-letter queue: its recipients may be missing the message.');
    alarm('WorkerErrorsAlarm', this.worker.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }),
      'The delivery worker function failed (crash or timeout); its shards are redelivered and resume.');
    alarm('WorkerThrottlesAlarm', this.worker.metricThrottles({ period: Duration.minutes(1), statistic: 'Sum' }),
      'The delivery worker function was throttled: delivery is delayed (raise the account or reserved concurrency, or lower workerConcurrency).');
  }

  private check(prop: string, value: number, min: number, max: number): void {
    if (Token.isUnresolved(value)) return;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`${this.node.path}: invalid delivery.${prop} ${value}: give a whole number from ${min} to ${max}.`);
    }
  }
}
