/**
 * AWS integrations (`arn:aws:apigateway:{region}:{service}:path/{path}` or `:action/{Action}`): the mapped body is
 * sent as a SigV4-signed POST to the emulator's local service for `{service}`, signed with the credentials of the
 * integration's CredentialsArn role (local IAM checks that role's policies, as AWS checks the role API Gateway
 * assumes). Without local IAM, or for a role that is not in the template, the developer key signs (nothing checks).
 *
 * - `dynamodb` `action/{Operation}`: `X-Amz-Target: DynamoDB_20120810.{Operation}`, `application/x-amz-json-1.0`.
 * - `path/{path}` (e.g. SQS `path/{account}/{queue}`): POST to `/{path}`; Content-Type from RequestParameters
 *   (the SQS pattern sets `'application/x-www-form-urlencoded'`), else `application/json`.
 * - other `action/{Action}`: POST `/?Action={Action}`.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../iam/node-sha256';
import { DEVELOPER_CREDENTIALS } from '../../iam/credentials';
import { requestHeaders, type BackendResult, type IntegrationCall } from './types';

const AWS_URI = /^arn:[^:]+:apigateway:([^:]*):([^:]+):(path|action)\/(.+)$/;

export interface AwsTarget {
  readonly region: string;
  readonly service: string;
  readonly kind: 'path' | 'action';
  readonly value: string;
}

export function parseAwsUri(uri: string, defaultRegion: string): AwsTarget | undefined {
  const match = AWS_URI.exec(uri);
  if (!match) return undefined;
  return { region: match[1] || defaultRegion, service: match[2], kind: match[3] as 'path' | 'action', value: match[4] };
}

/** Thrown when the service has no local endpoint: the message names what the emulator offers. */
export class UnsupportedServiceError extends Error {}

export async function awsServiceResult(call: IntegrationCall, body: string): Promise<BackendResult> {
  const target = parseAwsUri(call.integration.uri!, call.deps.region)!;
  const endpoint = call.deps.services[target.service];
  if (!endpoint) {
    const offered = Object.entries(call.deps.services).filter(([, v]) => v).map(([k]) => k).join(', ');
    throw new UnsupportedServiceError(`the emulator has no local ${target.service} service (it has ${offered || 'none'}); this integration cannot run locally`);
  }
  const base = new URL(endpoint);
  const { headers } = requestHeaders(call);
  let path = '/';
  let query: Record<string, string> = {};
  if (target.service === 'sqs' && target.kind === 'path') {
    // API Gateway speaks SQS's query protocol; the local SQS speaks the JSON protocol of the SDK v3.
    const json = sqsQueryToJson(body, `https://sqs.${target.region}.amazonaws.com/${target.value.replace(/^\/+/, '')}`);
    if ('error' in json) return { statusCode: 400, body: sqsQueryError('InvalidAction', json.error) };
    const result = await signedPost(call, target, base, '/', {}, { 'X-Amz-Target': `AmazonSQS.${json.action}`, 'Content-Type': 'application/x-amz-json-1.0' }, JSON.stringify(json.input));
    return { statusCode: result.statusCode, body: sqsJsonToQuery(json.action, result) };
  }
  if (target.service === 'dynamodb' && target.kind === 'action') {
    headers['X-Amz-Target'] = `DynamoDB_20120810.${target.value}`;
    headers['Content-Type'] ??= 'application/x-amz-json-1.0';
  } else if (target.kind === 'path') {
    path = `/${target.value.replace(/^\/+/, '')}`;
  } else {
    query = { Action: target.value };
  }
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
  return signedPost(call, target, base, path, query, headers, body);
}

async function signedPost(
  call: IntegrationCall,
  target: AwsTarget,
  base: URL,
  path: string,
  query: Record<string, string>,
  headers: Record<string, string>,
  body: string,
): Promise<BackendResult> {
  const role = call.integration.credentialsRole;
  const credentials = call.deps.iam && role ? call.deps.iam.credentialsForRole(role) : { ...DEVELOPER_CREDENTIALS };
  const signer = new SignatureV4({ service: target.service, region: target.region, credentials, sha256: NodeSha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: base.protocol,
    hostname: base.hostname,
    port: base.port ? Number(base.port) : undefined,
    path,
    query,
    headers: { ...headers, host: base.host },
    body,
  });
  const url = new URL(path, base);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const { host: _host, ...sendHeaders } = signed.headers as Record<string, string>;
  const response = await fetch(url, { method: 'POST', headers: sendHeaders, body, signal: call.signal });
  return { statusCode: response.status, body: await response.text() };
}

/** The SQS query-protocol actions the adapter translates (what API Gateway integrations send). */
const SQS_QUERY_ACTIONS = new Set(['SendMessage']);

/**
 * `Action=SendMessage&MessageBody=...&DelaySeconds=...&MessageAttribute.1.Name=...` → the JSON protocol's input
 * (QueueUrl from the integration path).
 */
export function sqsQueryToJson(form: string, queueUrl: string): { action: string; input: Record<string, unknown> } | { error: string } {
  const params = new URLSearchParams(form);
  const action = params.get('Action') ?? '';
  if (!SQS_QUERY_ACTIONS.has(action)) return { error: `the emulator's SQS integration translates Action=SendMessage, not ${action ? `Action=${action}` : 'a body without Action'}` };
  const input: Record<string, unknown> = { QueueUrl: queueUrl };
  if (params.has('MessageBody')) input.MessageBody = params.get('MessageBody');
  if (params.has('DelaySeconds')) input.DelaySeconds = Number(params.get('DelaySeconds'));
  if (params.has('MessageGroupId')) input.MessageGroupId = params.get('MessageGroupId');
  if (params.has('MessageDeduplicationId')) input.MessageDeduplicationId = params.get('MessageDeduplicationId');
  const attributes: Record<string, Record<string, string>> = {};
  for (let i = 1; params.has(`MessageAttribute.${i}.Name`); i++) {
    const type = params.get(`MessageAttribute.${i}.Value.DataType`) ?? 'String';
    attributes[params.get(`MessageAttribute.${i}.Name`)!] = type.startsWith('Binary')
      ? { DataType: type, BinaryValue: params.get(`MessageAttribute.${i}.Value.BinaryValue`) ?? '' }
      : { DataType: type, StringValue: params.get(`MessageAttribute.${i}.Value.StringValue`) ?? '' };
  }
  if (Object.keys(attributes).length > 0) input.MessageAttributes = attributes;
  return { action, input };
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function sqsQueryError(code: string, message: string): string {
  return `<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error><Type>Sender</Type><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>local</RequestId></ErrorResponse>`;
}

/** The JSON protocol's answer back in the query protocol's XML (what the integration response template sees). */
function sqsJsonToQuery(action: string, result: BackendResult): string {
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(result.body);
  } catch {
    return result.body;
  }
  if (result.statusCode >= 300) {
    const code = String(parsed.__type ?? 'InternalError').replace(/^.*#/, '');
    return sqsQueryError(code, String(parsed.message ?? parsed.Message ?? ''));
  }
  const fields = Object.entries(parsed).filter(([, v]) => typeof v === 'string').map(([k, v]) => `<${k}>${xmlEscape(String(v))}</${k}>`).join('');
  return `<?xml version="1.0"?><${action}Response xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><${action}Result>${fields}</${action}Result><ResponseMetadata><RequestId>local</RequestId></ResponseMetadata></${action}Response>`;
}
