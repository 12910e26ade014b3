/**
 * `$connect` checks beyond the authorizer (local/iam/api-keys.ts, local/gateway/handshake.ts): API keys of the
 * template's usage plans (x-api-key; 403 Forbidden when missing or unknown, as API Gateway answers) and AWS_IAM
 * authorization (the upgrade request signed with SigV4 — presigned query or Authorization header — by a local
 * identity allowed execute-api:Invoke on the methodArn; 403 otherwise). The 403 texts of AWS_IAM refusals on a
 * WebSocket handshake are [UNCONFIRMED]: the emulator sends the signature error's message (choice in
 * local/gateway/README.md). Real `ws` clients, the SDK's own signer, the real gateway.
 */
import type { StackArtifact } from '../../local/assembly/template';
import { StackResolver } from '../../local/assembly/intrinsics';
import { startGateway, type Gateway } from '../../local/gateway';
import { LOCAL_API_KEY, readApiKeys } from '../../local/iam/api-keys';
import { DEVELOPER_CREDENTIALS, IamAuthority } from '../../local/iam/credentials';
import type { RouteModel, WebSocketApiModel } from '../../local/model';
import { InTestInvoker, QueuedClient } from './gateway-test-kit';
import { sdkSigner } from './support/sigv4-signer';

const template = {
  Resources: {
    Api: { Type: 'AWS::ApiGatewayV2::Api', Properties: { Name: 'keys', ProtocolType: 'WEBSOCKET', RouteSelectionExpression: '$request.body.action' } },
    Plan: { Type: 'AWS::ApiGateway::UsagePlan', Properties: { ApiStages: [{ ApiId: { Ref: 'Api' }, Stage: 'dev' }, { ApiId: { Ref: 'Other' }, Stage: 'x' }] } },
    FixedKey: { Type: 'AWS::ApiGateway::ApiKey', Properties: { Value: 'fixed-key-value-0123456789' } },
    GeneratedKey: { Type: 'AWS::ApiGateway::ApiKey', Properties: {} },
    DisabledKey: { Type: 'AWS::ApiGateway::ApiKey', Properties: { Enabled: false, Value: 'disabled-key-value-000000' } },
    Link1: { Type: 'AWS::ApiGateway::UsagePlanKey', Properties: { KeyId: { Ref: 'FixedKey' }, KeyType: 'API_KEY', UsagePlanId: { Ref: 'Plan' } } },
    Link2: { Type: 'AWS::ApiGateway::UsagePlanKey', Properties: { KeyId: { Ref: 'GeneratedKey' }, KeyType: 'API_KEY', UsagePlanId: { Ref: 'Plan' } } },
    Link3: { Type: 'AWS::ApiGateway::UsagePlanKey', Properties: { KeyId: { Ref: 'DisabledKey' }, KeyType: 'API_KEY', UsagePlanId: { Ref: 'Plan' } } },
  },
};

describe('readApiKeys', () => {
  test('GIVEN a usage plan on stage dev with a fixed, a generated and a disabled key WHEN read THEN dev accepts the enabled two', () => {
    const stack = { stackName: 'Keys', assemblyDir: '/nonexistent', template } as unknown as StackArtifact;
    const warnings: string[] = [];
    const keys = readApiKeys(new StackResolver(stack, { region: 'us-east-1', accountId: '123456789012' }), 'Api', warnings);
    expect(keys).toEqual({ dev: ['fixed-key-value-0123456789', 'wsgate-local-GeneratedKey00000'] });
    expect(warnings).toEqual([]);
    expect(readApiKeys(new StackResolver(stack, { region: 'us-east-1', accountId: '123456789012' }), 'Nope', [])).toEqual({});
  });
});

function route(routeKey: string, extra: Partial<RouteModel> = {}): RouteModel {
  return { routeId: `r-${routeKey}`, routeKey, functionId: 'connect', authorizationType: 'NONE', apiKeyRequired: false, hasRouteResponse: false, ...extra };
}

const keyApi: WebSocketApiModel = {
  stackName: 'Keys', logicalId: 'Api', apiId: 'kkkkkkkkkk', name: 'keys', routeSelectionExpression: '$request.body.action',
  region: 'us-east-1', accountId: '123456789012',
  stages: [{ stageName: 'dev', stageVariables: {} }],
  routes: [route('$connect', { apiKeyRequired: true })],
  apiKeys: { dev: ['fixed-key-value-0123456789'] },
};
const iamApi: WebSocketApiModel = {
  stackName: 'Iam', logicalId: 'Api', apiId: 'iiiiiiiiii', name: 'iam', routeSelectionExpression: '$request.body.action',
  region: 'us-east-1', accountId: '123456789012',
  stages: [{ stageName: 'signed', stageVariables: {} }],
  routes: [route('$connect', { authorizationType: 'AWS_IAM' })],
};

const invoker = new InTestInvoker({ connect: () => ({ statusCode: 200 }) });
let gateway: Gateway;
let port: number;
const log: string[] = [];

beforeAll(async () => {
  gateway = await startGateway({
    apis: [keyApi, iamApi], invoker, port: 0, log: (line) => log.push(line),
    iam: new IamAuthority({ functions: {}, accountId: '123456789012' }),
  });
  port = gateway.port;
});
afterAll(() => gateway?.close());

async function status(url: string, headers: Record<string, string> = {}): Promise<number> {
  try {
    const client = await QueuedClient.open(url, undefined, { headers });
    client.socket.close();
    return 101;
  } catch (err) {
    return Number(/Unexpected server response: (\d+)/.exec((err as Error).message)?.[1] ?? NaN);
  }
}

describe('ApiKeyRequired on $connect', () => {
  test('GIVEN a route requiring an API key WHEN connecting without, with an unknown, a template or the local key THEN 403, 403, 101, 101', async () => {
    const url = `ws://127.0.0.1:${port}/dev`;
    expect(await status(url)).toBe(403);
    expect(await status(url, { 'x-api-key': 'not-a-key-of-this-stage' })).toBe(403);
    expect(await status(url, { 'x-api-key': 'fixed-key-value-0123456789' })).toBe(101);
    expect(await status(url, { 'X-API-Key': LOCAL_API_KEY })).toBe(101);
    expect(log.filter((l) => /refused with 403: (no x-api-key header|the x-api-key is not a key)/.test(l))).toHaveLength(2);
  });
});

describe('AWS_IAM on $connect', () => {
  async function presignedUrl(secretAccessKey: string): Promise<string> {
    const signer = sdkSigner({ service: 'execute-api', region: 'us-east-1', accessKeyId: DEVELOPER_CREDENTIALS.accessKeyId, secretAccessKey });
    const out = (await signer.presign(
      { method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port, path: '/signed', query: {}, headers: { host: `127.0.0.1:${port}` } } as never,
      { expiresIn: 300 },
    )) as unknown as { query: Record<string, string> };
    return `ws://127.0.0.1:${port}/signed?${new URLSearchParams(out.query).toString()}`;
  }

  test('GIVEN a route with AWS_IAM WHEN the upgrade is unsigned, signed with a wrong secret, or signed by the developer key (presigned or in the Authorization header) THEN 403, 403, 101, 101', async () => {
    expect(await status(`ws://127.0.0.1:${port}/signed`)).toBe(403);
    expect(await status(await presignedUrl('wrong-secret'))).toBe(403);
    expect(await status(await presignedUrl(DEVELOPER_CREDENTIALS.secretAccessKey))).toBe(101);
    const signer = sdkSigner({ service: 'execute-api', region: 'us-east-1', ...DEVELOPER_CREDENTIALS });
    const signed = (await signer.sign({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port, path: '/signed', query: {}, headers: { host: `127.0.0.1:${port}` } } as never)) as unknown as { headers: Record<string, string> };
    const { host: _host, ...headers } = signed.headers;
    expect(await status(`ws://127.0.0.1:${port}/signed`, headers)).toBe(101);
    expect(log.filter((l) => l.includes('refused with 403 (AWS_IAM)')).map((l) => l.replace(/^.*\(AWS_IAM\): (\w+):.*$/, '$1')))
      .toEqual(['MissingAuthenticationTokenException', 'InvalidSignatureException']);
    expect(invoker.eventsOf('connect').filter((e) => e.requestContext.apiId === 'iiiiiiiiii')).toHaveLength(2);
  });
});
