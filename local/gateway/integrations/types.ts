/** What every integration module gets and returns. */
import type { IamAuthority } from '../../iam/credentials';
import type { IntegrationModel } from '../../model';
import type { TemplateVariables } from '../../vtl';

/** Endpoints of the emulator's local AWS services, by signing name (`dynamodb`, `sqs`). */
export type ServiceEndpoints = Readonly<Record<string, string | undefined>>;

export interface IntegrationDeps {
  readonly services: ServiceEndpoints;
  /** Local IAM: integration roles get credentials checked against their policies. @default - requests signed with a key nothing checks */
  readonly iam?: IamAuthority;
  readonly region: string;
  readonly accountId: string;
}

export interface IntegrationCall {
  readonly integration: IntegrationModel;
  readonly routeKey: string;
  /** The client's message. */
  readonly body: string;
  readonly variables: TemplateVariables;
  readonly deps: IntegrationDeps;
  /** Aborted at the integration timeout. */
  readonly signal: AbortSignal;
}

/** The backend's answer before response mapping. */
export interface BackendResult {
  readonly statusCode: number;
  readonly body: string;
}

/**
 * `integration.request.header.{Name}` values of RequestParameters: `'static'`, `context.{name}`,
 * `stageVariables.{name}`, `route.request.body.{name}`. Others are skipped (returned in `skipped`).
 */
export function requestHeaders(call: IntegrationCall): { headers: Record<string, string>; skipped: string[] } {
  const headers: Record<string, string> = {};
  const skipped: string[] = [];
  for (const [target, source] of Object.entries(call.integration.requestParameters)) {
    const name = /^integration\.request\.header\.(.+)$/.exec(target)?.[1];
    if (!name) {
      skipped.push(target);
      continue;
    }
    const value = parameterValue(source, call);
    if (value === undefined) skipped.push(target);
    else headers[name] = value;
  }
  return { headers, skipped };
}

function parameterValue(source: string, call: IntegrationCall): string | undefined {
  const literal = /^'(.*)'$/s.exec(source);
  if (literal) return literal[1];
  const [root, ...rest] = source.split('.');
  const read = (obj: unknown, path: string[]): unknown => path.reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
  let value: unknown;
  if (root === 'context') value = read(call.variables.context, rest);
  else if (root === 'stageVariables') value = call.variables.stageVariables[rest.join('.')];
  else if (source.startsWith('route.request.body.')) {
    try {
      value = read(JSON.parse(call.body), source.slice('route.request.body.'.length).split('.'));
    } catch {
      value = undefined;
    }
  }
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}
