/**
 * Faults through the real emulator: the example chat (bin/) on AWS's DynamoDB Local; DynamoDB throttling and dropped
 * connections injected by a real HTTP proxy between the handlers and dynalite; clients that drop in the middle of a
 * room send; and route functions that throw, time out or exit under the real runtime (fixtures/faults/).
 * Every client is a real `ws` client with a signDevToken token; every table read goes to the store directly.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { App } from 'aws-cdk-lib';
import { ChatStack } from '../../bin/chat-stack';
import { signDevToken } from '../../local/dev-token';
import { startEmulator, type RunningEmulator } from '../../local/emulator';
import { localDynamoClient, startLocalDynamo, type LocalDynamo } from '../../local/services/local-dynamo';
import { FAULTS_TOKEN_AUDIENCE, FAULTS_TOKEN_ISSUER, FaultsStack } from './fixtures/faults/faults-stack';
import { QueuedClient } from './gateway-test-kit';
import { DynamoDbLocalProcess, hasDynamoDbLocal, launchDynamoDbLocal, requireDynamoDbLocal } from './support/dynamodb-local';

const CONTEXT = { '@aws-cdk/core:validateAgainstDefaultRules': true };
const WAIT_MS = 15_000;

// ---------------------------------------------------------------------------------------------------------------
// Bounded waits (a missing frame or row fails with a message instead of hanging; nothing asserts a duration)
// ---------------------------------------------------------------------------------------------------------------

function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

async function until<T>(probe: () => Promise<T | undefined | false>, what: string, ms = WAIT_MS): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const nextJson = (client: QueuedClient, who: string): Promise<any> => within(client.nextJson(), `frame for ${who}`);
const nextText = (client: QueuedClient, who: string): Promise<string> => within(client.next(), `frame for ${who}`);

// ---------------------------------------------------------------------------------------------------------------
// The store, read directly (never through the fault proxy)
// ---------------------------------------------------------------------------------------------------------------

type Item = Record<string, any>;

/** With the emulator's own local credentials: DynamoDB Local keeps one database per access key and region. */
function documentClient(endpoint: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(localDynamoClient(endpoint));
}

async function scanAll(client: DynamoDBDocumentClient, tableName: string): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Record<string, unknown> | undefined;
  for (let page = 0; page < 100; page++) {
    const out = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey }));
    items.push(...((out.Items ?? []) as Item[]));
    startKey = out.LastEvaluatedKey;
    if (!startKey) return items;
  }
  throw new Error('more than 100 scan pages');
}

// ---------------------------------------------------------------------------------------------------------------
// A real HTTP proxy in front of the DynamoDB endpoint that can throttle, drop or hold chosen operations
// ---------------------------------------------------------------------------------------------------------------

type FaultMode = 'throttle' | 'drop' | 'hold';

interface FaultRule {
  /** DynamoDB operation, from `X-Amz-Target: DynamoDB_20120810.<Operation>`. */
  readonly operation: string;
  readonly mode: FaultMode;
  /** Only requests whose JSON body matches. @default every request of the operation */
  readonly match?: (body: any) => boolean;
  /** Only the first matching request. @default false */
  readonly once?: boolean;
}

/** DynamoDB's JSON 1.0 error shape (Developer Guide, "Error handling with DynamoDB": HTTP 400, __type, message). */
const THROTTLED_BODY = JSON.stringify({
  __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
  message: 'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
});

class DynamoFaultProxy {
  /** Requests the rule matched, in order. */
  readonly injected: Array<{ operation: string; mode: FaultMode; body: any }> = [];
  private rule?: FaultRule;
  private gate?: { arrived: Promise<void>; signalArrived: () => void; released: Promise<void>; release: () => void };

  private constructor(private readonly server: http.Server, private readonly upstream: URL) {}

  static async start(upstreamEndpoint: string): Promise<DynamoFaultProxy> {
    const server = http.createServer();
    const proxy = new DynamoFaultProxy(server, new URL(upstreamEndpoint));
    server.on('request', (req, res) => proxy.onRequest(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  /** Applies `rule` to the following requests; for `hold`, returns when a request was held and how to release it. */
  inject(rule: FaultRule): { arrived: Promise<void>; release: () => void } {
    this.rule = rule;
    let signalArrived!: () => void;
    let release!: () => void;
    const arrived = new Promise<void>((r) => (signalArrived = r));
    const released = new Promise<void>((r) => (release = r));
    this.gate = { arrived, signalArrived, released, release };
    return { arrived, release };
  }

  /** Stops injecting (requests already held stay held until released). */
  heal(): void {
    this.rule = undefined;
  }

  count(operation: string, mode: FaultMode): number {
    return this.injected.filter((i) => i.operation === operation && i.mode === mode).length;
  }

  async close(): Promise<void> {
    this.rule = undefined;
    this.gate?.release();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const operation = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
      let parsed: any = {};
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        // not JSON: no rule matches on its body
      }
      const rule = this.rule;
      if (!rule || rule.operation !== operation || (rule.match && !rule.match(parsed))) return this.forward(req, body, res);
      this.injected.push({ operation, mode: rule.mode, body: parsed });
      if (rule.once) this.rule = undefined;
      if (rule.mode === 'throttle') {
        res.writeHead(400, {
          'content-type': 'application/x-amz-json-1.0',
          'x-amzn-requestid': randomBytes(26).toString('hex').slice(0, 52).toUpperCase(),
          'content-length': Buffer.byteLength(THROTTLED_BODY),
        });
        res.end(THROTTLED_BODY);
        return;
      }
      if (rule.mode === 'drop') {
        req.socket.destroy();
        return;
      }
      const gate = this.gate!;
      gate.signalArrived();
      this.forward(req, body, res, gate.released);
    });
  }

  /** Forwards to the real endpoint; with `hold`, the answer is read there and sent back only once `hold` resolves. */
  private forward(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse, hold?: Promise<void>): void {
    const upstreamReq = http.request(
      { host: this.upstream.hostname, port: this.upstream.port, method: req.method, path: req.url, headers: req.headers },
      (upstreamRes) => {
        const parts: Buffer[] = [];
        upstreamRes.on('data', (c: Buffer) => parts.push(c));
        upstreamRes.on('end', () => {
          void (hold ?? Promise.resolve()).then(() => {
            res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
            res.end(Buffer.concat(parts));
          });
        });
      },
    );
    upstreamReq.on('error', () => res.destroy());
    upstreamReq.end(body);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// AWS's DynamoDB Local process
// ---------------------------------------------------------------------------------------------------------------


// ---------------------------------------------------------------------------------------------------------------
// Shared set-up: the example chat and the fixture app, synthesized once; the emulators of sections 1 and 4 start in
// the background while section 2 runs (each describe awaits its own, so a start-up failure fails that section).
// ---------------------------------------------------------------------------------------------------------------

let workDir: string;
let chatAssembly: string;
let faultsAssembly: string;
/** AWS's DynamoDB Local, started first so that it boots while the apps synthesize and the other tests run. */
let java: DynamoDbLocalProcess | undefined;
let onDynamoDbLocal: Promise<ChatRig> | undefined;
let faultsEmulator: Promise<RunningEmulator> | undefined;
const faultsGatewayLog: string[] = [];

/** A start-up promise awaited later by its describe; until then its rejection must not count as unhandled. */
function background<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

beforeAll(async () => {
  if (hasDynamoDbLocal) java = await launchDynamoDbLocal();
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-faults-'));
  chatAssembly = path.join(workDir, 'chat.out');
  const chatApp = new App({ outdir: chatAssembly, context: CONTEXT });
  new ChatStack(chatApp, 'WsgateChat');
  chatApp.synth();
  faultsAssembly = path.join(workDir, 'faults.out');
  const faultsApp = new App({ outdir: faultsAssembly, context: CONTEXT });
  new FaultsStack(faultsApp, 'WsgateFaults');
  faultsApp.synth();
  faultsEmulator = background(
    startEmulator({ assemblyDir: faultsAssembly, port: 0, log: (line) => faultsGatewayLog.push(line), functionLog: () => undefined }),
  );
  if (java) {
    const { ready, endpoint } = java;
    onDynamoDbLocal = background(ready.then(() => startChat(endpoint, endpoint)));
  }
});

afterAll(async () => {
  await (await faultsEmulator?.catch(() => undefined))?.close();
  await (await onDynamoDbLocal?.catch(() => undefined))?.emulator.close();
  java?.stop();
  fs.rmSync(workDir, { recursive: true, force: true });
});

/** Parsed JSON lines a function printed (the handlers log one JSON object per line). */
function logEvents(lines: string[], event: string): Item[] {
  const out: Item[] = [];
  for (const line of lines) {
    const json = line.slice(line.indexOf('{'));
    if (!json.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(json);
      if (parsed.event === event) out.push(parsed);
    } catch {
      // not a log object
    }
  }
  return out;
}

interface ChatRig {
  emulator: RunningEmulator;
  functionOutput: string[];
  gatewayLog: string[];
  connectAs(user: string): Promise<QueuedClient>;
  /** Every item of the connections table, read from `storeEndpoint` directly. */
  items(): Promise<Item[]>;
  /** The connection id recorded for `user` (waits for its meta item). */
  connectionIdOf(user: string): Promise<string>;
}

async function startChat(dynamodbEndpoint: string, storeEndpoint: string): Promise<ChatRig> {
  const functionOutput: string[] = [];
  const gatewayLog: string[] = [];
  const emulator = await startEmulator({
    assemblyDir: chatAssembly,
    port: 0,
    dynamodbEndpoint,
    log: (line) => gatewayLog.push(line),
    functionLog: (id, stream, line) => functionOutput.push(`${id} ${stream} ${line}`),
  });
  const store = documentClient(storeEndpoint);
  const tableName = emulator.model.tables[0].tableName;
  const items = () => scanAll(store, tableName);
  return {
    emulator,
    functionOutput,
    gatewayLog,
    async connectAs(user) {
      const token = await signDevToken({ user });
      return QueuedClient.open(`${emulator.endpoints[0].websocketUrl}?token=${encodeURIComponent(token)}`);
    },
    items,
    connectionIdOf: (user) =>
      until(async () => (await items()).find((i) => i.sk === 'meta' && i.userId === user)?.connectionId as string | undefined, `the connection item of ${user}`),
  };
}

async function joinRoom(client: QueuedClient, room: string, who: string): Promise<void> {
  client.send({ action: 'join', data: { room } });
  expect(await nextJson(client, who)).toEqual({ type: 'joined', room });
}

// ---------------------------------------------------------------------------------------------------------------
// 2 + 3. DynamoDB faults injected by the proxy; clients dropping mid-send
// ---------------------------------------------------------------------------------------------------------------

describe('DynamoDB throttled or unreachable behind the emulator (fault proxy in front of dynalite)', () => {
  let dynalite: LocalDynamo;
  let proxy: DynamoFaultProxy;
  let chat: ChatRig;

  beforeAll(async () => {
    dynalite = await startLocalDynamo();
    proxy = await DynamoFaultProxy.start(dynalite.endpoint);
    chat = await startChat(proxy.url, dynalite.endpoint);
  });

  afterEach(() => proxy.heal());

  afterAll(async () => {
    await chat?.emulator.close();
    await proxy?.close();
    await dynalite?.close();
  });

  test.each(['throttle', 'drop'] as const)(
    'GIVEN PutItem fails (%s) WHEN a user connects THEN the handshake fails with 500 and no row exists, while users already connected still chat (spec §2.1.4)',
    async (mode) => {
      const room = `connect-${mode}`;
      const alice = await chat.connectAs(`alice-${mode}`);
      const bob = await chat.connectAs(`bob-${mode}`);
      await joinRoom(alice, room, 'alice');
      await joinRoom(bob, room, 'bob');

      const failuresBefore = logEvents(chat.functionOutput, 'connect_store_failed').length;
      const injectedBefore = proxy.count('PutItem', mode);
      proxy.inject({ operation: 'PutItem', mode });
      const refused = expect(chat.connectAs(`carol-${mode}`)).rejects.toThrow(/Unexpected server response: 500/);
      await until(async () => proxy.count('PutItem', mode) > injectedBefore, "carol's first failed PutItem");

      // While carol's $connect is failing: a room message between the connected users goes through (no PutItem on that path).
      alice.send({ action: 'sendmessage', data: { room, text: 'still here' } });
      for (const [client, who] of [[alice, 'alice'], [bob, 'bob']] as const) {
        expect(await nextJson(client, who)).toMatchObject({ type: 'message', room, from: `alice-${mode}`, text: 'still here' });
      }
      await refused;
      const failures = logEvents(chat.functionOutput, 'connect_store_failed').slice(failuresBefore);
      expect(failures).toHaveLength(1);
      // The SDK read the proxy's 400 as DynamoDB's typed exception (and gave up after its own retries).
      if (mode === 'throttle') expect(failures[0].error).toBe('ProvisionedThroughputExceededException');
      proxy.heal();
      expect((await chat.items()).filter((i) => i.userId === `carol-${mode}`)).toEqual([]);

      // Healed: carol connects and is recorded.
      const carol = await chat.connectAs(`carol-${mode}`);
      await chat.connectionIdOf(`carol-${mode}`);
      for (const c of [alice, bob, carol]) c.socket.close();
    },
  );

  test.each([
    ['throttle', 'a room send (Query on byRoom)', 'Query', true],
    ['drop', 'a broadcast (Scan)', 'Scan', false],
  ] as const)('GIVEN DynamoDB fails (%s) during %s WHEN a member sends THEN only the sender gets an error frame and nothing is delivered or written', async (mode, _what, operation, toRoom) => {
    const room = `send-${mode}-${operation}`;
    const alice = await chat.connectAs(`alice-${room}`);
    const bob = await chat.connectAs(`bob-${room}`);
    await joinRoom(alice, room, 'alice');
    await joinRoom(bob, room, 'bob');
    const theirs = async () => (await chat.items()).filter((i) => i.userId === `alice-${room}` || i.userId === `bob-${room}`);
    const before = await theirs();
    expect(before).toHaveLength(4);

    const failuresBefore = logEvents(chat.functionOutput, 'command_failed').length;
    proxy.inject({ operation, mode, match: (body) => (toRoom ? body.IndexName === 'byRoom' : true) });
    alice.send({ action: 'sendmessage', data: { ...(toRoom ? { room } : {}), text: 'lost in the outage' } });
    const reply = await nextJson(alice, 'alice');
    proxy.heal();
    expect(reply).toEqual({ type: 'error', message: expect.stringMatching(/sendmessage.*temporarily unavailable/) });
    expect(proxy.count(operation, mode)).toBeGreaterThanOrEqual(1);
    const failures = logEvents(chat.functionOutput, 'command_failed').slice(failuresBefore);
    expect(failures).toEqual([expect.objectContaining({ level: 'error', route: 'sendmessage' })]);
    if (mode === 'throttle') expect(failures[0].error).toBe('ProvisionedThroughputExceededException');
    expect(await theirs()).toEqual(before);

    // Healed: the next room message is the first frame bob gets, so the failed one never reached him.
    alice.send({ action: 'sendmessage', data: { room, text: 'marker' } });
    for (const [client, who] of [[alice, 'alice'], [bob, 'bob']] as const) {
      expect(await nextJson(client, who)).toMatchObject({ type: 'message', room, text: 'marker' });
    }
    expect(alice.pending + bob.pending).toBe(0);
    alice.socket.close();
    bob.socket.close();
  });

  test.each(['throttle', 'drop'] as const)(
    'GIVEN BatchWriteItem fails (%s) WHEN a member disconnects THEN the failure is logged and its rows keep their TTL expiresAt (spec §2.5, §7)',
    async (mode) => {
      const user = `dave-${mode}`;
      const dave = await chat.connectAs(user);
      await joinRoom(dave, `leaving-${mode}`, user);
      const connectionId = await chat.connectionIdOf(user);
      const rows = (await chat.items()).filter((i) => i.connectionId === connectionId);
      expect(rows.map((r) => r.sk).sort()).toEqual(['meta', `room#leaving-${mode}`]);

      proxy.inject({ operation: 'BatchWriteItem', mode });
      dave.socket.close();
      await dave.closed;
      const failure = await until(
        async () => logEvents(chat.functionOutput, 'disconnect_cleanup_failed').find((e) => e.connectionId === connectionId),
        `the disconnect_cleanup_failed log of ${connectionId}`,
      );
      proxy.heal();
      expect(failure).toMatchObject({ level: 'error', route: '$disconnect', note: expect.stringMatching(/expiresAt/) });
      if (mode === 'throttle') expect(failure.error).toBe('ProvisionedThroughputExceededException');
      expect(proxy.count('BatchWriteItem', mode)).toBeGreaterThanOrEqual(1);
      const left = (await chat.items()).filter((i) => i.connectionId === connectionId);
      expect(left).toEqual(rows);
      for (const row of left) expect(row.expiresAt).toBeGreaterThan(Date.now() / 1000);
    },
  );

  test('GIVEN 30 clients in a room WHEN 7 drop abruptly while a room send runs THEN each remaining client gets exactly one copy, the dropped rows are gone and the emulator serves on (spec §5 410, §7)', async () => {
    const room = 'crowd';
    const users = Array.from({ length: 30 }, (_, i) => `crowd-${String(i).padStart(2, '0')}`);
    const clients: QueuedClient[] = [];
    // One at a time: warm instances serve them all (30 cold function processes would only slow the run down).
    for (const user of users) {
      const client = await chat.connectAs(user);
      await joinRoom(client, room, user);
      clients.push(client);
    }
    const ids = await Promise.all(users.map((u) => chat.connectionIdOf(u)));
    const sender = clients[0];
    const droppedBeforePosts = [1, 2, 3, 4];
    const droppedDuringPosts = [5, 6, 7];
    const dropped = [...droppedBeforePosts, ...droppedDuringPosts];
    const remaining = clients.map((_, i) => i).filter((i) => !dropped.includes(i));

    // Hold the room listing: the handler has its 30 recipients while 4 of them go away.
    const held = proxy.inject({ operation: 'Query', mode: 'hold', once: true, match: (body) => body.IndexName === 'byRoom' && body.ExpressionAttributeValues?.[':room']?.S === room });
    sender.send({ action: 'sendmessage', data: { room, text: 'to the crowd' } });
    await within(held.arrived, 'the held room Query');
    for (const i of droppedBeforePosts) clients[i].socket.terminate();
    await until(async () => {
      const left = await chat.items();
      return droppedBeforePosts.every((i) => !left.some((r) => r.connectionId === ids[i]));
    }, 'the $disconnect of the first dropped clients');

    // Release the listing; 3 more drop as soon as the first copy lands somewhere.
    const firstCopy = within(clients[remaining[remaining.length - 1]].nextFrame(), 'the first copy');
    held.release();
    const first = await firstCopy;
    for (const i of droppedDuringPosts) clients[i].socket.terminate();

    const sent = await until(
      async () => logEvents(chat.functionOutput, 'message_sent').find((e) => e.room === room),
      'the message_sent log of the room send',
    );
    expect(sent.delivered + sent.gone + sent.failed).toBe(30);
    expect(sent.failed).toBe(0);
    expect(sent.gone).toBeGreaterThanOrEqual(droppedBeforePosts.length);
    expect(proxy.count('Query', 'hold')).toBe(1);

    // The send is over; a marker follows. Each remaining client's frames are exactly [copy, marker].
    sender.send({ action: 'sendmessage', data: { room, text: 'marker' } });
    for (const i of remaining) {
      const copy = i === remaining[remaining.length - 1] ? JSON.parse(first.text) : await nextJson(clients[i], users[i]);
      expect(copy).toEqual({ type: 'message', room, from: users[0], text: 'to the crowd', at: expect.any(Number) });
      expect(await nextJson(clients[i], users[i])).toMatchObject({ type: 'message', room, text: 'marker' });
      expect(clients[i].pending).toBe(0);
    }

    await until(async () => {
      const left = await chat.items();
      return dropped.every((i) => !left.some((r) => r.connectionId === ids[i]));
    }, 'the rows of every dropped client to be gone');
    const rows = await chat.items();
    for (const i of remaining) expect(rows.filter((r) => r.connectionId === ids[i]).map((r) => r.sk).sort()).toEqual(['meta', `room#${room}`]);

    // Still serving.
    const late = await chat.connectAs('crowd-late');
    await joinRoom(late, room, 'crowd-late');
    expect(chat.gatewayLog.filter((l) => /unexpected error|handshake failed|request failed/.test(l))).toEqual([]);
    for (const i of remaining) clients[i].socket.close();
    late.socket.close();
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 4. Route functions that throw, time out or exit, under the real runtime (fixtures/faults/)
// ---------------------------------------------------------------------------------------------------------------

describe('route functions that fail under the real runtime (fixture app: throws / hangs past 1 s / exits)', () => {
  let emulator: RunningEmulator;
  const gatewayLog = faultsGatewayLog;

  beforeAll(async () => {
    emulator = await faultsEmulator!;
  });

  async function connect(user: string): Promise<QueuedClient> {
    const token = await signDevToken({ user, issuer: FAULTS_TOKEN_ISSUER, audience: FAULTS_TOKEN_AUDIENCE });
    return QueuedClient.open(`${emulator.endpoints[0].websocketUrl}?token=${encodeURIComponent(token)}`);
  }

  test.each([
    ['throws', 'throws an error', 'kept'],
    ['hangs', 'runs past its 1 s timeout', 'replaced'],
    ['exits', 'calls process.exit(1)', 'replaced'],
  ] as const)('GIVEN a route whose function %s (%s) WHEN called THEN the exact Internal server error frame, the connection stays open, and the next calls work (spec §3.1)', async (routeKey, _what, instance) => {
    const client = await connect(`user-${routeKey}`);
    client.send({ action: 'echo' });
    const echo = await nextJson(client, 'echo');
    expect(echo).toEqual({ route: 'echo', connectionId: expect.stringMatching(/^[A-Za-z0-9_-]{15}=$/), pid: expect.any(Number), invocations: expect.any(Number) });

    client.send({ action: routeKey });
    const warm = await nextJson(client, routeKey);
    client.send({ action: routeKey, fail: true });
    const frame = await nextText(client, `${routeKey} failure`);
    const exact = /^\{"message": "Internal server error", "connectionId":"([A-Za-z0-9_-]{15}=)", "requestId":"([A-Za-z0-9_-]{15}=)"\}$/.exec(frame);
    expect(exact).not.toBeNull();
    expect(exact![1]).toBe(echo.connectionId);
    expect(exact![2]).not.toBe(echo.connectionId);
    expect(client.socket.readyState).toBe(client.socket.OPEN);

    client.send({ action: 'echo' });
    expect(await nextJson(client, 'echo')).toMatchObject({ route: 'echo', connectionId: echo.connectionId });
    client.send({ action: routeKey });
    const after = await nextJson(client, routeKey);
    if (instance === 'kept') {
      // A thrown error leaves the Lambda instance warm: same process, module state kept.
      expect(after).toMatchObject({ pid: warm.pid, invocations: warm.invocations + 2 });
    } else {
      // A timed-out or exited instance is gone: a fresh process with fresh module state serves the next call.
      expect(after.pid).not.toBe(warm.pid);
      expect(after.invocations).toBe(1);
    }
    expect(gatewayLog.some((l) => l.includes(`route ${routeKey} on ${echo.connectionId}`))).toBe(true);
    expect(client.pending).toBe(0);
    client.socket.close();
    await client.closed;
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 1. The example chat on AWS's DynamoDB Local
// ---------------------------------------------------------------------------------------------------------------

(hasDynamoDbLocal || requireDynamoDbLocal ? describe : describe.skip)('the example chat on AWS DynamoDB Local (scripts/fetch-dynamodb-local.sh)', () => {
  let chat: ChatRig | undefined;

  beforeAll(async () => {
    // Without the jar (and WSGATE_REQUIRE_DYNAMODB_LOCAL=1) there is nothing to start; the test below fails.
    chat = await onDynamoDbLocal;
  });

  test('GIVEN alice and bob on DynamoDB Local WHEN they join, talk in a room, broadcast, err and disconnect THEN the protocol frames arrive and disconnect removes their rows (spec §2.5)', async () => {
    expect(hasDynamoDbLocal).toBe(true); // fails when WSGATE_REQUIRE_DYNAMODB_LOCAL=1 and the jar is absent
    const rig = chat!;
    expect(rig.emulator.dynamodbEndpoint).toBe(java!.endpoint);
    const alice = await rig.connectAs('alice');
    const bob = await rig.connectAs('bob');
    await joinRoom(alice, 'lobby', 'alice');
    await joinRoom(bob, 'lobby', 'bob');

    const rows = await rig.items();
    const aliceId = await rig.connectionIdOf('alice');
    const bobId = await rig.connectionIdOf('bob');
    expect(rows.map((i) => [i.pk, i.sk, i.userId]).sort()).toEqual([
      [`conn#${aliceId}`, 'meta', 'alice'], [`conn#${aliceId}`, 'room#lobby', 'alice'],
      [`conn#${bobId}`, 'meta', 'bob'], [`conn#${bobId}`, 'room#lobby', 'bob'],
    ].sort());
    for (const row of rows) expect(row.expiresAt).toBeGreaterThan(Date.now() / 1000);

    alice.send({ action: 'sendmessage', data: { room: 'lobby', text: 'hi bob' } });
    for (const [client, who] of [[alice, 'alice'], [bob, 'bob']] as const) {
      expect(await nextJson(client, who)).toEqual({ type: 'message', room: 'lobby', from: 'alice', text: 'hi bob', at: expect.any(Number) });
    }
    bob.send({ action: 'sendmessage', data: { text: 'hello all' } });
    for (const [client, who] of [[alice, 'alice'], [bob, 'bob']] as const) {
      expect(await nextJson(client, who)).toEqual({ type: 'message', room: null, from: 'bob', text: 'hello all', at: expect.any(Number) });
    }
    bob.send({ action: 'sendmessage', data: { room: 'kitchen', text: 'anyone?' } });
    const refusal = await nextJson(bob, 'bob');
    expect(refusal).toEqual({ type: 'error', message: expect.stringMatching(/kitchen/) });
    expect(alice.pending + bob.pending).toBe(0);

    alice.socket.close();
    bob.socket.close();
    await Promise.all([alice.closed, bob.closed]);
    expect(await until(async () => ((await rig.items()).length === 0 ? 'empty' : undefined), 'the rows to be deleted')).toBe('empty');
  });
});
