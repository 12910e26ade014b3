/**
 * The `@connections` client of a handler, built once at module scope. The endpoint is CALLBACK_URL only
 * (never derived from the event's domainName). `maxAttempts: 1`: the Messenger does its own retries (429, 5xx, network errors).
 */
import { ApiGatewayManagementApiClient, ApiGatewayManagementApiClientConfig } from '@aws-sdk/client-apigatewaymanagementapi';

export function createManagementClient(
  callbackUrl: string,
  config: Omit<ApiGatewayManagementApiClientConfig, 'endpoint'> = {},
): ApiGatewayManagementApiClient {
  return new ApiGatewayManagementApiClient({ maxAttempts: 1, ...config, endpoint: callbackUrl });
}
