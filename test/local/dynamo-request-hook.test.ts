/**
 * local/runtime/dynamo-request-hook.ts: the hook on `http.request` that sends an allowed DynamoDB request straight to
 * the local DynamoDB and any other to the guard's server. Real parts: dynalite, the SDK v3 DynamoDB client (whose
 * Node handler reads `http.request` when a client first sends), a real HTTP server standing in for the guard's.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { DynamoDBClient, GetItemCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { SignableRequest } from '../../local/iam/sigv4';
import { hookDynamoRequests, type DynamoRequestHook } from '../../local/runtime/dynamo-request-hook';
import { startLocalDynamo, type LocalDynamo } from '../../local/services/local-dynamo';
import { closedPort } from '../lambda/support/local-dynamodb';

const CREDENTIALS = { accessKeyId: 'AKIAHOOKTEST00000000', secretAccessKey: 'hook-test-secret' };

/** A stand-in for the guard's server: records what reaches it, answers as DynamoDB refuses. */
interface FakeGuard {
  readonly endpoint: string;
  readonly received: Array<{ method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }>;
  close(): Promise<void>;
}

async function startFakeGuard(): Promise<FakeGuard> {
  const received: FakeGuard['received'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const text = JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', Message: 'refused by the stand-in guard' });
      res.writeHead(400, { 'Content-Type': 'application/x-amz-json-1.0', 'Content-Length': Buffer.byteLength(text) }).end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, received, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

/** A loopback endpoint with nothing listening on it. */
async function deadEndpoint(): Promise<string> {
  return `http://127.0.0.1:${await closedPort()}`;
}

function clientOf(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: 'us-east-1', maxAttempts: 1, credentials: CREDENTIALS });
}

let dynamo: LocalDynamo;
let hook: DynamoRequestHook | undefined;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterEach(() => {
  hook?.uninstall();
  hook = undefined;
});
afterAll(async () => {
  await dynamo?.close();
});

describe('hookDynamoRequests', () => {
  test('GIVEN a request the decision allows WHEN sent to the guard\'s address THEN DynamoDB answers it directly (nothing listens there), and the decision saw the signed request', async () => {
    // GIVEN
    const seen: SignableRequest[] = [];
    const guard = await deadEndpoint();
    hook = hookDynamoRequests(guard, dynamo.endpoint, (request) => (seen.push(request), true));
    const client = clientOf(guard);
    // WHEN
    const { TableNames } = await client.send(new ListTablesCommand({}));
    client.destroy();
    // THEN
    expect(TableNames).toEqual(expect.any(Array));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/', headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables', host: new URL(guard).host } });
    expect(seen[0].headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAHOOKTEST00000000\/\d{8}\/us-east-1\/dynamodb\/aws4_request, SignedHeaders=.*host.*, Signature=[0-9a-f]{64}$/);
    expect(JSON.parse(seen[0].body.toString('utf8'))).toEqual({});
  });

  test('GIVEN a request the decision refuses WHEN sent THEN the guard\'s server gets it unchanged and its answer is the caller\'s, without an error from the abandoned request', async () => {
    // GIVEN
    const guard = await startFakeGuard();
    let decided: SignableRequest | undefined;
    hook = hookDynamoRequests(guard.endpoint, dynamo.endpoint, (request) => {
      decided = request;
      if (guard.received.length > 0) throw new Error('a decision that fails'); // the second call: counts as a refusal
      return false;
    });
    const client = clientOf(guard.endpoint);
    try {
      // WHEN / THEN
      await expect(client.send(new GetItemCommand({ TableName: 'Nope', Key: { pk: { S: 'a' } } }))).rejects.toMatchObject({
        name: 'AccessDeniedException', message: 'refused by the stand-in guard', $metadata: { httpStatusCode: 400 },
      });
      expect(guard.received).toHaveLength(1);
      const [request] = guard.received;
      expect(request).toMatchObject({ method: 'POST', url: '/', headers: { authorization: decided!.headers.authorization, 'x-amz-target': 'DynamoDB_20120810.GetItem' } });
      expect(request.body).toBe(decided!.body.toString('utf8'));
      expect(JSON.parse(request.body)).toEqual({ TableName: 'Nope', Key: { pk: { S: 'a' } } });
      // the client's next call reuses its pool as usual; a decision that throws sends it to the guard's server too
      await expect(client.send(new ListTablesCommand({}))).rejects.toMatchObject({ name: 'AccessDeniedException' });
      expect(guard.received).toHaveLength(2);
    } finally {
      client.destroy();
      await guard.close();
    }
  });

  test('GIVEN a refused request and a guard address nothing answers on WHEN sent THEN the caller gets the connection error, as it would have without the hook', async () => {
    const guard = await deadEndpoint();
    hook = hookDynamoRequests(guard, dynamo.endpoint, () => false);
    const direct = clientOf(guard);
    await expect(direct.send(new ListTablesCommand({}))).rejects.toThrow(/ECONNREFUSED 127\.0\.0\.1:\d+/);
    direct.destroy();
  });

  /**
   * Sends one raw `http.request` to a stand-in guard with the hook on (every decision would allow it); `send` writes
   * the body its own way. Resolves with the status, the decisions made and the bodies the guard's server received.
   */
  async function rawRequestToGuard(headers: http.OutgoingHttpHeaders, send: (req: http.ClientRequest) => void) {
    const guard = await startFakeGuard();
    const decisions: SignableRequest[] = [];
    hook = hookDynamoRequests(guard.endpoint, dynamo.endpoint, (request) => (decisions.push(request), true));
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: new URL(guard.endpoint).port, method: 'POST', path: '/', headers }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        send(req);
      });
      return { status, decisions, received: guard.received.map((r) => r.body) };
    } finally {
      await guard.close();
    }
  }

  test('GIVEN a body written in pieces WHEN the request ends THEN it goes to the guard\'s server whole, undecided (only a single-buffer body is decided here)', async () => {
    // WHEN
    const outcome = await rawRequestToGuard({ 'content-type': 'application/x-amz-json-1.0' }, (req) => {
      req.write('{"Table');
      req.write(Buffer.from('Name":"T"}'));
      req.end();
    });
    // THEN
    expect(outcome).toEqual({ status: 400, decisions: [], received: ['{"TableName":"T"}'] });
  });

  test('GIVEN a request that waits for 100 Continue before its body WHEN sent THEN it reaches the guard\'s server as it is, undecided', async () => {
    // WHEN the body is written only once the server has said 100 Continue (Node's server says it by itself)
    const outcome = await rawRequestToGuard({ expect: '100-continue', 'content-length': 17 }, (req) => {
      req.on('continue', () => req.end('{"TableName":"T"}'));
    });
    // THEN
    expect(outcome).toEqual({ status: 400, decisions: [], received: ['{"TableName":"T"}'] });
  });

  test('GIVEN the hook WHEN requests go to other addresses THEN they are not decided; uninstall puts http.request back', async () => {
    // GIVEN
    const original = http.request;
    const decisions: SignableRequest[] = [];
    hook = hookDynamoRequests(await deadEndpoint(), dynamo.endpoint, (request) => (decisions.push(request), true));
    expect(http.request).not.toBe(original);
    // WHEN a client talks to DynamoDB itself
    const client = clientOf(dynamo.endpoint);
    await client.send(new ListTablesCommand({}));
    client.destroy();
    // THEN
    expect(decisions).toEqual([]);
    hook.uninstall();
    hook = undefined;
    expect(http.request).toBe(original);
  });
});
