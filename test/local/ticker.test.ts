/**
 * End to end, the ticker example (issue 9, second "Done when"): bin/ticker-stack.ts synthesized for real, run by the
 * real emulator; a client subscribed to the room `ticker` receives what the scheduled publisher sends when it is
 * invoked locally (through `/_wsgate/functions` and through the `wsgate invoke` command), a client not in the room
 * does not.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { App } from 'aws-cdk-lib';
import { TickerStack } from '../../bin/ticker-stack';
import { startEmulator, type RunningEmulator } from '../../local/emulator';
import { DEVELOPER_CREDENTIALS } from '../../local/iam/credentials';
import { QueuedClient } from './gateway-test-kit';
import { invokeFunction, ROOT, tableEventually } from './support/emulator-kit';

const PUBLISHER_ASSET = path.join(ROOT, 'assets/examples/ticker-publisher/index.js');
/** An EventBridge scheduled event, as the rule delivers it every minute. */
const SCHEDULED_EVENT = {
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2026-12-01T16:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:123456789012:rule/ticker'],
  detail: {},
};

let workDir: string;
let emulator: RunningEmulator;
let wsUrl: string;
let sdk: ApiGatewayManagementApiClient;

beforeAll(async () => {
  if (!fs.existsSync(PUBLISHER_ASSET)) {
    throw new Error(`${PUBLISHER_ASSET} is missing: run \`npm run build:handlers\` first (it bundles lambda/ticker/handlers/publisher.ts)`);
  }
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-ticker-'));
  const assemblyDir = path.join(workDir, 'cdk.out');
  const app = new App({ outdir: assemblyDir });
  new TickerStack(app, 'WsgateTicker');
  app.synth();
  emulator = await startEmulator({ assemblyDir, port: 0, functionLog: () => undefined });
  wsUrl = emulator.endpoints[0].websocketUrl;
  sdk = new ApiGatewayManagementApiClient({
    endpoint: emulator.endpoints[0].callbackUrl,
    region: 'us-east-1',
    credentials: DEVELOPER_CREDENTIALS,
  });
});

afterAll(async () => {
  await emulator?.close();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

async function connectAs(user: string): Promise<QueuedClient> {
  const { token } = (await (await fetch(`http://127.0.0.1:${emulator.port}/_wsgate/token?user=${user}`)).json()) as { token: string };
  return QueuedClient.open(`${wsUrl}?token=${encodeURIComponent(token)}`);
}

async function connectionIdOf(user: string): Promise<string> {
  return tableEventually(emulator, (items) => items.find((i) => i.sk === 'meta' && i.userId === user)?.connectionId as string | undefined, `the record of ${user}`);
}

/** Posts a sentinel frame to `connectionId` through @connections: a frame that arrives after anything sent before it. */
async function sentinel(connectionId: string, text: string): Promise<void> {
  await sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(JSON.stringify({ type: 'sentinel', text })) }));
}

describe('the ticker example through the emulator', () => {
  test('GIVEN the synthesized ticker WHEN loaded THEN the publisher is on no route, its schedule is reported, and its environment reaches the local stage', () => {
    const publisher = Object.values(emulator.model.functions).find((f) => f.constructPath?.endsWith('/Publisher'))!;
    expect(publisher).toBeDefined();
    const routed = new Set(emulator.model.apis.flatMap((a) => a.routes.map((r) => r.functionId)));
    expect(routed.has(publisher.id)).toBe(false);
    expect(publisher.environment.CALLBACK_URL).toBe(`https://${emulator.endpoints[0].apiId}.execute-api.us-east-1.amazonaws.com/${emulator.endpoints[0].stage}`);
    expect(publisher.environment.CONNECTIONS_TABLE).toBe(emulator.model.tables[0].tableName);
    expect(emulator.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/EventBridge rule \(schedule rate\(1 minute\)\) is not run by the emulator; .*wsgate invoke .*Publisher/)]));
  });

  test('GIVEN A in room ticker and B in no room WHEN the publisher is invoked with a scheduled event THEN A gets the tick and B gets nothing', async () => {
    // GIVEN
    const a = await connectAs('reader-a');
    const b = await connectAs('reader-b');
    a.send({ action: 'join', data: { room: 'ticker' } });
    expect(await a.nextJson()).toEqual({ type: 'joined', room: 'ticker' });
    const bId = await connectionIdOf('reader-b');

    // WHEN
    const res = await invokeFunction(emulator, 'Publisher', SCHEDULED_EVENT);

    // THEN
    expect(res).toEqual({ status: 200, body: expect.objectContaining({ room: 'ticker', delivered: 1, gone: 0, failed: 0 }) });
    const tick = await a.nextJson();
    expect(tick).toEqual(expect.objectContaining({ type: 'tick', room: 'ticker', at: expect.any(Number) }));
    // The invocation has returned, so every post it made is on the wire: B's next frame is the later sentinel.
    await sentinel(bId, 'after the tick');
    expect(await b.nextJson()).toEqual({ type: 'sentinel', text: 'after the tick' });
    expect(a.pending + b.pending).toBe(0);

    // WHEN an event names another room THEN nobody in `ticker` gets that tick
    const elsewhere = await invokeFunction(emulator, 'WsgateTicker/Publisher', { room: 'elsewhere' });
    expect(elsewhere).toEqual({ status: 200, body: expect.objectContaining({ room: 'elsewhere', delivered: 0 }) });
    await sentinel(await connectionIdOf('reader-a'), 'after the other room');
    expect(await a.nextJson()).toEqual({ type: 'sentinel', text: 'after the other room' });
    for (const c of [a, b]) c.socket.close();
    await Promise.all([a.closed, b.closed]);
  });

  test('GIVEN a subscriber WHEN `wsgate invoke Publisher` runs as a command THEN it prints the result, exits 0, and the subscriber gets the tick', async () => {
    // GIVEN
    const c = await connectAs('reader-c');
    c.send({ action: 'join', data: { room: 'ticker' } });
    expect(await c.nextJson()).toEqual({ type: 'joined', room: 'ticker' });

    // WHEN
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', path.join(ROOT, 'local/cli.ts'), 'invoke', 'Publisher', '--port', String(emulator.port), '--event', JSON.stringify(SCHEDULED_EVENT)],
      { cwd: ROOT, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));

    // THEN
    expect({ code, failure: /wsgate:/.test(stderr) ? stderr : undefined }).toEqual({ code: 0, failure: undefined });
    expect(JSON.parse(stdout)).toEqual(expect.objectContaining({ room: 'ticker', delivered: 1 }));
    expect(await c.nextJson()).toEqual(expect.objectContaining({ type: 'tick', room: 'ticker' }));
    c.socket.close();
    await c.closed;
  });

  test('GIVEN invalid JSON or an unknown name WHEN invoking THEN 400 / 404, and connected clients carry on', async () => {
    // GIVEN
    const d = await connectAs('reader-d');
    // WHEN
    const bad = await invokeFunction(emulator, 'Publisher', '{"room": ticker}');
    const unknown = await invokeFunction(emulator, 'NoSuchFunction', {});
    // THEN
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/not valid JSON/);
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toMatch(/Known: .*Publisher/);
    d.send({ action: 'join', data: { room: 'ticker' } });
    expect(await d.nextJson()).toEqual({ type: 'joined', room: 'ticker' });
    d.socket.close();
    await d.closed;
  });
});
