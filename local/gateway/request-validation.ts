/**
 * Route request validation: a route with a ModelSelectionExpression validates each message body against the JSON
 * Schema (draft 4) model its RequestModels name for the evaluated key (`$default` as fallback), before the
 * integration runs, Lambda proxy or not. No matching model and no `$default` fails validation, as API Gateway
 * documents. A body that is not JSON fails too.
 *
 * On failure API Gateway sends the "Bad request body" gateway response and does not call the backend:
 * `{"message" : "Bad request body", "connectionId": "...", "messageId": "..."}` (spacing [UNCONFIRMED]); the
 * connection stays open [UNCONFIRMED, our choice: like the other gateway error frames].
 */
import Ajv, { type ValidateFunction } from 'ajv-draft-04';
import type { RequestValidationModel, RouteModel } from '../model';
import { templateKey } from './integrations/mapping';

export function badRequestBodyFrame(connectionId: string, messageId: string): string {
  return `{"message" : "Bad request body", "connectionId": "${connectionId}", "messageId": "${messageId}"}`;
}

export type ValidationOutcome = { readonly valid: true } | { readonly valid: false; readonly reason: string };

/** Compiled validators of one API's routes (compiled once, when the router is built). */
export class RequestValidator {
  private readonly ajv = new Ajv({ allErrors: true, strict: false });
  private readonly compiled = new Map<RouteModel, Map<string, ValidateFunction | string>>();

  /** Compiles a route's models; a schema draft 4 cannot compile is reported when a message selects it. */
  constructor(routes: readonly RouteModel[]) {
    for (const route of routes) {
      if (!route.validation) continue;
      const byKey = new Map<string, ValidateFunction | string>();
      for (const [key, model] of Object.entries(route.validation.models)) {
        try {
          byKey.set(key, this.ajv.compile(model.schema as object));
        } catch (e) {
          byKey.set(key, `model ${model.name} is not a valid JSON Schema draft 4: ${(e as Error).message}`);
        }
      }
      this.compiled.set(route, byKey);
    }
  }

  validate(route: RouteModel, body: string): ValidationOutcome {
    const validation: RequestValidationModel | undefined = route.validation;
    const byKey = this.compiled.get(route);
    if (!validation || !byKey) return { valid: true };
    const key = templateKey(validation.modelSelectionExpression, body);
    const chosenKey = byKey.has(key) ? key : byKey.has('$default') ? '$default' : undefined;
    if (chosenKey === undefined) return { valid: false, reason: `no request model has key ${JSON.stringify(key)} and there is no $default model` };
    const validator = byKey.get(chosenKey)!;
    const modelName = validation.models[chosenKey].name;
    if (typeof validator === 'string') return { valid: false, reason: validator };
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (e) {
      return { valid: false, reason: `the body is not JSON (${(e as Error).message}); model ${modelName}` };
    }
    if (validator(parsed)) return { valid: true };
    const errors = (validator.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`).join('; ');
    return { valid: false, reason: `model ${modelName}: ${errors}` };
  }
}
