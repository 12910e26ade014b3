/**
 * The DynamoDB endpoint functions see when local IAM is on: verifies each request's SigV4 signature, evaluates
 * the caller's role for the operation (`dynamodb:{Operation}`) on every table / index ARN the request names, and
 * forwards allowed requests unchanged to the real local DynamoDB (dynalite or DynamoDB Local). Refusals use
 * DynamoDB's JSON error shape (`__type` `com.amazon.coral.service#...`, HTTP 400).
 */
import * as http from 'node:http';
import { readBody } from '../gateway/http-responses';
import type { AuthorizeResult, IamAuthority, LocalIdentity } from '../iam/credentials';
import { credentialScope, type SignableRequest } from '../iam/sigv4';
import { listenOnLoopback } from './loopback';

export interface DynamoIamProxy {
  readonly endpoint: string;
  close(): Promise<void>;
}

const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

type Body = Record<string, unknown>;

const TRANSACT_ACTIONS: Record<string, string> = {
  Put: 'PutItem', Delete: 'DeleteItem', Update: 'UpdateItem', ConditionCheck: 'ConditionCheckItem', Get: 'GetItem',
};

/**
 * `[action, resource]` pairs AWS checks for one DynamoDB request. Batch operations need their own action on
 * every table; transactions need the item action of each part; Query / Scan with IndexName act on the index ARN.
 */
export function dynamoChecks(operation: string, body: Body, region: string, accountId: string): Array<[string, string]> {
  const table = (name: unknown): string => `arn:aws:dynamodb:${region}:${accountId}:table/${String(name)}`;
  const action = `dynamodb:${operation}`;
  switch (operation) {
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys((body.RequestItems as object | undefined) ?? {}).map((name) => [action, table(name)]);
    case 'TransactWriteItems':
    case 'TransactGetItems':
      return ((body.TransactItems as Array<Record<string, { TableName?: unknown }>> | undefined) ?? []).flatMap((item) =>
        Object.entries(item).map(([kind, part]) => [`dynamodb:${TRANSACT_ACTIONS[kind] ?? kind}`, table(part?.TableName)] as [string, string]));
    case 'ListTables':
    case 'DescribeLimits':
    case 'DescribeEndpoints':
      return [[action, '*']];
    case 'Query':
    case 'Scan':
      return [[action, body.IndexName !== undefined ? `${table(body.TableName)}/index/${String(body.IndexName)}` : table(body.TableName)]];
    default:
      return [[action, table(body.TableName ?? body.TableArn ?? body.ResourceArn ?? '*')]];
  }
}

/**
 * The proxy's decision on one DynamoDB request: its signature, then `dynamoChecks` of the operation its
 * `X-Amz-Target` names, on the resources its JSON body names (a body that is not JSON names none).
 */
export function authorizeDynamoRequest(iam: Pick<IamAuthority, 'authorize'>, request: SignableRequest): AuthorizeResult {
  const operation = String(request.headers['x-amz-target'] ?? '').replace(/^DynamoDB_\d+\./, '');
  const region = credentialScope(request.headers.authorization as string | undefined).region ?? 'us-east-1';
  let parsed: Body = {};
  try {
    parsed = request.body.length > 0 ? JSON.parse(request.body.toString('utf8')) : {};
  } catch {
    parsed = {};
  }
  return iam.authorize(request, 'dynamodb', (identity: LocalIdentity) => dynamoChecks(operation, parsed, region, identity.accountId));
}

export interface DynamoIamProxyOptions {
  /** The DynamoDB allowed requests go to, e.g. `http://127.0.0.1:8000`. */
  readonly target: string;
  /** Verifies signatures and decides (an `IamAuthority`, or the one identity of a function process). */
  readonly iam: Pick<IamAuthority, 'authorize'>;
  /**
   * Requests signed with an access key `iam` does not hold (or not signed at all) are passed, unchecked and
   * unchanged, to this endpoint instead: the emulator's own proxy, which knows every local identity.
   * @default - every request is checked here
   */
  readonly otherKeys?: { readonly endpoint: string; readonly holds: (accessKeyId: string) => boolean };
  /** Where a failed forward is reported. @default - not reported */
  readonly log?: (line: string) => void;
}

export async function startDynamoIamProxy(options: DynamoIamProxyOptions): Promise<DynamoIamProxy> {
  const target = new URL(options.target);
  const elsewhere = options.otherKeys ? new URL(options.otherKeys.endpoint) : undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const fail = (res: http.ServerResponse, type: string, message: string): void => {
    const text = JSON.stringify({ __type: `com.amazon.coral.service#${type}`, ...(type === 'AccessDeniedException' ? { Message: message } : { message }) });
    res.writeHead(400, { 'Content-Type': 'application/x-amz-json-1.0', 'Content-Length': Buffer.byteLength(text), 'x-amzn-ErrorType': type });
    res.end(text);
  };
  const forward = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, to: URL): void => {
    const upstream = http.request(
      { host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      options.log?.(`DynamoDB proxy: ${to.origin} failed: ${err.message}`);
      if (!res.headersSent) fail(res, 'InternalServerError', `The local DynamoDB at ${to.origin} did not answer: ${err.message}`);
      else res.destroy();
    });
    upstream.end(body);
  };
  const server = http.createServer((req, res) => {
    void readBody(req, MAX_REQUEST_BYTES).then((received) => {
      if (received === undefined) return fail(res, 'ValidationException', `The request is larger than the local DynamoDB proxy reads (${MAX_REQUEST_BYTES} bytes).`);
      const body = received;
      const scope = credentialScope(req.headers.authorization);
      if (elsewhere && !options.otherKeys!.holds(scope.accessKeyId ?? '')) return forward(req, res, body, elsewhere);
      const outcome = authorizeDynamoRequest(options.iam, { method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers, body });
      if (!outcome.ok) {
        if (outcome.kind === 'signature') return fail(res, outcome.failure.errorType, outcome.failure.message);
        return fail(res, 'AccessDeniedException', outcome.message);
      }
      forward(req, res, body, target);
    }, () => res.destroy()); // the client's request broke off: nothing to answer
  });
  const port = await listenOnLoopback(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      agent.destroy();
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}
