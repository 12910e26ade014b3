/**
 * AWS::ApiGatewayV2::Api (ProtocolType WEBSOCKET) with its Routes, Integrations, Authorizers, RouteResponses
 * and Stages → `WebSocketApiModel`. Lambda integration URIs are resolved back to the function they invoke.
 */
import { readApiKeys } from '../iam/api-keys';
import {
  AuthorizerModel, FunctionModel, IntegrationModel, IntegrationResponseModel, RequestValidationModel, RouteModel, StageModel, StageThrottling,
  ThrottleModel, WebSocketApiModel,
} from '../model';
import { AssemblyError, where } from './errors';
import { roleOf } from './functions';
import { StackResolver } from './intrinsics';

const LAMBDA_URI = /^arn:[^:]+:apigateway:[^:]*:lambda:path\/[^/]+\/functions\/(.+)\/invocations$/;
const DEFAULT_ROUTE_SELECTION = '$request.body.action';
/** Integration types the gateway runs besides AWS_PROXY to Lambda (local/gateway/integrations/). */
const TEMPLATED_TYPES = new Set(['MOCK', 'HTTP_PROXY', 'HTTP', 'AWS']);
const PASSTHROUGH_BEHAVIORS = new Set(['WHEN_NO_MATCH', 'WHEN_NO_TEMPLATES', 'NEVER']);

type ReadIntegration = { functionId?: string; unsupported?: string; timeoutMs?: number; integration?: IntegrationModel; warning?: string };

/** Finds a function of the assembly by ARN (qualifier ignored) or name. */
export type FunctionLookup = (arnOrName: string) => FunctionModel | undefined;

export function functionLookup(functions: FunctionModel[], region: (f: FunctionModel) => string, account: (f: FunctionModel) => string): FunctionLookup {
  const byKey = new Map<string, FunctionModel>();
  for (const f of functions) {
    byKey.set(f.functionName, f);
    byKey.set(`arn:aws:lambda:${region(f)}:${account(f)}:function:${f.functionName}`, f);
  }
  return (arnOrName) => {
    const unqualified = /^(arn:[^:]+:lambda:[^:]*:[^:]*:function:[^:]+)(:.+)?$/.exec(arnOrName)?.[1] ?? arnOrName;
    return byKey.get(unqualified);
  };
}

export function readWebSocketApis(resolver: StackResolver, lookup: FunctionLookup, warnings: string[]): WebSocketApiModel[] {
  const resources = Object.entries(resolver.resources).filter(([id]) => resolver.isDeployed(id));
  const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);
  const apis: WebSocketApiModel[] = [];
  for (const [apiLogicalId, api] of ofType('AWS::ApiGatewayV2::Api')) {
    const props = api.Properties ?? {};
    if (resolver.resolve(props.ProtocolType, apiLogicalId, 'Properties.ProtocolType') !== 'WEBSOCKET') continue;
    const apiId = String(resolver.ref(apiLogicalId, apiLogicalId, 'Ref'));
    const belongs = ([id, r]: [string, { Properties?: Record<string, unknown> }]) =>
      resolver.resolve(r.Properties?.ApiId, id, 'Properties.ApiId') === apiId;
    const idOf = (logicalId: string) => String(resolver.ref(logicalId, logicalId, 'Ref'));

    const authorizers = new Map<string, AuthorizerModel | string>();
    for (const [id, r] of ofType('AWS::ApiGatewayV2::Authorizer').filter(belongs)) {
      authorizers.set(idOf(id), readAuthorizer(resolver, id, r.Properties ?? {}, lookup));
    }
    const integrationResponses = new Map<string, IntegrationResponseModel[]>();
    for (const [id, r] of ofType('AWS::ApiGatewayV2::IntegrationResponse').filter(belongs)) {
      const p = resolver.resolve(r.Properties ?? {}, id, 'Properties') as Record<string, any>;
      const list = integrationResponses.get(String(p.IntegrationId)) ?? [];
      list.push({
        key: String(p.IntegrationResponseKey),
        templates: stringMap(p.ResponseTemplates),
        ...(typeof p.TemplateSelectionExpression === 'string' ? { templateSelectionExpression: p.TemplateSelectionExpression } : {}),
      });
      integrationResponses.set(String(p.IntegrationId), list);
    }
    const integrations = new Map<string, ReadIntegration>();
    for (const [id, r] of ofType('AWS::ApiGatewayV2::Integration').filter(belongs)) {
      const integration = readIntegration(resolver, id, r.Properties ?? {}, lookup, integrationResponses.get(idOf(id)) ?? []);
      if (integration.warning) warnings.push(integration.warning);
      integrations.set(idOf(id), integration);
    }
    const models = new Map<string, { name: string; schema: unknown } | string>();
    for (const [id, r] of ofType('AWS::ApiGatewayV2::Model').filter(belongs)) {
      const p = resolver.resolve(r.Properties ?? {}, id, 'Properties') as Record<string, any>;
      models.set(String(p.Name), readModelSchema(resolver.stackName, id, p));
    }
    const defaultResponses = new Set(
      ofType('AWS::ApiGatewayV2::RouteResponse').filter(belongs)
        .filter(([id, r]) => resolver.resolve(r.Properties?.RouteResponseKey, id, 'Properties.RouteResponseKey') === '$default')
        .map(([id, r]) => resolver.resolve(r.Properties?.RouteId, id, 'Properties.RouteId')),
    );
    const routes: RouteModel[] = ofType('AWS::ApiGatewayV2::Route').filter(belongs).map(([id, r]) => {
      const p = resolver.resolve(r.Properties ?? {}, id, 'Properties') as Record<string, any>;
      const routeId = idOf(id);
      const problems: string[] = [];
      let functionId: string | undefined;
      let integrationTimeoutMs: number | undefined;
      let integrationModel: IntegrationModel | undefined;
      if (typeof p.Target === 'string' && p.Target !== '') {
        const integrationId = /^integrations\/(.+)$/.exec(p.Target)?.[1];
        const integration = integrationId ? integrations.get(integrationId) : undefined;
        if (!integration) problems.push(`${where(resolver.stackName, id)}: Target ${p.Target} names no integration of the API`);
        else if (integration.unsupported) problems.push(integration.unsupported);
        else {
          functionId = integration.functionId;
          integrationTimeoutMs = integration.timeoutMs;
          integrationModel = integration.integration;
        }
      }
      const validation = readValidation(resolver.stackName, id, p, models, problems);
      if (integrationModel && (p.RouteKey === '$connect' || p.RouteKey === '$disconnect')) {
        warnings.push(`${where(resolver.stackName, id)}: the ${integrationModel.type} integration of ${p.RouteKey} is not run locally (the emulator runs only Lambda integrations there; connections are accepted as if the route had none)`);
      }
      let authorizer: AuthorizerModel | undefined;
      const authorizationType = String(p.AuthorizationType ?? 'NONE');
      if (authorizationType === 'CUSTOM') {
        const found = authorizers.get(String(p.AuthorizerId));
        if (typeof found === 'string') problems.push(found);
        else if (!found) problems.push(`${where(resolver.stackName, id)}: AuthorizerId ${p.AuthorizerId} names no authorizer of the API`);
        else authorizer = found;
      }
      // AWS_IAM: the gateway checks the upgrade's SigV4 signature when local IAM is on (local/gateway/handshake.ts).
      const unsupported = problems.length ? problems.join('; ') : undefined;
      if (unsupported) warnings.push(unsupported);
      return {
        routeId,
        routeKey: String(p.RouteKey),
        ...(functionId ? { functionId } : {}),
        ...(integrationTimeoutMs !== undefined ? { integrationTimeoutMs } : {}),
        authorizationType,
        ...(authorizer ? { authorizer } : {}),
        apiKeyRequired: p.ApiKeyRequired === true || p.ApiKeyRequired === 'true',
        hasRouteResponse: typeof p.RouteResponseSelectionExpression === 'string' && defaultResponses.has(routeId),
        ...(unsupported ? { unsupported } : {}),
        ...(integrationModel ? { integration: integrationModel } : {}),
        ...(validation ? { validation } : {}),
      };
    });
    const stages: StageModel[] = ofType('AWS::ApiGatewayV2::Stage').filter(belongs).map(([id, r]) => {
      const p = resolver.resolve(r.Properties ?? {}, id, 'Properties') as Record<string, any>;
      const variables = Object.fromEntries(Object.entries(p.StageVariables ?? {}).map(([k, v]) => [k, String(v)]));
      return { stageName: String(p.StageName), stageVariables: variables, ...stageThrottling(p) };
    });
    if (stages.length === 0) warnings.push(`${where(resolver.stackName, apiLogicalId)}: the WebSocket API has no stage, so no client can reach it`);
    apis.push({
      stackName: resolver.stackName,
      logicalId: apiLogicalId,
      apiId,
      name: String(resolver.resolve(props.Name, apiLogicalId, 'Properties.Name') ?? apiLogicalId),
      routeSelectionExpression: String(resolver.resolve(props.RouteSelectionExpression, apiLogicalId, 'Properties.RouteSelectionExpression') ?? DEFAULT_ROUTE_SELECTION),
      routes,
      stages,
      region: resolver.region,
      accountId: resolver.accountId,
      ...withApiKeys(readApiKeys(resolver, apiLogicalId, warnings)),
    });
  }
  return apis;
}

/** A route setting's throttling (a limit it leaves out keeps the account default: 10000 rps, burst 5000). */
function throttleOf(settings: Record<string, unknown> | undefined): ThrottleModel | undefined {
  if (!settings || (settings.ThrottlingRateLimit === undefined && settings.ThrottlingBurstLimit === undefined)) return undefined;
  const rate = Number(settings.ThrottlingRateLimit ?? 10_000);
  const burst = Number(settings.ThrottlingBurstLimit ?? 5_000);
  return Number.isFinite(rate) && Number.isFinite(burst) ? { rateLimit: Math.max(0, rate), burstLimit: Math.max(0, Math.floor(burst)) } : undefined;
}

function stageThrottling(p: Record<string, any>): { throttling?: StageThrottling } {
  const defaultRoute = throttleOf(p.DefaultRouteSettings);
  const routes: Record<string, ThrottleModel> = {};
  for (const [routeKey, settings] of Object.entries((p.RouteSettings ?? {}) as Record<string, Record<string, unknown>>)) {
    const throttle = throttleOf(settings);
    if (throttle) routes[routeKey] = throttle;
  }
  if (!defaultRoute && Object.keys(routes).length === 0) return {};
  return { throttling: { ...(defaultRoute ? { defaultRoute } : {}), ...(Object.keys(routes).length ? { routes } : {}) } };
}

function withApiKeys(keys: Record<string, string[]>): { apiKeys?: Record<string, string[]> } {
  return Object.keys(keys).length > 0 ? { apiKeys: keys } : {};
}

function lambdaBehind(resolver: StackResolver, logicalId: string, uri: unknown, path: string, lookup: FunctionLookup): FunctionModel | string {
  let resolved: string;
  try {
    resolved = resolver.resolveString(uri, logicalId, path);
  } catch (e) {
    if (e instanceof AssemblyError) return e.message;
    throw e;
  }
  const arn = LAMBDA_URI.exec(resolved)?.[1];
  if (!arn) return `${where(resolver.stackName, logicalId)}: ${path} ${resolved} is not a Lambda invocation URI`;
  return lookup(arn) ?? `${where(resolver.stackName, logicalId)}: ${path} invokes ${arn}, which is not a function of the assembly`;
}

function stringMap(value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object') return {};
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

/** An AWS::ApiGatewayV2::Model's JSON Schema (an object, or its JSON text), or why it cannot be used. */
function readModelSchema(stackName: string, logicalId: string, p: Record<string, any>): { name: string; schema: unknown } | string {
  let schema: unknown = p.Schema;
  if (typeof schema === 'string') {
    try {
      schema = JSON.parse(schema);
    } catch (e) {
      return `${where(stackName, logicalId)}: Schema of model ${p.Name} is not JSON (${(e as Error).message}); fix the model's schema`;
    }
  }
  if (schema === null || typeof schema !== 'object') return `${where(stackName, logicalId)}: Schema of model ${p.Name} is not a JSON Schema object`;
  return { name: String(p.Name), schema };
}

/**
 * Route ModelSelectionExpression + RequestModels. API Gateway validates only when the route has a model selection
 * expression; RequestModels without one are reported (they validate nothing).
 */
function readValidation(
  stackName: string,
  logicalId: string,
  p: Record<string, any>,
  models: Map<string, { name: string; schema: unknown } | string>,
  problems: string[],
): RequestValidationModel | undefined {
  const requestModels = stringMap(p.RequestModels);
  if (typeof p.ModelSelectionExpression !== 'string' || p.ModelSelectionExpression === '') return undefined;
  const chosen: Record<string, { name: string; schema: unknown }> = {};
  for (const [key, name] of Object.entries(requestModels)) {
    const model = models.get(name);
    if (model === undefined) problems.push(`${where(stackName, logicalId)}: RequestModels.${key} names model ${name}, which is not a model of the API`);
    else if (typeof model === 'string') problems.push(model);
    else chosen[key] = model;
  }
  return { modelSelectionExpression: p.ModelSelectionExpression, models: chosen };
}

function readIntegration(
  resolver: StackResolver,
  logicalId: string,
  props: Record<string, unknown>,
  lookup: FunctionLookup,
  responses: IntegrationResponseModel[],
): ReadIntegration {
  const label = where(resolver.stackName, logicalId);
  const type = resolver.resolve(props.IntegrationType, logicalId, 'Properties.IntegrationType');
  // TimeoutInMillis: 50 ms to 29 s (API Gateway refuses other values at deploy); absent means 29 s.
  const timeout = Number(resolver.resolve(props.TimeoutInMillis, logicalId, 'Properties.TimeoutInMillis'));
  const timeoutMs = Number.isFinite(timeout) && timeout >= 50 && timeout <= 29_000 ? { timeoutMs: timeout } : {};
  if (type === 'AWS_PROXY') {
    const fn = lambdaBehind(resolver, logicalId, props.IntegrationUri, 'Properties.IntegrationUri', lookup);
    if (typeof fn === 'string') return { unsupported: fn };
    return { functionId: fn.id, ...timeoutMs };
  }
  if (typeof type !== 'string' || !TEMPLATED_TYPES.has(type)) {
    return { unsupported: `${label}: integration type ${String(type)} is not supported (the emulator runs AWS_PROXY to Lambda, MOCK, HTTP_PROXY, HTTP and AWS); give the route one of those` };
  }
  let p: Record<string, any>;
  try {
    p = resolver.resolve(props, logicalId, 'Properties') as Record<string, any>;
  } catch (e) {
    if (e instanceof AssemblyError) return { unsupported: e.message };
    throw e;
  }
  if (p.ConnectionType === 'VPC_LINK') {
    return { unsupported: `${label}: ConnectionType VPC_LINK is not supported (a private integration has no local target); point the integration at a public URL to run it locally` };
  }
  const uri = typeof p.IntegrationUri === 'string' ? p.IntegrationUri : undefined;
  if (type !== 'MOCK' && !uri) return { unsupported: `${label}: a ${type} integration needs IntegrationUri` };
  if ((type === 'HTTP' || type === 'HTTP_PROXY') && !/^(https?:\/\/|\$\{stageVariables\.)/.test(uri!)) {
    return { unsupported: `${label}: IntegrationUri ${uri} of a ${type} integration is not an http(s) URL` };
  }
  if (type === 'AWS' && !/^arn:[^:]+:apigateway:[^:]*:[^:]+:(path|action)\/.+$/.test(uri!)) {
    return { unsupported: `${label}: IntegrationUri ${uri} is not an AWS service integration URI (arn:aws:apigateway:{region}:{service}:path/... or :action/...)` };
  }
  const passthrough = typeof p.PassthroughBehavior === 'string' ? p.PassthroughBehavior : 'WHEN_NO_MATCH';
  if (!PASSTHROUGH_BEHAVIORS.has(passthrough)) return { unsupported: `${label}: PassthroughBehavior ${passthrough} is not WHEN_NO_MATCH, WHEN_NO_TEMPLATES or NEVER` };
  const { role } = p.CredentialsArn !== undefined ? roleOf(resolver, resolver, props.CredentialsArn) : { role: undefined };
  const warning = type === 'AWS' && !role
    ? `${label}: ${p.CredentialsArn === undefined ? 'no CredentialsArn' : `CredentialsArn ${String(p.CredentialsArn)} is not a role of the assembly`}; its AWS calls are signed with the developer key and not IAM-checked`
    : undefined;
  const integration: IntegrationModel = {
    id: label,
    type,
    ...(uri ? { uri } : {}),
    ...(typeof p.IntegrationMethod === 'string' ? { method: p.IntegrationMethod.toUpperCase() } : {}),
    ...(role ? { credentialsRole: role } : {}),
    requestTemplates: stringMap(p.RequestTemplates),
    ...(typeof p.TemplateSelectionExpression === 'string' ? { templateSelectionExpression: p.TemplateSelectionExpression } : {}),
    passthroughBehavior: passthrough,
    requestParameters: stringMap(p.RequestParameters),
    ...(typeof p.ContentHandlingStrategy === 'string' ? { contentHandling: p.ContentHandlingStrategy } : {}),
    responses,
    ...timeoutMs,
  };
  return { integration, ...timeoutMs, ...(warning ? { warning } : {}) };
}

function readAuthorizer(resolver: StackResolver, logicalId: string, props: Record<string, unknown>, lookup: FunctionLookup): AuthorizerModel | string {
  const p = resolver.resolve(props, logicalId, 'Properties') as Record<string, any>;
  if (p.AuthorizerType !== 'REQUEST') {
    return `${where(resolver.stackName, logicalId)}: authorizer type ${p.AuthorizerType} is not supported (WebSocket APIs have only Lambda REQUEST authorizers, spec §2.2)`;
  }
  const fn = lambdaBehind(resolver, logicalId, props.AuthorizerUri, 'Properties.AuthorizerUri', lookup);
  if (typeof fn === 'string') return fn;
  const identitySource = Array.isArray(p.IdentitySource) ? p.IdentitySource.map(String) : p.IdentitySource ? String(p.IdentitySource).split(',').map((s) => s.trim()) : [];
  return {
    authorizerId: String(resolver.ref(logicalId, logicalId, 'Ref')),
    name: String(p.Name ?? logicalId),
    functionId: fn.id,
    identitySource,
  };
}
