/**
 * local/services/dynamo-iam-proxy.ts: the DynamoDB endpoint functions see under local IAM. The actions and
 * resources each operation is checked for (batch per table, transactions per part, index ARNs for Query/Scan),
 * and, against a real dynalite with the real SDK, a role's allowed call passing through while a missing grant
 * fails with DynamoDB's typed AccessDeniedException (HTTP 400) before the store is touched.
 */
import { DynamoDBClient, CreateTableCommand, GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { FunctionModel } from '../../local/model';
import { IamAuthority } from '../../local/iam/credentials';
import { dynamoChecks, startDynamoIamProxy, type DynamoIamProxy } from '../../local/services/dynamo-iam-proxy';
import { startLocalDynamo, type LocalDynamo } from '../../local/services/local-dynamo';

const ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table';

describe('dynamoChecks', () => {
  test('GIVEN each kind of operation WHEN mapped THEN the action/resource pairs IAM checks', () => {
    expect(dynamoChecks('GetItem', { TableName: 'T1' }, 'us-east-1', '123456789012')).toEqual([['dynamodb:GetItem', `${ARN}/T1`]]);
    expect(dynamoChecks('Query', { TableName: 'T1', IndexName: 'byRoom' }, 'us-east-1', '123456789012')).toEqual([['dynamodb:Query', `${ARN}/T1/index/byRoom`]]);
    expect(dynamoChecks('BatchWriteItem', { RequestItems: { T1: [], T2: [] } }, 'us-east-1', '123456789012')).toEqual([
      ['dynamodb:BatchWriteItem', `${ARN}/T1`], ['dynamodb:BatchWriteItem', `${ARN}/T2`],
    ]);
    expect(dynamoChecks('TransactWriteItems', { TransactItems: [{ Put: { TableName: 'T1' } }, { Delete: { TableName: 'T2' } }, { ConditionCheck: { TableName: 'T1' } }] }, 'us-east-1', '123456789012')).toEqual([
      ['dynamodb:PutItem', `${ARN}/T1`], ['dynamodb:DeleteItem', `${ARN}/T2`], ['dynamodb:ConditionCheckItem', `${ARN}/T1`],
    ]);
    expect(dynamoChecks('ListTables', {}, 'us-east-1', '123456789012')).toEqual([['dynamodb:ListTables', '*']]);
  });
});

describe('the proxy in front of dynalite', () => {
  let dynamo: LocalDynamo;
  let proxy: DynamoIamProxy;
  let iam: IamAuthority;
  const log: string[] = [];
  const fn = {
    id: 'S/Reader', stackName: 'S', logicalId: 'Reader', functionName: 'S-Reader-1', handler: 'index.handler', runtime: 'nodejs22.x',
    codeDir: '/nonexistent', environment: {}, timeoutSeconds: 3, memorySize: 128, accountId: '123456789012',
    role: {
      id: 'S/ReaderRole', roleName: 'S-ReaderRole-1', arn: 'arn:aws:iam::123456789012:role/S-ReaderRole-1', managedPolicyArns: [], warnings: [],
      policies: [{ name: 'S/ReaderPolicy', document: { Statement: [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: `${ARN}/Things` }] } }],
    },
  } as FunctionModel;

  beforeAll(async () => {
    dynamo = await startLocalDynamo();
    iam = new IamAuthority({ functions: { [fn.id]: fn }, accountId: '123456789012', log: (l) => log.push(l) });
    proxy = await startDynamoIamProxy({ target: dynamo.endpoint, iam });
    const admin = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    await admin.send(new CreateTableCommand({ TableName: 'Things', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }));
    await admin.send(new PutItemCommand({ TableName: 'Things', Item: { pk: { S: 'a' } } }));
    admin.destroy();
  });
  afterAll(async () => {
    await proxy?.close();
    await dynamo?.close();
  });

  function asFunction(): DynamoDBClient {
    const env = iam.credentialsFor(fn.id)!;
    return new DynamoDBClient({
      endpoint: proxy.endpoint, region: 'us-east-1', maxAttempts: 1,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN },
    });
  }

  test('GIVEN a role allowed GetItem only WHEN it gets, then puts and scans THEN the get passes and the others fail with AccessDeniedException naming action and resource', async () => {
    const client = asFunction();
    expect((await client.send(new GetItemCommand({ TableName: 'Things', Key: { pk: { S: 'a' } } }))).Item).toEqual({ pk: { S: 'a' } });
    await expect(client.send(new PutItemCommand({ TableName: 'Things', Item: { pk: { S: 'b' } } }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
      message: `User: arn:aws:sts::123456789012:assumed-role/S-ReaderRole-1/S-Reader-1 is not authorized to perform: dynamodb:PutItem on resource: ${ARN}/Things because no identity-based policy allows the dynamodb:PutItem action`,
    });
    await expect(client.send(new ScanCommand({ TableName: 'Things' }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(log).toEqual([
      expect.stringMatching(/^IAM: function S\/Reader \(role S-ReaderRole-1\) refused dynamodb:PutItem on .*statement S\/ReaderPolicy#0 allows dynamodb:GetItem on that resource, but not dynamodb:PutItem\)$/),
      expect.stringMatching(/refused dynamodb:Scan/),
    ]);
    client.destroy();
    // the refused put never reached the store
    const admin = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    expect((await admin.send(new GetItemCommand({ TableName: 'Things', Key: { pk: { S: 'b' } } }))).Item).toBeUndefined();
    admin.destroy();
  });

  test('GIVEN the function\'s key with a wrong session token or none WHEN calling THEN UnrecognizedClientException (400), as DynamoDB answers', async () => {
    const env = iam.credentialsFor(fn.id)!;
    for (const sessionToken of ['forged', undefined]) {
      const client = new DynamoDBClient({ endpoint: proxy.endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken } });
      await expect(client.send(new GetItemCommand({ TableName: 'Things', Key: { pk: { S: 'a' } } }))).rejects.toMatchObject({
        name: 'UnrecognizedClientException', $metadata: { httpStatusCode: 400 }, message: 'The security token included in the request is invalid.',
      });
      client.destroy();
    }
  });

  test('GIVEN a refused PutItem WHEN the assembly is reloaded with the grant added THEN the same credentials may put', async () => {
    const client = asFunction();
    await expect(client.send(new PutItemCommand({ TableName: 'Things', Item: { pk: { S: 'c' } } }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    const granted = { ...fn, role: { ...fn.role!, policies: [{ name: 'S/ReaderPolicy', document: { Statement: [{ Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: `${ARN}/Things` }] } }] } };
    expect(iam.update({ [fn.id]: granted })).toEqual([]);
    await client.send(new PutItemCommand({ TableName: 'Things', Item: { pk: { S: 'c' } } }));
    expect(iam.credentialsFor(fn.id)!.AWS_ACCESS_KEY_ID).toBe((await client.config.credentials()).accessKeyId);
    client.destroy();
  });
});
