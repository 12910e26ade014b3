/**
 * Benchmark-only baseline: `sendmessage` written in the common style, for comparison with the bundled handler.
 * One Scan (no LastEvaluatedKey loop, so at most one 1 MB page), then every post at once with Promise.all
 * (no concurrency bound, no 410 cleanup). It reads the same table and sends the same frame.
 */
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';

const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const api = new ApiGatewayManagementApiClient({ endpoint: process.env.CALLBACK_URL });

interface Event {
  body: string;
  requestContext: { authorizer?: { principalId?: string } };
}

export const handler = async (event: Event) => {
  const { data } = JSON.parse(event.body) as { data: { room?: string; text: string } };
  const room = data.room ?? null;
  const scan = await ddb.send(
    new ScanCommand({
      TableName: process.env.CONNECTIONS_TABLE,
      FilterExpression: room === null ? 'sk = :meta' : 'room = :room',
      ExpressionAttributeValues: room === null ? { ':meta': 'meta' } : { ':room': room },
    }),
  );
  const frame = JSON.stringify({ type: 'message', room, from: event.requestContext.authorizer?.principalId, text: data.text, at: Date.now() });
  await Promise.all(
    (scan.Items ?? []).map((item) => api.send(new PostToConnectionCommand({ ConnectionId: item.connectionId, Data: frame }))),
  );
  return { statusCode: 200 };
};
