// $connect of a chat in the style of AWS's simple-websockets-chat-app sample (written for this bench, not copied):
// records the connection id in TABLE_NAME. SDK v3, CommonJS, unbundled; the clients are created at module scope.
const { DynamoDBClient } = require('@aws-sdk/client-dynamodb');
const { DynamoDBDocumentClient, PutCommand } = require('@aws-sdk/lib-dynamodb');

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: process.env.AWS_REGION }));

exports.handler = async (event) => {
  try {
    await documents.send(new PutCommand({ TableName: process.env.TABLE_NAME, Item: { connectionId: event.requestContext.connectionId } }));
  } catch (err) {
    return { statusCode: 500, body: `Failed to connect: ${JSON.stringify(err)}` };
  }
  return { statusCode: 200, body: 'Connected.' };
};
