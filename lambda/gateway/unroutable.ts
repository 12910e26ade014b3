/**
 * What `$default` tells a client whose message matched no route. The handler knows the API's custom route keys
 * (ROUTE_KEYS) but not its route selection expression, so:
 * - a body with an "action" field, or an API whose routes are the example chat's (join, leave, sendmessage), gets
 *   the explanation of the `{"action": ...}` protocol (not JSON, no action, an unknown action);
 * - any other message gets "the message matched no route" and the routes that exist, never a claim that an
 *   "action" field is missing (the API may select routes by another expression).
 */
import { parseJsonObjectBody, quote } from '../runtime/json-object';

/** The example chat's actions: an API with only these routes selects them by the body's "action". */
const ACTION_PROTOCOL_ROUTES = new Set(['join', 'leave', 'sendmessage']);
const EXPECTED_OBJECT = 'expected a JSON object such as {"action":"join","data":{"room":"lobby"}}';

function hasActionKey(body: unknown): boolean {
  const obj = parseJsonObjectBody(body, EXPECTED_OBJECT);
  return obj.ok && Object.prototype.hasOwnProperty.call(obj.value, 'action');
}

/** Whether the API's custom routes are the action-protocol routes of the example chat. */
function actionProtocolRoutes(routeKeys: readonly string[]): boolean {
  return routeKeys.length > 0 && routeKeys.every((key) => ACTION_PROTOCOL_ROUTES.has(key));
}

/** Why a message reached `$default`, naming the routes that exist. */
export function explainUnroutable(body: unknown, routeKeys: readonly string[]): string {
  if (!hasActionKey(body) && !actionProtocolRoutes(routeKeys)) {
    return routeKeys.length > 0
      ? `the message matched no route; the routes that exist are: ${routeKeys.join(', ')}`
      : 'the message matched no route; this API has no routes besides $default';
  }
  const exist = routeKeys.length > 0 ? `the actions that exist are: ${routeKeys.join(', ')}` : 'this API has no custom actions';
  const obj = parseJsonObjectBody(body, EXPECTED_OBJECT);
  if (!obj.ok) return `${obj.error}; ${exist}`;
  const action = obj.value.action;
  if (action === undefined) return `the message has no "action" field; expected {"action":"<name>", ...} where ${exist}`;
  if (typeof action !== 'string') return `"action" must be a string; ${exist}`;
  if (routeKeys.includes(action)) return `action ${quote(action)} could not be routed; ${exist}`;
  return `unknown action ${quote(action)}; ${exist}`;
}

/** The error frame `$default` answers with: `{"type":"error","message":...}`. */
export function errorFrame(message: string): string {
  return JSON.stringify({ type: 'error', message });
}
