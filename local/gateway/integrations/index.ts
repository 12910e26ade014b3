/**
 * Runs a route's non-Lambda integration for one message and says what the client gets:
 * - `reply`: the route response body (sent only when the route has a route response);
 * - `error`: an error frame (Internal server error, Endpoint request timed out, Unsupported Media Type) and the
 *   log line naming route, integration and, for template errors, template and line.
 * Never throws.
 */
import { TemplateError } from '../../vtl';
import { awsServiceResult } from './aws-service';
import { httpResult } from './http';
import { mapRequest, mapResponse } from './mapping';
import { mockResult } from './mock';
import type { BackendResult, IntegrationCall } from './types';

export type { IntegrationDeps, ServiceEndpoints } from './types';

export type IntegrationFrame = 'Internal server error' | 'Endpoint request timed out' | 'Unsupported Media Type';

export type IntegrationOutcome =
  | { readonly kind: 'reply'; readonly body: string }
  | { readonly kind: 'error'; readonly frame: IntegrationFrame; readonly log: string };

export async function runIntegration(call: IntegrationCall): Promise<IntegrationOutcome> {
  const { integration } = call;
  const failed = (log: string, frame: IntegrationFrame = 'Internal server error'): IntegrationOutcome => ({ kind: 'error', frame, log });
  try {
    if (integration.type === 'HTTP_PROXY') {
      const result = await httpResult(call, call.body);
      return { kind: 'reply', body: result.body };
    }
    const request = mapRequest(integration, call.body, call.variables, call.routeKey);
    if (request.kind === 'refused') return failed(request.reason, 'Unsupported Media Type');
    let result: BackendResult;
    if (integration.type === 'MOCK') result = mockResult(request.body);
    else if (integration.type === 'HTTP') result = await httpResult(call, request.body);
    else result = await awsServiceResult(call, request.body);
    const response = mapResponse(integration, result, call.variables, call.routeKey);
    if (response.kind === 'failed') return failed(response.reason);
    return { kind: 'reply', body: response.body };
  } catch (err) {
    if (call.signal.aborted) return failed(`integration ${integration.id} did not answer within its timeout`, 'Endpoint request timed out');
    if (err instanceof TemplateError) return failed(`template error: ${err.message}`);
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    return failed(`integration ${integration.id} (${integration.type}${integration.uri ? ` ${integration.uri}` : ''}) failed: ${(err as Error).message}${cause ? ` (${cause})` : ''}`);
  }
}
