/**
 * HTTP_PROXY and HTTP integrations: the (mapped) message is sent to IntegrationUri (`${stageVariables.x}` substituted)
 * with IntegrationMethod (POST when absent), Content-Type `application/json` unless RequestParameters set one; the reply's status and body go back
 * to the gateway (HTTP_PROXY: the body is the route response as is; HTTP: through the integration responses).
 */
import { requestHeaders, type BackendResult, type IntegrationCall } from './types';

export async function httpResult(call: IntegrationCall, body: string): Promise<BackendResult> {
  const method = call.integration.method && call.integration.method !== 'ANY' ? call.integration.method : 'POST';
  const { headers } = requestHeaders(call);
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
  const response = await fetch(withStageVariables(call.integration.uri!, call.variables.stageVariables), {
    method,
    headers,
    ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
    signal: call.signal,
  });
  return { statusCode: response.status, body: await response.text() };
}

/** API Gateway substitutes `${stageVariables.name}` in an HTTP integration's URI (a missing variable → ""). */
export function withStageVariables(uri: string, stageVariables: Record<string, string>): string {
  return uri.replace(/\$\{stageVariables\.([A-Za-z0-9_]+)\}/g, (_m, name: string) => stageVariables[name] ?? '');
}
