/**
 * The handlers' DynamoDB document client (lambda/runtime/dynamo-client.ts) against a real dynalite table: the given
 * SDK configuration is used, and undefined values inside maps and lists are left out instead of refused (the SDK's
 * default refuses them; undefined top-level attributes it leaves out either way).
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../../lambda/runtime/dynamo-client';
import { TEST_CREDENTIALS, useLocalDynamo } from '../support/local-dynamodb';

const dynamo = useLocalDynamo();
beforeAll(async () => {
  await dynamo.createConnectionsTable('documents');
});

describe('createDocumentClient', () => {
  test('GIVEN an item with undefined values in a map and a list WHEN written through the client THEN it is stored without them', async () => {
    // GIVEN a client on the local table
    const doc = createDocumentClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS });
    // WHEN
    await doc.send(new PutCommand({ TableName: 'documents', Item: { pk: 'conn#A=', sk: 'meta', userId: 'ann', context: { tenant: 't1', role: undefined }, tags: ['a', undefined] } }));
    // THEN
    const out = await doc.send(new GetCommand({ TableName: 'documents', Key: { pk: 'conn#A=', sk: 'meta' } }));
    expect(out.Item).toStrictEqual({ pk: 'conn#A=', sk: 'meta', userId: 'ann', context: { tenant: 't1' }, tags: ['a'] });
    doc.destroy();
  });
});
