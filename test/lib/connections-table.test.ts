/** ConnectionsTable: the table it creates, an existing table, and each named grant's exact actions. */
import { RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ConnectionsTable } from '../../lib';
import { actionsOf, allPolicyStatements, arnText, newValidatedStack } from './template-helpers';

describe('ConnectionsTable', () => {
  test('GIVEN no props WHEN synthesized THEN an on-demand table is retained and CloudFormation names it', () => {
    const stack = newValidatedStack();
    const table = new ConnectionsTable(stack, 'Connections');
    const template = Template.fromStack(stack);
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        TableName: Match.absent(),
      }),
    });
    expect(table.node.defaultChild).toBeDefined();
    expect(table.roomIndexName).toBe('byRoom');
  });

  test('GIVEN removalPolicy DESTROY WHEN synthesized THEN the table is deleted with the stack', () => {
    const stack = newValidatedStack();
    new ConnectionsTable(stack, 'Connections', { removalPolicy: RemovalPolicy.DESTROY });
    Template.fromStack(stack).hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Delete' });
  });

  test('GIVEN an existing table WHEN granted THEN no table is created and grants name that table and its byRoom index', () => {
    const stack = newValidatedStack();
    const existing = dynamodb.TableV2.fromTableName(stack, 'Existing', 'my-connections');
    const table = new ConnectionsTable(stack, 'Connections', { existingTable: existing });
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    table.grantReadConnections(role);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    const resources = allPolicyStatements(template).map((s) => arnText(s.Resource));
    expect(resources).toEqual(
      expect.arrayContaining([expect.stringMatching(/:table\/my-connections$/), expect.stringMatching(/:table\/my-connections\/index\/byRoom$/)]),
    );
  });

  test.each([
    ['grantWriteConnection', ['dynamodb:PutItem']],
    ['grantRemoveConnection', ['dynamodb:Query', 'dynamodb:BatchWriteItem']],
    ['grantManageMemberships', ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem']],
    ['grantReadConnections', ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan']],
  ] as const)('GIVEN a role WHEN %s THEN it gets exactly %j on the table', (grantName, expected) => {
    const stack = newValidatedStack();
    const table = new ConnectionsTable(stack, 'Connections');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const grant = table[grantName](role);
    expect(grant.success).toBe(true);
    const onTable = allPolicyStatements(Template.fromStack(stack)).filter((s) => !arnText(s.Resource).includes('/index/'));
    expect(onTable.flatMap(actionsOf).sort()).toEqual([...expected].sort());
  });
});
