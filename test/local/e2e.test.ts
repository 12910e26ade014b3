/**
 * End to end: the example chat app (bin/) synthesized for real, run by the real emulator (assembly reader, function
 * processes, dynalite, local Secrets Manager, gateway), driven by real `ws` clients with tokens from signDevToken.
 * The expected frames are the protocol table of /work/shared/design.md.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiGatewayManagementApiClient, GetConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { App } from 'aws-cdk-lib';
import { ChatStack } from '../../bin/chat-stack';
import { signDevToken } from '../../local/dev-token';
import { startEmulator, type RunningEmulator } from '../../local/emulator';
import { DEVELOPER_CREDENTIALS } from '../../local/iam/credentials';
import { parseCli } from '../../local/cli';
import { QueuedClient } from './gateway-test-kit';

const ROOT = path.resolve(__dirname, '../..');
let workDir: string;
let assemblyDir: string;
let emulator: RunningEmulator;
let wsUrl: string;
const functionOutput: string[] = [];
const gatewayLog: string[] = [];

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-e2e-'));
  assemblyDir = path.join(workDir, 'cdk.out');
  const app = new App({ outdir: assemblyDir });
  new ChatStack(app, 'WsgateChat');
  app.synth();
  const staticDir = path.join(workDir, 'static');
  fs.mkdirSync(staticDir);
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>chat</title>');
  fs.writeFileSync(path.join(workDir, 'secret.txt'), 'outside the static folder');
  emulator = await startEmulator({
    assemblyDir,
    port: 0,
    staticDir,
    log: (line) => gatewayLog.push(line),
    functionLog: (id, stream, line) => functionOutput.push(`${id} ${stream} ${line}`),
  });
  wsUrl = emulator.endpoints[0].websocketUrl;
});

afterAll(async () => {
  await emulator?.close();
  fs.rmSync(workDir, { recursive: true, force: true });
});

async function connectAs(user: string): Promise<QueuedClient> {
  const token = await signDevToken({ user });
  return QueuedClient.open(`${wsUrl}?token=${encodeURIComponent(token)}`);
}

function tableScan(): Promise<Array<Record<string, any>>> {
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: emulator.dynamodbEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  );
  return client.send(new ScanCommand({ TableName: emulator.model.tables[0].tableName })).then((r) => (r.Items ?? []) as Array<Record<string, any>>);
}

async function connectionIdOf(user: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = (await tableScan()).find((i) => i.sk === 'meta' && i.userId === user);
    if (found) return found.connectionId;
    if (Date.now() > deadline) throw new Error(`no connection item for ${user}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the example chat through the emulator (design.md protocol table)', () => {
  test('GIVEN the synthesized example WHEN the emulator starts THEN it serves its one stage on ws:// with an @connections URL', () => {
    expect(emulator.endpoints.map((e) => [e.stackName, e.stage, e.websocketUrl, e.callbackUrl])).toEqual([
      ['WsgateChat', 'prod', `ws://127.0.0.1:${emulator.port}/prod`, `http://127.0.0.1:${emulator.port}/prod`],
    ]);
    expect(emulator.model.tables).toHaveLength(1);
  });

  test('GIVEN no token, a token signed with another key, or a token for another audience WHEN connecting THEN 401 (spec §2.2)', async () => {
    await expect(QueuedClient.open(wsUrl)).rejects.toThrow(/Unexpected server response: 401/);
    const forged = await signDevToken({ user: 'mallory', secret: 'not-the-local-secret' });
    await expect(QueuedClient.open(`${wsUrl}?token=${forged}`)).rejects.toThrow(/Unexpected server response: 401/);
    const wrongAudience = await signDevToken({ user: 'mallory', audience: 'someone-else' });
    await expect(QueuedClient.open(`${wsUrl}?token=${wrongAudience}`)).rejects.toThrow(/Unexpected server response: 401/);
  });

  test('GIVEN alice, bob and carol WHEN they join, talk, broadcast and leave THEN each gets exactly the frames of the protocol table', async () => {
    const tokenResponse = await fetch(`http://127.0.0.1:${emulator.port}/_wsgate/token?user=alice`);
    const { token } = (await tokenResponse.json()) as { token: string };
    const alice = await QueuedClient.open(`${wsUrl}?token=${encodeURIComponent(token)}`);
    const bob = await connectAs('bob');
    const carol = await connectAs('carol');

    alice.send({ action: 'join', data: { room: 'lobby' } });
    expect(await alice.nextJson()).toEqual({ type: 'joined', room: 'lobby' });
    bob.send({ action: 'join', data: { room: 'lobby' } });
    expect(await bob.nextJson()).toEqual({ type: 'joined', room: 'lobby' });

    alice.send({ action: 'sendmessage', data: { room: 'lobby', text: 'hi' } });
    for (const member of [alice, bob]) {
      const frame = await member.nextJson();
      expect(frame).toEqual({ type: 'message', room: 'lobby', from: 'alice', text: 'hi', at: expect.any(Number) });
    }

    carol.send({ action: 'sendmessage', data: { room: 'lobby', text: 'let me in' } });
    const refusal = await carol.nextJson();
    expect(refusal.type).toBe('error');
    expect(refusal.message).toMatch(/lobby/);

    carol.send({ action: 'sendmessage', data: { text: 'hello everyone' } });
    for (const anyone of [alice, bob, carol]) {
      expect(await anyone.nextJson()).toEqual({ type: 'message', room: null, from: 'carol', text: 'hello everyone', at: expect.any(Number) });
    }

    alice.send({ action: 'leave', data: { room: 'lobby' } });
    expect(await alice.nextJson()).toEqual({ type: 'left', room: 'lobby' });
    bob.send({ action: 'sendmessage', data: { room: 'lobby', text: 'alone now' } });
    expect(await bob.nextJson()).toMatchObject({ type: 'message', room: 'lobby', from: 'bob', text: 'alone now' });
    // alice left: her next frame is the later broadcast, not bob's room message.
    bob.send({ action: 'sendmessage', data: { text: 'marker' } });
    expect(await alice.nextJson()).toMatchObject({ room: null, from: 'bob', text: 'marker' });
    expect(await bob.nextJson()).toMatchObject({ text: 'marker' });
    expect(await carol.nextJson()).toMatchObject({ text: 'marker' });
    expect(carol.pending + alice.pending).toBe(0);

    for (const c of [alice, bob, carol]) c.socket.close();
  });

  test.each([
    ['not JSON', 'hello?'],
    ['no action', '{"data":{"room":"lobby"}}'],
    ['an unknown action', '{"action":"dance","data":{}}'],
    ['a bad room name', '{"action":"join","data":{"room":"no spaces allowed"}}'],
    ['an empty text', '{"action":"sendmessage","data":{"text":""}}'],
    ['a text over 4000 characters', JSON.stringify({ action: 'sendmessage', data: { text: 'x'.repeat(4001) } })],
  ])('GIVEN %s WHEN sent THEN only the sender gets {"type":"error"} naming the problem, and the connection stays open', async (_what, frame) => {
    const sender = await connectAs('dave');
    const bystander = await connectAs('erin');
    sender.send(frame);
    const reply = await sender.nextJson();
    expect(reply).toEqual({ type: 'error', message: expect.any(String) });
    expect(reply.message.length).toBeGreaterThan(10);
    sender.send({ action: 'join', data: { room: 'after-error' } });
    expect(await sender.nextJson()).toEqual({ type: 'joined', room: 'after-error' });
    expect(bystander.pending).toBe(0);
    sender.socket.close();
    bystander.socket.close();
  });

  test('GIVEN an open connection WHEN it closes THEN $disconnect removes its records and @connections GET answers 410 GoneException (spec §5)', async () => {
    const frank = await connectAs('frank');
    frank.send({ action: 'join', data: { room: 'lobby' } });
    expect(await frank.nextJson()).toEqual({ type: 'joined', room: 'lobby' });
    const connectionId = await connectionIdOf('frank');
    const sdk = new ApiGatewayManagementApiClient({
      endpoint: emulator.endpoints[0].callbackUrl,
      region: 'us-east-1',
      credentials: DEVELOPER_CREDENTIALS,
    });
    const info = await sdk.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    expect(info.Identity?.SourceIp).toBe('127.0.0.1');
    frank.socket.close();
    await frank.closed;
    await expect(sdk.send(new GetConnectionCommand({ ConnectionId: connectionId }))).rejects.toThrow(
      expect.objectContaining({ name: 'GoneException' }),
    );
    const deadline = Date.now() + 10_000;
    let left = await tableScan();
    while (left.some((i) => i.connectionId === connectionId) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      left = await tableScan();
    }
    expect(left.filter((i) => i.connectionId === connectionId)).toEqual([]);
  });

  test('GIVEN the dev endpoints WHEN called THEN a token needs a user, and the static folder is served without escaping it', async () => {
    const base = `http://127.0.0.1:${emulator.port}`;
    expect((await fetch(`${base}/_wsgate/token`)).status).toBe(400);
    const page = await fetch(`${base}/_wsgate/app/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>chat</title>');
    expect((await fetch(`${base}/_wsgate/app/%2e%2e/secret.txt`)).status).toBe(404);
    expect((await fetch(`${base}/_wsgate/app/missing.js`)).status).toBe(404);
  });
});

describe('the wsgate CLI', () => {
  test('GIVEN flags WHEN parsed THEN options; bad input THEN a usage error naming it', () => {
    expect(parseCli(['local', 'out', '--port', '4000', '--stack', 'S', '--idle-timeout', '30', '--max-duration=60', '--init-timeout', '3', '--static', 'web/dist']).options).toEqual({
      assemblyDir: 'out',
      port: 4000,
      stack: 'S',
      idleTimeoutMs: 30_000,
      maxDurationMs: 60_000,
      initTimeoutMs: 3_000,
      staticDir: 'web/dist',
    });
    expect(parseCli(['local'], { PORT: '5000' }).options).toEqual({ assemblyDir: 'cdk.out', port: 5000 });
    expect(parseCli(['--help']).help).toBe(true);
    expect(() => parseCli(['serve'])).toThrow(/Unknown command "serve"/);
    expect(() => parseCli(['local', '--port', 'abc'])).toThrow(/port must be a whole number/);
    expect(() => parseCli(['local', '--idle-timeout', '-1'])).toThrow(/positive number of seconds/);
    expect(() => parseCli(['local', '--init-timeout', '0'])).toThrow(/positive number of seconds/);
    expect(() => parseCli(['local', '--verbose'])).toThrow(/Unknown option --verbose/);
  });

  test('GIVEN the synthesized assembly WHEN `wsgate local` runs THEN it prints the stage URLs, serves, and SIGINT stops it cleanly', async () => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(ROOT, 'local/cli.ts'), 'local', assemblyDir, '--port', '0'], {
      cwd: ROOT,
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.resume();
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // The stage line comes once the CLI has compiled (ts-node) and started: seconds on a busy machine, so this waits
    // for the output itself (bounded by the test's timeout) rather than a fixed polling budget.
    const line = await new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const match = /stage prod: (ws:\/\/127\.0\.0\.1:\d+\/prod)\s+@connections: (http:\/\/\S+)/.exec(stdout);
        if (match) resolve(match);
      };
      child.stdout.on('data', check);
      child.once('exit', (code) => reject(new Error(`wsgate local exited (${code}) before printing the stage line; it printed: ${stdout}`)));
    });
    const client = await QueuedClient.open(`${line[1]}?token=${await signDevToken({ user: 'cli' })}`);
    client.send({ action: 'join', data: { room: 'cli' } });
    expect(await client.nextJson()).toEqual({ type: 'joined', room: 'cli' });
    child.kill('SIGINT');
    expect((await client.closed).code).toBe(1001);
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/Stopping/);
  });
});
