// sendmessage in the style of AWS's simple-websockets-chat-app sample (written for this bench): scans every
// connection id (one Scan page, as the sample), builds a management client per invocation from the event's
// domainName and stage, posts `data` of the frame to all of them at once, and deletes the ones that are gone (410).
const { DynamoDBClient } = require('@aws-sdk/client-dynamodb');
const { DynamoDBDocumentClient, ScanCommand, DeleteCommand } = require('@aws-sdk/lib-dynamodb');
const { ApiGatewayManagementApiClient, PostToConnectionCommand } = require('@aws-sdk/client-apigatewaymanagementapi');

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: process.env.AWS_REGION }));
const { TABLE_NAME } = process.env;

exports.handler = async (event) => {
  let connections;
  try {
    connections = await documents.send(new ScanCommand({ TableName: TABLE_NAME, ProjectionExpression: 'connectionId' }));
  } catch (err) {
    return { statusCode: 500, body: err.stack };
  }
  const management = new ApiGatewayManagementApiClient({
    endpoint: `https://${event.requestContext.domainName}/${event.requestContext.stage}`,
  });
  const data = JSON.parse(event.body).data;
  const posts = connections.Items.map(async ({ connectionId }) => {
    try {
      await management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
    } catch (err) {
      if (err.$metadata && err.$metadata.httpStatusCode === 410) {
        await documents.send(new DeleteCommand({ TableName: TABLE_NAME, Key: { connectionId } }));
      } else {
        throw err;
      }
    }
  });
  try {
    await Promise.all(posts);
  } catch (err) {
    return { statusCode: 500, body: err.stack };
  }
  return { statusCode: 200, body: 'Data sent.' };
};
