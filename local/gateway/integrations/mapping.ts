/**
 * Request and response mapping of non-proxy integrations (MOCK, HTTP, AWS), as API Gateway documents it for
 * WebSocket APIs:
 *
 * - Request template selection: the integration's TemplateSelectionExpression (absent: `$default`) is evaluated like
 *   a route selection expression (`\$default`, `${request.body.type}`, static text); the template with that key is
 *   used, else the `$default` template when there is one [UNCONFIRMED: the fallback to `$default` is our reading].
 * - PassthroughBehavior when no template was chosen: WHEN_NO_MATCH passes the body through unchanged;
 *   WHEN_NO_TEMPLATES passes it only when the integration has no request template at all; NEVER never passes it.
 *   A refused body answers like API Gateway's HTTP 415 Unsupported Media Type (the WebSocket frame text is
 *   [UNCONFIRMED]: `{"message": "Unsupported Media Type", ...}` in the error-frame shape).
 * - Integration response selection: the backend's status code is matched against each IntegrationResponseKey
 *   (`/regex/` must match the whole code, a plain key must equal it); `$default` when none matches. Integrations
 *   without any integration response pass the backend body through [UNCONFIRMED]; with responses but none
 *   matching, the message fails (Internal server error), as API Gateway's "No match for output mapping" does.
 * - Response template selection: the integration response's TemplateSelectionExpression (absent: `$default`), with
 *   `${integration.response.statuscode}` replaced by the code; no template → the backend body unchanged.
 */
import type { IntegrationModel, IntegrationResponseModel } from '../../model';
import { renderTemplate, type TemplateVariables } from '../../vtl';
import { RouteSelector } from '../route-selection';

export type RequestMapping =
  | { readonly kind: 'mapped'; readonly body: string; readonly templateKey?: string }
  | { readonly kind: 'refused'; readonly reason: string };

/** Evaluates a template selection expression on a body; `$default` when it cannot be evaluated. */
export function templateKey(expression: string | undefined, body: string): string {
  if (expression === undefined || expression === '') return '$default';
  try {
    return new RouteSelector(expression).evaluate(body) ?? '$default';
  } catch {
    return '$default';
  }
}

/** The integration request body: a rendered request template, the message passed through, or a refusal. */
export function mapRequest(integration: IntegrationModel, body: string, variables: TemplateVariables, routeKey: string): RequestMapping {
  const templates = integration.requestTemplates;
  const key = templateKey(integration.templateSelectionExpression, body);
  const chosen = Object.prototype.hasOwnProperty.call(templates, key) ? key : Object.prototype.hasOwnProperty.call(templates, '$default') ? '$default' : undefined;
  if (chosen !== undefined) {
    const name = `request template ${JSON.stringify(chosen)} of integration ${integration.id} (route ${routeKey})`;
    return { kind: 'mapped', body: renderTemplate(templates[chosen], { ...variables, body }, name), templateKey: chosen };
  }
  const hasTemplates = Object.keys(templates).length > 0;
  const passes = integration.passthroughBehavior === 'WHEN_NO_MATCH' || (integration.passthroughBehavior === 'WHEN_NO_TEMPLATES' && !hasTemplates);
  if (passes) return { kind: 'mapped', body };
  return {
    kind: 'refused',
    reason: `no request template of integration ${integration.id} has key ${JSON.stringify(key)} (nor $default) and PassthroughBehavior is ${integration.passthroughBehavior}: 415 Unsupported Media Type`,
  };
}

/** The integration response for a backend status code, or undefined when none matches. */
export function selectIntegrationResponse(responses: readonly IntegrationResponseModel[], statusCode: number): IntegrationResponseModel | undefined {
  const code = String(statusCode);
  for (const response of responses) {
    if (response.key === '$default') continue;
    const pattern = /^\/(.*)\/$/.exec(response.key);
    if (pattern) {
      let regex: RegExp | undefined;
      try {
        regex = new RegExp(`^(?:${pattern[1]})$`);
      } catch {
        regex = undefined;
      }
      if (regex?.test(code)) return response;
    } else if (response.key === code) return response;
  }
  return responses.find((r) => r.key === '$default');
}

export type ResponseMapping = { readonly kind: 'reply'; readonly body: string } | { readonly kind: 'failed'; readonly reason: string };

/** What the route response carries for a backend result (rendered or passed through), or why the message failed. */
export function mapResponse(
  integration: IntegrationModel,
  backend: { readonly statusCode: number; readonly body: string },
  variables: TemplateVariables,
  routeKey: string,
): ResponseMapping {
  if (integration.responses.length === 0) return { kind: 'reply', body: backend.body };
  const response = selectIntegrationResponse(integration.responses, backend.statusCode);
  if (!response) {
    return { kind: 'failed', reason: `no integration response of ${integration.id} matches status ${backend.statusCode} and none has key $default (No match for output mapping)` };
  }
  const expression = response.templateSelectionExpression?.replace(/\$\{integration\.response\.statuscode\}|\$integration\.response\.statuscode/g, String(backend.statusCode));
  const key = templateKey(expression, backend.body);
  const chosen = Object.prototype.hasOwnProperty.call(response.templates, key) ? key : Object.prototype.hasOwnProperty.call(response.templates, '$default') ? '$default' : undefined;
  if (chosen === undefined) return { kind: 'reply', body: backend.body };
  const name = `response template ${JSON.stringify(chosen)} of integration response ${JSON.stringify(response.key)} of ${integration.id} (route ${routeKey})`;
  return { kind: 'reply', body: renderTemplate(response.templates[chosen], { ...variables, body: backend.body }, name) };
}
