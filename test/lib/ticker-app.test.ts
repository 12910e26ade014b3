/**
 * The ticker example (bin/ticker-stack.ts): a gateway with the join/leave routes and a publisher on no route,
 * run every minute by EventBridge, allowed exactly what publishing needs.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { TICKER_ROOM, TickerStack } from '../../bin/ticker-stack';
import { actionsOf, arnText, statementsOfRole, VALIDATION_CONTEXT } from './template-helpers';

// GIVEN the ticker app, synthesized once for the file
const app = new App({ context: VALIDATION_CONTEXT });
const stack = new TickerStack(app, 'WsgateTicker');
const template = Template.fromStack(stack);
const publisherId = stack.getLogicalId(stack.publisher.node.defaultChild as lambda.CfnFunction);

describe('ticker example template', () => {
  test('THEN the API has $connect, $disconnect, $default, join and leave', () => {
    const keys = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r: any) => r.Properties.RouteKey).sort();
    expect(keys).toEqual(['$connect', '$default', '$disconnect', 'join', 'leave']);
  });

  test('THEN a rule runs the publisher every minute, with retries and a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [Match.objectLike({
        Arn: { 'Fn::GetAtt': [publisherId, 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 120 },
        DeadLetterConfig: { Arn: Match.anyValue() },
      })],
    });
  });

  test('THEN only EventBridge may invoke the publisher (it is on no route)', () => {
    const invokes = Object.values(template.findResources('AWS::Lambda::Permission')).filter(
      (p: any) => p.Properties.FunctionName['Fn::GetAtt']?.[0] === publisherId,
    );
    expect(invokes.map((p: any) => p.Properties.Principal)).toEqual(['events.amazonaws.com']);
  });

  test('THEN the publisher gets the ticker room and the runtime variables from the gateway', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs22.x',
      Environment: {
        Variables: {
          TICKER_ROOM,
          CONNECTIONS_TABLE: Match.anyValue(),
          ROOM_INDEX: 'byRoom',
          CALLBACK_URL: stack.resolve(stack.gateway.callbackUrl),
          CONNECTION_TTL_SECONDS: '7500',
          FANOUT_CONCURRENCY: '20',
        },
      },
    });
  });

  test('THEN the publisher may read connections, remove gone ones and POST to connections, and nothing else of the gateway', () => {
    const statements = statementsOfRole(stack, template, stack.publisher.role!);
    const gatewayActions = statements.flatMap(actionsOf).filter((a) => a.startsWith('dynamodb:') || a.startsWith('execute-api:'));
    expect(new Set(gatewayActions)).toEqual(new Set([
      'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:BatchWriteItem', 'execute-api:ManageConnections',
    ]));
    const posts = statements.filter((s) => actionsOf(s).includes('execute-api:ManageConnections')).map((s) => arnText(s.Resource));
    expect(posts).toEqual([expect.stringMatching(/\/prod\/POST\/@connections\/\*$/)]);
  });
});
