import { Token } from 'aws-cdk-lib';
import { LIMITS } from '../contract/gateway-contract';

/** Route keys API Gateway reserves; the construct creates these routes itself. */
export const RESERVED_ROUTE_KEYS = ['$connect', '$disconnect', '$default'];

/** Routes per API (API Gateway's default quota is 300, raisable on request; the default is checked). */
export const MAX_ROUTES_PER_API = 300;

/** Longest route key API Gateway accepts. */
export const MAX_ROUTE_KEY_LENGTH = 128;

const JSON_PATH = '[A-Za-z0-9_]+(?:\\.[A-Za-z0-9_]+)*';
const BARE_VARIABLE = new RegExp(`^\\$request\\.body\\.${JSON_PATH}`);
const BRACED_VARIABLE = new RegExp(`^\\$\\{request\\.body\\.${JSON_PATH}\\}`);

/**
 * Checks a route selection expression against API Gateway's route selection grammar:
 * `$request.body.<path>`, `${request.body.<path>}`, static text, `\$` for a literal dollar sign,
 * and any mix of these. Unresolved tokens are not checked.
 */
export function validateRouteSelectionExpression(expression: string): void {
  if (Token.isUnresolved(expression)) return;
  const fail = (position: number, problem: string): never => {
    throw new Error(
      `Invalid routeSelectionExpression '${expression}': ${problem} at position ${position}. ` +
        'A WebSocket route selection expression is made of $request.body.<path>, ${request.body.<path>}, ' +
        'static text and \\$ for a literal dollar sign (for example $request.body.action).',
    );
  };
  if (expression.length === 0) fail(0, 'the expression is empty');
  let position = 0;
  while (position < expression.length) {
    const rest = expression.slice(position);
    if (rest.startsWith('\\$')) {
      position += 2;
      continue;
    }
    if (rest.startsWith('$')) {
      const match = BARE_VARIABLE.exec(rest) ?? BRACED_VARIABLE.exec(rest);
      if (!match) {
        fail(position, 'a $ that starts no $request.body.<path> variable (the only variable source for WebSocket routes; write \\$ for a literal $)');
      }
      position += match![0].length;
      continue;
    }
    position += 1;
  }
}

/**
 * Checks a stage name: 1 to 128 letters, digits, hyphens or underscores.
 * (`$default` stages exist only for HTTP APIs.) Unresolved tokens are not checked.
 */
export function validateStageName(stageName: string): void {
  if (Token.isUnresolved(stageName)) return;
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(stageName)) {
    throw new Error(
      `Invalid stageName '${stageName}': a WebSocket API stage name must be 1 to 128 characters of ` +
        'letters, digits, hyphens (-) and underscores (_).',
    );
  }
}

/** Largest `fanoutConcurrency`; the sendmessage handler refuses a FANOUT_CONCURRENCY above it too. */
export const MAX_FANOUT_CONCURRENCY: number = LIMITS.maxFanoutConcurrency;

/** Checks `fanoutConcurrency`: a whole number from 1 to 1000. Unresolved tokens are not checked. */
export function validateFanoutConcurrency(value: number): void {
  if (Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < 1 || value > MAX_FANOUT_CONCURRENCY) {
    throw new Error(
      `Invalid fanoutConcurrency ${value}: it must be a whole number from 1 to ${MAX_FANOUT_CONCURRENCY} ` +
        '(the most PostToConnection calls the sendmessage handler makes at once).',
    );
  }
}

/**
 * Checks a custom route key before it is added next to `existingKeys` (which include the reserved keys).
 * Unresolved tokens are not checked, except for the route count.
 */
export function validateCustomRouteKey(routeKey: string, existingKeys: readonly string[]): void {
  if (existingKeys.length >= MAX_ROUTES_PER_API) {
    throw new Error(
      `Cannot add route '${routeKey}': a WebSocket API has at most ${MAX_ROUTES_PER_API} routes ` +
        '(API Gateway quota, raisable through AWS Support).',
    );
  }
  if (Token.isUnresolved(routeKey)) return;
  if (routeKey.length === 0) {
    throw new Error('Invalid route key \'\': a route key must not be empty.');
  }
  if (routeKey.length > MAX_ROUTE_KEY_LENGTH) {
    throw new Error(
      `Invalid route key '${routeKey.slice(0, 20)}…' (${routeKey.length} characters): ` +
        `a route key is at most ${MAX_ROUTE_KEY_LENGTH} characters.`,
    );
  }
  if (RESERVED_ROUTE_KEYS.includes(routeKey)) {
    throw new Error(
      `Cannot add route '${routeKey}': the construct creates the ${RESERVED_ROUTE_KEYS.join(', ')} routes itself. ` +
        'Configure them through the construct props instead.',
    );
  }
  if (routeKey.startsWith('$')) {
    throw new Error(
      `Invalid route key '${routeKey}': custom route keys must not start with '$' ` +
        `(only ${RESERVED_ROUTE_KEYS.join(', ')} may). Rename the route, e.g. '${routeKey.slice(1)}'.`,
    );
  }
  if (existingKeys.includes(routeKey)) {
    throw new Error(`Cannot add route '${routeKey}': the API already has a route with this key.`);
  }
}
