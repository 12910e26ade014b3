/**
 * End to end, the first "Done when" of issue 9: a stack whose `$connect`, `$disconnect`, `$default` and one custom
 * route are user functions written only against `wsgate/runtime` (fixtures/user-handlers/src), bundled with esbuild
 * the way a user would, under the route selection expression `$request.body.type`. Synthesized for real, run by the
 * real emulator (function processes, dynalite, local Secrets Manager), driven by real `ws` clients.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiGatewayManagementApiClient, DeleteConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { App } from 'aws-cdk-lib';
import { signDevToken } from '../../local/dev-token';
import { startEmulator, type RunningEmulator } from '../../local/emulator';
import { DEVELOPER_CREDENTIALS } from '../../local/iam/credentials';
import { FIXTURE_AUDIENCE, FIXTURE_ISSUER, USER_HANDLERS, UserHandlersStack } from './fixtures/user-handlers/user-handlers-stack';
import { QueuedClient } from './gateway-test-kit';
import { bundleLikeAUser, ensureRuntimeBuilt, invokeFunction, scanTable, tableEventually } from './support/emulator-kit';

const FIXTURE = path.join(__dirname, 'fixtures', 'user-handlers');
let workDir: string;
let emulator: RunningEmulator;
let wsUrl: string;
const functionOutput: string[] = [];

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-user-handlers-'));
  ensureRuntimeBuilt();
  const bundlesDir = path.join(workDir, 'bundles');
  await bundleLikeAUser(workDir, Object.fromEntries(USER_HANDLERS.map((name) => [name, path.join(FIXTURE, 'src', `${name}.mjs`)])), bundlesDir);
  const assemblyDir = path.join(workDir, 'cdk.out');
  const app = new App({ outdir: assemblyDir });
  new UserHandlersStack(app, 'UserHandlers', { bundlesDir });
  app.synth();
  emulator = await startEmulator({ assemblyDir, port: 0, functionLog: (id, stream, line) => functionOutput.push(`${id} ${stream} ${line}`) });
  wsUrl = emulator.endpoints[0].websocketUrl;
});

afterAll(async () => {
  await emulator?.close();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

async function connectAs(user: string, query = ''): Promise<QueuedClient> {
  const token = await signDevToken({ user, issuer: FIXTURE_ISSUER, audience: FIXTURE_AUDIENCE });
  return QueuedClient.open(`${wsUrl}?token=${encodeURIComponent(token)}${query}`);
}

/** The connection id `$connect` recorded for `user` (the one meta item with that userId). */
async function recordedConnectionId(user: string): Promise<string> {
  return tableEventually(emulator, (items) => items.find((i) => i.sk === 'meta' && i.userId === user)?.connectionId as string | undefined, `the record of ${user}`);
}

describe('user handlers on every route, through the emulator', () => {
  test('GIVEN the synthesized fixture WHEN loaded THEN every route runs a user function, wired with the runtime settings', () => {
    // GIVEN / WHEN: the assembly the emulator loaded
    const api = emulator.model.apis[0];
    const pathOf = (routeKey: string) => emulator.model.functions[api.routes.find((r) => r.routeKey === routeKey)!.functionId!].constructPath;
    // THEN
    expect(api.routeSelectionExpression).toBe('$request.body.type');
    expect(['$connect', '$disconnect', '$default', 'subscribe'].map(pathOf)).toEqual([
      'UserHandlers/Connect',
      'UserHandlers/Disconnect',
      'UserHandlers/Default',
      'UserHandlers/Subscribe',
    ]);
    const env = emulator.model.functions[api.routes.find((r) => r.routeKey === '$default')!.functionId!].environment;
    expect(env).toEqual(expect.objectContaining({
      CONNECTIONS_TABLE: emulator.model.tables[0].tableName,
      ROOM_INDEX: 'byRoom',
      CALLBACK_URL: `https://${api.apiId}.execute-api.us-east-1.amazonaws.com/prod`,
    }));
  });

  test('GIVEN a valid token WHEN clients connect THEN the user $connect records each connection with its principal, and $connect can refuse', async () => {
    // GIVEN / WHEN
    const alice = await connectAs('alice');
    const aliceId = await recordedConnectionId('alice');
    alice.send({ type: 'whoami' });
    // THEN
    expect(await alice.nextJson()).toEqual({ type: 'identity', principalId: 'alice', routeKey: '$default', recordedUser: 'alice' });
    const item = (await scanTable(emulator)).find((i) => i.connectionId === aliceId && i.sk === 'meta')!;
    expect(item).toEqual(expect.objectContaining({ userId: 'alice', sourceIp: '127.0.0.1', expiresAt: expect.any(Number) }));
    await expect(connectAs('mallory', '&refuse=yes')).rejects.toThrow(/Unexpected server response: 403/);
    await expect(QueuedClient.open(wsUrl)).rejects.toThrow(/Unexpected server response: 401/);
    expect((await scanTable(emulator)).some((i) => i.userId === 'mallory')).toBe(false);
    alice.socket.close();
    await alice.closed;
  });

  test('GIVEN three clients WHEN two subscribe to a room and one publishes THEN only the members get the event, and leaving stops it', async () => {
    // GIVEN
    const [bob, carol, dave] = [await connectAs('bob'), await connectAs('carol'), await connectAs('dave')];
    bob.send({ type: 'subscribe', room: 'news' });
    expect(await bob.nextJson()).toEqual({ type: 'subscribed', room: 'news' });
    carol.send({ type: 'subscribe', room: 'news' });
    expect(await carol.nextJson()).toEqual({ type: 'subscribed', room: 'news' });
    dave.send({ type: 'members', room: 'news' });
    expect(await dave.nextJson()).toEqual({ type: 'members', room: 'news', users: ['bob', 'carol'] });

    // WHEN dave (not a member) publishes to the room
    dave.send({ type: 'publish', room: 'news', text: 'extra!' });
    // THEN the members get it, dave gets the counts only
    for (const member of [bob, carol]) expect(await member.nextJson()).toEqual({ type: 'event', room: 'news', from: 'dave', text: 'extra!' });
    expect(await dave.nextJson()).toEqual({ type: 'published', room: 'news', delivered: 2, gone: 0, failed: 0 });

    // WHEN carol leaves and bob publishes
    carol.send({ type: 'unsubscribe', room: 'news' });
    expect(await carol.nextJson()).toEqual({ type: 'unsubscribed', room: 'news' });
    bob.send({ type: 'publish', room: 'news', text: 'just us' });
    expect(await bob.nextJson()).toEqual({ type: 'event', room: 'news', from: 'bob', text: 'just us' });
    expect(await bob.nextJson()).toMatchObject({ type: 'published', delivered: 1 });
    // THEN carol's and dave's next frame is a later direct message: nothing from the room came before it.
    const carolId = await recordedConnectionId('carol');
    const daveId = await recordedConnectionId('dave');
    bob.send({ type: 'direct', to: carolId, text: 'sentinel' });
    bob.send({ type: 'direct', to: daveId, text: 'sentinel' });
    expect(await carol.nextJson()).toEqual({ type: 'direct', from: 'bob', text: 'sentinel' });
    expect(await dave.nextJson()).toEqual({ type: 'direct', from: 'bob', text: 'sentinel' });

    // WHEN dave broadcasts THEN everyone connected gets it
    dave.send({ type: 'broadcast', text: 'all hands' });
    for (const anyone of [bob, carol, dave]) expect(await anyone.nextJson()).toEqual({ type: 'announcement', from: 'dave', text: 'all hands' });
    expect(await dave.nextJson()).toEqual({ type: 'broadcasted', delivered: 3, gone: 0, failed: 0 });
    expect(bob.pending + carol.pending + dave.pending).toBe(0);
    for (const c of [bob, carol, dave]) c.socket.close();
    await Promise.all([bob.closed, carol.closed, dave.closed]);
  });

  test('GIVEN invalid arguments to the runtime WHEN a handler passes them THEN a typed error reaches the sender only, nothing is written, and the connection carries on', async () => {
    // GIVEN
    const erin = await connectAs('erin');
    const frank = await connectAs('frank');
    // Only erin's and frank's items: the connections the previous test closed are removed by their $disconnect,
    // which runs after the client saw the close, so the rest of the table may still be shrinking.
    const theirs = [`conn#${await recordedConnectionId('erin')}`, `conn#${await recordedConnectionId('frank')}`];
    const itemsOfTheirs = async () => (await scanTable(emulator)).filter((i) => theirs.includes(i.pk as string));
    const before = await itemsOfTheirs();
    // WHEN
    erin.send({ type: 'subscribe', room: 'no spaces allowed' });
    // THEN
    expect(await erin.nextJson()).toEqual({ type: 'error', code: 'INVALID_ARGUMENT', message: expect.stringMatching(/room/i) });
    // WHEN
    erin.send({ type: 'publish', room: 'after-error', text: 'x', repeat: 140_000 });
    // THEN
    expect(await erin.nextJson()).toEqual(expect.objectContaining({ type: 'error', code: 'MESSAGE_TOO_LARGE' }));
    expect(await itemsOfTheirs()).toEqual(before);
    erin.send({ type: 'subscribe', room: 'after-error' });
    expect(await erin.nextJson()).toEqual({ type: 'subscribed', room: 'after-error' });
    frank.send({ type: 'whoami' });
    expect(await frank.nextJson()).toMatchObject({ type: 'identity', principalId: 'frank' });
    expect(frank.pending).toBe(0);
    for (const c of [erin, frank]) c.socket.close();
    await Promise.all([erin.closed, frank.closed]);
  });

  test('GIVEN connections in a room WHEN the client closes, a handler calls gateway.close, or @connections DELETE THEN $disconnect removes the connection and its memberships', async () => {
    // GIVEN three subscribed clients
    const clients = { gina: await connectAs('gina'), hank: await connectAs('hank'), ivy: await connectAs('ivy') };
    for (const client of Object.values(clients)) {
      client.send({ type: 'subscribe', room: 'closing' });
      expect(await client.nextJson()).toEqual({ type: 'subscribed', room: 'closing' });
    }
    const ids = { gina: await recordedConnectionId('gina'), hank: await recordedConnectionId('hank'), ivy: await recordedConnectionId('ivy') };
    expect((await scanTable(emulator)).filter((i) => Object.values(ids).includes(i.connectionId))).toHaveLength(6);

    // WHEN gina closes, hank's handler closes hank from the server, ivy is deleted through @connections
    clients.gina.socket.close();
    clients.hank.send({ type: 'bye' });
    const sdk = new ApiGatewayManagementApiClient({
      endpoint: emulator.endpoints[0].callbackUrl,
      region: 'us-east-1',
      credentials: DEVELOPER_CREDENTIALS,
    });
    await sdk.send(new DeleteConnectionCommand({ ConnectionId: ids.ivy }));

    // THEN the server closes read 1001 Going away, and every record of the three is removed by $disconnect
    expect((await clients.hank.closed).code).toBe(1001);
    expect((await clients.ivy.closed).code).toBe(1001);
    await clients.gina.closed;
    await tableEventually(emulator, (items) => !items.some((i) => Object.values(ids).includes(i.connectionId)), 'the three connections to be removed');
    expect(functionOutput.filter((line) => /ERROR|Unhandled/.test(line))).toEqual([]);
  });

  test('GIVEN a function never wired to the gateway WHEN invoked THEN 502 with a ConfigurationError naming the variable, before any AWS call, and clients carry on', async () => {
    // GIVEN a connected client
    const kim = await connectAs('kim');
    // WHEN the orphan (it would broadcast) is invoked
    const res = await invokeFunction(emulator, 'Orphan', {});
    // THEN
    expect(res.status).toBe(502);
    expect(res.body).toEqual({ errorType: 'ConfigurationError', errorMessage: expect.stringMatching(/^environment variable (CONNECTIONS_TABLE|CALLBACK_URL|ROOM_INDEX) is not set.*wire this function to the gateway/) });
    kim.send({ type: 'whoami' });
    expect(await kim.nextJson()).toMatchObject({ type: 'identity', principalId: 'kim' });
    expect(kim.pending).toBe(0);
    kim.socket.close();
    await kim.closed;
  });

  test('GIVEN a route handler WHEN invoked through /_wsgate/functions with a crafted event THEN it runs like on its route', async () => {
    // GIVEN a connected client, WHEN its $default handler is invoked by hand as if it had sent {"type":"whoami"}
    const jack = await connectAs('jack');
    const jackId = await recordedConnectionId('jack');
    const api = emulator.model.apis[0];
    const res = await invokeFunction(emulator, 'Default', {
      requestContext: { routeKey: '$default', eventType: 'MESSAGE', connectionId: jackId, stage: 'prod', apiId: api.apiId, domainName: 'local', authorizer: { principalId: 'jack' } },
      body: '{"type":"whoami"}',
      isBase64Encoded: false,
    });
    // THEN the function answered and jack got its frame
    expect(res).toEqual({ status: 200, body: { statusCode: 200 } });
    expect(await jack.nextJson()).toEqual({ type: 'identity', principalId: 'jack', routeKey: '$default', recordedUser: 'jack' });
    jack.socket.close();
    await jack.closed;
  });
});
