// $disconnect in the style of AWS's simple-websockets-chat-app sample (written for this bench): forgets the connection.
const { DynamoDBClient } = require('@aws-sdk/client-dynamodb');
const { DynamoDBDocumentClient, DeleteCommand } = require('@aws-sdk/lib-dynamodb');

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: process.env.AWS_REGION }));

exports.handler = async (event) => {
  try {
    await documents.send(new DeleteCommand({ TableName: process.env.TABLE_NAME, Key: { connectionId: event.requestContext.connectionId } }));
  } catch (err) {
    return { statusCode: 500, body: `Failed to disconnect: ${JSON.stringify(err)}` };
  }
  return { statusCode: 200, body: 'Disconnected.' };
};
