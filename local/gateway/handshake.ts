/**
 * The `$connect` handshake decision (spec §2.1, §2.2, §2.3): identity sources → authorizer → `$connect` integration.
 * Returns either a rejection status for the upgrade or acceptance with the subprotocol to echo.
 */
import type { FunctionInvoker, RouteModel } from '../model';
import { authorizerEvent, connectEvent, iamCallerIdentity, type CallerIdentity, type ConnectionFacts, type HandshakeRequest } from './events';
import { evaluateInvokePolicy, MalformedPolicyError } from './iam-policy';
import { methodArn } from './events';
import type { IamAuthority } from '../iam/credentials';
import type { SignableRequest } from '../iam/sigv4';
import { LOCAL_API_KEY } from '../iam/api-keys';

/** What the handshake checks beyond the authorizer: AWS_IAM signatures and API keys. */
export interface HandshakeChecks {
  /** Verifies SigV4 on AWS_IAM `$connect` routes. @default - AWS_IAM routes are not checked (logged) */
  readonly iam?: IamAuthority;
  /** The upgrade request as received (method, path and query, headers), for the signature. */
  readonly signable?: SignableRequest;
  /**
   * API key values accepted on this stage when `$connect` has ApiKeyRequired (LOCAL_API_KEY is always accepted).
   * @default - only LOCAL_API_KEY
   */
  readonly apiKeys?: readonly string[];
}

export type HandshakeDecision =
  | { readonly accepted: true; readonly subprotocol?: string; readonly authorizer?: Record<string, unknown>; readonly caller?: CallerIdentity }
  | { readonly accepted: false; readonly status: number; readonly message: string };

export type GatewayLog = (line: string) => void;

function reject(status: number, message: string): HandshakeDecision {
  return { accepted: false, status, message };
}

/**
 * Identity sources (spec §2.2): every one must be present and non-empty, else 401 without calling the authorizer.
 * Supports `route.request.header.X` (case-insensitive), `route.request.querystring.X`, `stageVariables.X`;
 * `context.X` sources are treated as present [INF].
 */
export function missingIdentitySource(
  identitySource: string[],
  request: HandshakeRequest,
  stageVariables: Record<string, string>,
): string | undefined {
  for (const source of identitySource) {
    let value: string | undefined;
    const header = /^route\.request\.header\.(.+)$/i.exec(source);
    const query = /^route\.request\.querystring\.(.+)$/i.exec(source);
    const stageVariable = /^stageVariables\.(.+)$/.exec(source);
    if (header) {
      const name = header[1].toLowerCase();
      for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
        if (request.rawHeaders[i].toLowerCase() === name) value = request.rawHeaders[i + 1];
      }
    } else if (query) {
      value = request.query.get(query[1]) ?? undefined;
    } else if (stageVariable) {
      value = stageVariables[stageVariable[1]];
    } else {
      continue;
    }
    if (value === undefined || value.trim() === '') return source;
  }
  return undefined;
}

/**
 * API Gateway's limit on a Lambda authorizer's result: 8 KB. Measured here as the UTF-8 bytes of the result as the
 * function returned it, serialized as JSON (principalId, policyDocument, context and any other field). A larger
 * result refuses the handshake with 500, as a malformed result does: AWS documents the limit, not the answer, so
 * 500 (API Gateway's AuthorizerConfigurationException status) is a choice [UNCONFIRMED].
 */
export const MAX_AUTHORIZER_RESULT_BYTES = 8192;

function isScalar(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/**
 * Runs the REQUEST authorizer. 401 on `Unauthorized`, 403 on Deny / no Allow for the methodArn, 500 when the function
 * crashes, times out or answers something malformed (spec §2.2; 500 is [INF]).
 *
 * `requestContext.authorizer` = `{ principalId, integrationLatency, ...context }`. Whether context values arrive as
 * strings in Lambda-proxy events is [UNCONFIRMED] (spec §2.2): we keep their JSON types (string, number, boolean).
 */
async function authorize(
  route: RouteModel,
  facts: ConnectionFacts,
  request: HandshakeRequest,
  invoker: FunctionInvoker,
  log: GatewayLog,
): Promise<HandshakeDecision> {
  const authorizerModel = route.authorizer!;
  const missing = missingIdentitySource(authorizerModel.identitySource, request, facts.stageVariables);
  if (missing) return reject(401, 'Unauthorized');
  const outcome = await invoker.invoke(authorizerModel.functionId, authorizerEvent(facts, request, Date.now()));
  if (outcome.error?.errorMessage === 'Unauthorized') return reject(401, 'Unauthorized');
  if (outcome.error || outcome.timedOut) {
    log(`authorizer ${authorizerModel.name} failed: ${outcome.timedOut ? 'timed out' : `${outcome.error!.errorType}: ${outcome.error!.errorMessage}`}`);
    return reject(500, 'Internal Server Error');
  }
  const result = outcome.result as { principalId?: unknown; policyDocument?: unknown; context?: unknown } | null | undefined;
  const resultBytes = Buffer.byteLength(JSON.stringify(result ?? null) ?? '');
  if (resultBytes > MAX_AUTHORIZER_RESULT_BYTES) {
    log(`authorizer ${authorizerModel.name} returned ${resultBytes} bytes, over API Gateway's ${MAX_AUTHORIZER_RESULT_BYTES}-byte (8 KB) limit on an authorizer result: answering 500`);
    return reject(500, 'Internal Server Error');
  }
  try {
    if (result === null || typeof result !== 'object') throw new MalformedPolicyError('the result is not an object');
    if (typeof result.principalId !== 'string' && typeof result.principalId !== 'number') {
      throw new MalformedPolicyError('principalId is missing');
    }
    const context = result.context ?? {};
    if (typeof context !== 'object' || context === null || Array.isArray(context)) throw new MalformedPolicyError('context must be an object');
    const bad = Object.entries(context).find(([, v]) => !isScalar(v));
    if (bad) throw new MalformedPolicyError(`context.${bad[0]} must be a string, number or boolean`);
    if (evaluateInvokePolicy(result.policyDocument, methodArn(facts)) === 'deny') return reject(403, 'Forbidden');
    return {
      accepted: true,
      authorizer: { ...(context as Record<string, unknown>), principalId: result.principalId, integrationLatency: Math.round(outcome.durationMs) },
    };
  } catch (err) {
    if (!(err instanceof MalformedPolicyError)) throw err;
    log(`authorizer ${authorizerModel.name} returned a malformed response: ${err.message}`);
    return reject(500, 'Internal Server Error');
  }
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name.toLowerCase()) continue;
    if (typeof value === 'string') return value;
    if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  }
  return undefined;
}

/**
 * Decides the handshake. No `$connect` route or no integration → accepted (spec §2.1.2). `$connect` result:
 * 2xx → accept with its `Sec-WebSocket-Protocol` (spec §2.3); other statusCode → that status; throw / timeout /
 * no numeric statusCode → 502 (spec §2.1.4; a missing statusCode is [UNCONFIRMED], treated as a failure).
 */
export async function decideHandshake(
  connectRoute: RouteModel | undefined,
  facts: ConnectionFacts,
  request: HandshakeRequest,
  invoker: FunctionInvoker,
  log: GatewayLog,
  checks: HandshakeChecks = {},
): Promise<HandshakeDecision> {
  let authorizer: Record<string, unknown> | undefined;
  let caller: CallerIdentity | undefined;
  if (connectRoute?.authorizationType === 'AWS_IAM') {
    if (!checks.iam || !checks.signable) {
      log(`$connect of ${facts.apiId}: AWS_IAM signatures are not checked (local IAM is off); connection allowed`);
    } else {
      // SigV4 on the upgrade (Authorization header or a presigned query), then execute-api:Invoke on the methodArn.
      const outcome = checks.iam.authorize(checks.signable, 'execute-api', 'execute-api:Invoke', [methodArn(facts)]);
      if (!outcome.ok) {
        const message = outcome.kind === 'signature' ? outcome.failure.message : outcome.message;
        log(`$connect of ${facts.apiId} refused with 403 (AWS_IAM): ${outcome.kind === 'signature' ? outcome.failure.errorType : 'AccessDeniedException'}: ${message.split('\n')[0]}`);
        return reject(403, outcome.kind === 'signature' ? message.split('\n')[0] : message);
      }
      // The signer becomes requestContext.identity of this connection's events (accessKey, caller, user, userArn...).
      caller = iamCallerIdentity(outcome.identity.arn, outcome.identity.accountId, outcome.identity.accessKeyId);
      facts = { ...facts, caller };
    }
  }
  if (connectRoute?.authorizationType === 'CUSTOM' && connectRoute.authorizer) {
    const decision = await authorize(connectRoute, facts, request, invoker, log);
    if (!decision.accepted) return decision;
    authorizer = decision.authorizer;
  }
  if (connectRoute?.apiKeyRequired) {
    // After authorization, as API Gateway checks keys; a missing or unknown x-api-key is 403 Forbidden.
    let given: string | undefined;
    for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
      if (request.rawHeaders[i].toLowerCase() === 'x-api-key') given = request.rawHeaders[i + 1];
    }
    if (given === undefined || (given !== LOCAL_API_KEY && !(checks.apiKeys ?? []).includes(given))) {
      log(`$connect of ${facts.apiId}/${facts.stage} refused with 403: ${given === undefined ? 'no x-api-key header' : 'the x-api-key is not a key of a usage plan of this stage'} (the route requires an API key)`);
      return reject(403, 'Forbidden');
    }
  }
  if (connectRoute?.unsupported) {
    log(`$connect: ${connectRoute.unsupported}`);
    return reject(502, 'Internal server error');
  }
  if (!connectRoute?.functionId) return { accepted: true, authorizer, caller };
  const outcome = await invoker.invoke(connectRoute.functionId, connectEvent(facts, request, authorizer, Date.now()));
  if (outcome.error || outcome.timedOut) {
    log(`$connect failed: ${outcome.timedOut ? 'timed out' : `${outcome.error!.errorType}: ${outcome.error!.errorMessage}`}`);
    return reject(502, 'Internal server error');
  }
  const result = outcome.result as { statusCode?: unknown; headers?: unknown; multiValueHeaders?: unknown } | null | undefined;
  const statusCode = result && typeof result === 'object' ? Number(result.statusCode) : NaN;
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    log('$connect returned no usable statusCode: answering 502');
    return reject(502, 'Internal server error');
  }
  if (statusCode < 200 || statusCode > 299) return reject(statusCode, 'Connection refused by $connect');
  const subprotocol =
    headerValue(result!.headers, 'Sec-WebSocket-Protocol') ?? headerValue(result!.multiValueHeaders, 'Sec-WebSocket-Protocol');
  return { accepted: true, authorizer, subprotocol, caller };
}
