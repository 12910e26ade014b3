/**
 * AWS::ApiGatewayV2::Api (ProtocolType WEBSOCKET) with its Routes, Integrations, Authorizers, RouteResponses
 * and Stages → `WebSocketApiModel`. Lambda integration URIs are resolved back to the function they invoke.
 */
import { readApiKeys } from '../iam/api-keys';
import { AuthorizerModel, FunctionModel, RouteModel, StageModel, StageThrottling, ThrottleModel, WebSocketApiModel } from '../model';
import { AssemblyError, where } from './errors';
import { StackResolver } from './intrinsics';

const LAMBDA_URI = /^arn:[^:]+:apigateway:[^:]*:lambda:path\/[^/]+\/functions\/(.+)\/invocations$/;
const DEFAULT_ROUTE_SELECTION = '$request.body.action';

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
    const integrations = new Map<string, { functionId?: string; unsupported?: string; timeoutMs?: number }>();
    for (const [id, r] of ofType('AWS::ApiGatewayV2::Integration').filter(belongs)) {
      integrations.set(idOf(id), readIntegration(resolver, id, r.Properties ?? {}, lookup));
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
      if (typeof p.Target === 'string' && p.Target !== '') {
        const integrationId = /^integrations\/(.+)$/.exec(p.Target)?.[1];
        const integration = integrationId ? integrations.get(integrationId) : undefined;
        if (!integration) problems.push(`${where(resolver.stackName, id)}: Target ${p.Target} names no integration of the API`);
        else if (integration.unsupported) problems.push(integration.unsupported);
        else {
          functionId = integration.functionId;
          integrationTimeoutMs = integration.timeoutMs;
        }
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

function readIntegration(resolver: StackResolver, logicalId: string, props: Record<string, unknown>, lookup: FunctionLookup) {
  const type = resolver.resolve(props.IntegrationType, logicalId, 'Properties.IntegrationType');
  if (type !== 'AWS_PROXY') {
    return { unsupported: `${where(resolver.stackName, logicalId)}: integration type ${String(type)} is not supported (only AWS_PROXY to a Lambda function)` };
  }
  const fn = lambdaBehind(resolver, logicalId, props.IntegrationUri, 'Properties.IntegrationUri', lookup);
  if (typeof fn === 'string') return { unsupported: fn };
  // TimeoutInMillis: 50 ms to 29 s (API Gateway refuses other values at deploy); absent means 29 s.
  const timeout = Number(resolver.resolve(props.TimeoutInMillis, logicalId, 'Properties.TimeoutInMillis'));
  return Number.isFinite(timeout) && timeout >= 50 && timeout <= 29_000 ? { functionId: fn.id, timeoutMs: timeout } : { functionId: fn.id };
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
