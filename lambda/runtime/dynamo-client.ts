/**
 * The DynamoDB document client of a handler, built once at module scope. The endpoint comes from the SDK's
 * own configuration (region, credentials, `AWS_ENDPOINT_URL_DYNAMODB` for a local table).
 */
import { DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export function createDocumentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: { removeUndefinedValues: true },
  });
}
