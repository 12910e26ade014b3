/**
 * The handlers' `@connections` client (lambda/runtime/management-client.ts) against a real local HTTP server that
 * answers PostToConnection and counts TCP connections: the endpoint is always the callback URL, one attempt per
 * send (the Messenger retries), keep-alive sockets, as many as the largest fan-out concurrency, and the middleware
 * stack resolved once per command type.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { LIMITS } from '../../../contract/gateway-contract';
import { createManagementClient, MANAGEMENT_MAX_SOCKETS } from '../../../lambda/runtime/management-client';
import { TEST_CREDENTIALS } from '../support/local-dynamodb';

interface Endpoint {
  readonly url: string;
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** Request paths seen, in order. */
  readonly paths: string[];
  /** Status the next answers have. */
  status: number;
  /** When set, answers are held until it returns true for the number of requests in flight (or release() is called). */
  holdUntil?: (inFlight: number) => boolean;
  maxInFlight: number;
  stop(): Promise<void>;
}

async function startEndpoint(): Promise<Endpoint> {
  let connections = 0;
  let inFlight = 0;
  let held: ServerResponse[] = [];
  const state: Endpoint = {
    url: '',
    get connections() {
      return connections;
    },
    paths: [],
    status: 200,
    maxInFlight: 0,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const answer = (res: ServerResponse) => {
    inFlight--;
    res.writeHead(state.status, { 'content-type': 'application/json', ...(state.status >= 400 ? { 'x-amzn-ErrorType': 'InternalServerErrorException' } : {}) }).end(state.status >= 400 ? '{}' : '');
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    state.paths.push(String(req.url));
    inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    req.resume();
    req.on('end', () => {
      if (!state.holdUntil) return answer(res);
      held.push(res);
      if (state.holdUntil(inFlight)) {
        const all = held;
        held = [];
        all.forEach(answer);
      }
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return Object.assign(state, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod` });
}

const post = (id: string) => new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from('"hi"') });

let endpoint: Endpoint;
beforeEach(async () => {
  endpoint = await startEndpoint();
});
afterEach(async () => {
  await endpoint.stop();
});

describe('createManagementClient', () => {
  test('GIVEN the client WHEN it posts twice in a row THEN both go to the callback URL over one kept-alive socket', async () => {
    const client = createManagementClient(endpoint.url, { region: 'us-east-1', credentials: TEST_CREDENTIALS });
    await client.send(post('A='));
    await client.send(post('B='));
    expect(endpoint.paths).toEqual(['/prod/@connections/A%3D', '/prod/@connections/B%3D']);
    expect(endpoint.connections).toBe(1);
    client.destroy();
  });

  test('GIVEN a configuration naming another endpoint WHEN built THEN the callback URL still wins; other settings are used', async () => {
    const other = await startEndpoint();
    const client = createManagementClient(endpoint.url, { region: 'us-east-1', credentials: TEST_CREDENTIALS, endpoint: other.url } as never);
    await client.send(post('C='));
    expect(endpoint.paths).toHaveLength(1);
    expect(other.paths).toHaveLength(0);
    client.destroy();
    await other.stop();
  });

  test('GIVEN a 500 answer WHEN posted THEN one attempt only (the Messenger retries); a configured maxAttempts overrides it', async () => {
    endpoint.status = 500;
    const once = createManagementClient(endpoint.url, { region: 'us-east-1', credentials: TEST_CREDENTIALS });
    await expect(once.send(post('D='))).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    expect(endpoint.paths).toHaveLength(1);
    const twice = createManagementClient(endpoint.url, { region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 2 });
    await expect(twice.send(post('E='))).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    expect(endpoint.paths).toHaveLength(3);
    once.destroy();
    twice.destroy();
  });

  test('GIVEN more posts at once than the SDK\'s default 50 sockets WHEN sent together THEN all are in flight at once', async () => {
    // GIVEN answers held until 60 requests are in flight (with 50 sockets only 50 would ever arrive)
    expect(MANAGEMENT_MAX_SOCKETS).toBe(Math.max(50, LIMITS.maxFanoutConcurrency));
    endpoint.holdUntil = (inFlight) => inFlight >= 60;
    const client = createManagementClient(endpoint.url, { region: 'us-east-1', credentials: TEST_CREDENTIALS });
    // WHEN
    const posts = Array.from({ length: 60 }, (_, i) => client.send(post(`P${i}=`)));
    const settled = await Promise.race([
      Promise.all(posts).then(() => 'all answered'),
      new Promise((resolve) => setTimeout(() => resolve('held'), 10_000).unref()),
    ]);
    // THEN
    expect(settled).toBe('all answered');
    expect(endpoint.maxInFlight).toBe(60);
    client.destroy();
  });

  test('GIVEN a middleware added after the first send WHEN posting again THEN it is not used (the stack is resolved once per command type)', async () => {
    const client = createManagementClient(endpoint.url, { region: 'us-east-1', credentials: TEST_CREDENTIALS });
    await client.send(post('F='));
    let ran = 0;
    client.middlewareStack.add((next) => async (args) => {
      ran++;
      return next(args);
    }, { step: 'initialize' });
    await client.send(post('G='));
    expect(ran).toBe(0);
    expect(endpoint.paths).toHaveLength(2);
    client.destroy();
  });
});
