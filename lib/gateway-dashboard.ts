import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { WebSocketGateway } from './websocket-gateway';

/** Properties of a {@link GatewayDashboard}. */
export interface GatewayDashboardProps {
  /** The gateway to show. */
  readonly gateway: WebSocketGateway;

  /**
   * Name of the dashboard.
   *
   * @default - a name CloudFormation generates
   */
  readonly dashboardName?: string;

  /**
   * The period of every graph.
   *
   * @default Duration.minutes(1)
   */
  readonly period?: Duration;
}

/**
 * A CloudWatch dashboard of one gateway: connections, messages, integration errors, client (4xx) and
 * execution (5xx) errors of the API, and with sharded delivery its delivered / gone / failed counts and the
 * dead-letter queue's depth.
 */
export class GatewayDashboard extends Construct {
  /** The dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: GatewayDashboardProps) {
    super(scope, id);
    const gateway = props.gateway;
    const period = props.period ?? Duration.minutes(1);
    const api = (metricName: string, statistic = 'Sum', label?: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: gateway.api.apiId, Stage: gateway.stage.stageName },
        statistic,
        period,
        ...(label ? { label } : {}),
      });

    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Connections', left: [api('ConnectCount', 'Sum', 'connects')], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Messages', left: [api('MessageCount', 'Sum', 'messages')], width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'Errors',
        left: [
          api('IntegrationError', 'Sum', 'integration errors'),
          api('ClientError', 'Sum', '4xx'),
          api('ExecutionError', 'Sum', '5xx'),
        ],
        width: 8,
      }),
    );
    const delivery = gateway.delivery;
    if (delivery) {
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Sharded delivery',
          left: [
            delivery.metricDelivered({ period, label: 'delivered' }),
            delivery.metricGone({ period, label: 'gone' }),
            delivery.metricFailed({ period, label: 'failed' }),
          ],
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: 'Delivery dead-letter queue',
          left: [delivery.metricDeadLetterDepth({ period, label: 'shards in the DLQ' })],
          width: 12,
        }),
      );
    }
  }
}
