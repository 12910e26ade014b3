/**
 * The `@connections` client of a handler, built once at module scope. The endpoint is CALLBACK_URL only
 * (never derived from the event's domainName). `maxAttempts: 1`: the Messenger does its own retries (429, 5xx, network errors).
 *
 * Built for fan-out, where one instance sends thousands of PostToConnection calls:
 * - `cacheMiddleware`: the SDK resolves its middleware stack once per command type instead of on every send
 *   (about a tenth of the CPU time of a post otherwise; middleware added to this client after its first send
 *   is therefore not used);
 * - keep-alive sockets, as many as the largest fan-out concurrency (the SDK's default agent holds 50, which
 *   would queue the posts of a higher FANOUT_CONCURRENCY behind each other). Sockets are opened only as posts
 *   need them.
 */
import { ApiGatewayManagementApiClient, ApiGatewayManagementApiClientConfig } from '@aws-sdk/client-apigatewaymanagementapi';
import { LIMITS } from '../../contract/gateway-contract';

/** Sockets per agent: at least one per post the messenger may have in flight. */
export const MANAGEMENT_MAX_SOCKETS = Math.max(50, LIMITS.maxFanoutConcurrency);

export function createManagementClient(
  callbackUrl: string,
  config: Omit<ApiGatewayManagementApiClientConfig, 'endpoint'> = {},
): ApiGatewayManagementApiClient {
  const agent = { keepAlive: true, maxSockets: MANAGEMENT_MAX_SOCKETS };
  return new ApiGatewayManagementApiClient({
    maxAttempts: 1,
    cacheMiddleware: true,
    requestHandler: { httpAgent: agent, httpsAgent: agent },
    ...config,
    endpoint: callbackUrl,
  });
}
