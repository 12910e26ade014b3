/**
 * GatewayDashboard (lib/gateway-dashboard.ts): the API's connection, message and error graphs, and the sharded
 * delivery graphs only when the gateway has sharded delivery.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { GatewayDashboard } from '../../lib';
import { gatewayIn, newValidatedStack } from './template-helpers';

/** The dashboard body with its tokens resolved to text: `{Ref}` and `{GetAtt}` parts show as `<token>`. */
function dashboardBody(stack: Stack): string {
  const resources = Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard');
  const [dashboard] = Object.values(resources) as Array<{ Properties: { DashboardBody: unknown } }>;
  const body = dashboard.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  return body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '<token>')).join('');
}

describe('GatewayDashboard', () => {
  test('GIVEN a gateway without sharded delivery WHEN a dashboard is added THEN it graphs connections, messages, integration errors, 4xx and 5xx of the stage only', () => {
    // GIVEN
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack);
    // WHEN
    new GatewayDashboard(stack, 'Dashboard', { gateway, dashboardName: 'wsgate-test' });
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'wsgate-test' });
    const body = dashboardBody(stack);
    for (const metric of ['ConnectCount', 'MessageCount', 'IntegrationError', 'ClientError', 'ExecutionError']) {
      expect(body).toContain(`"AWS/ApiGateway","${metric}","ApiId","<token>","Stage","prod"`);
    }
    expect(body.match(/"period":60\b/g)).toHaveLength(5);
    expect(body).not.toMatch(/wsgate|AWS\/SQS/);
  });

  test('GIVEN sharded delivery WHEN a dashboard is added THEN delivered, gone and failed counts of the delivery queue and the DLQ depth are graphed, per the period given', () => {
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack, { delivery: { alarms: false } });
    new GatewayDashboard(stack, 'Dashboard', { gateway, period: Duration.minutes(10) });
    const body = dashboardBody(stack);
    for (const metric of ['Delivered', 'Gone', 'Failed']) expect(body).toContain(`"wsgate","${metric}","DeliveryQueue","<token>"`);
    expect(body).toContain('"AWS/SQS","ApproximateNumberOfMessagesVisible","QueueName","<token>"');
    expect(body.match(/"period":600/g)).toHaveLength(9);
    expect(body).not.toMatch(/"period":60\b/);
  });
});
