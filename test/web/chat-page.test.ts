/**
 * The browser demo (web/) in a real Chromium, against the real emulator running the synthesized example
 * chat app: real pages, real WebSockets, real Lambda handlers, and the real management API client.
 *
 * Needs Debian's Chromium at /usr/bin/chromium (`apt-get install -y chromium`); never downloads a browser.
 * Without it the suite is skipped locally and fails under CI (`CI` set).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiGatewayManagementApiClient,
  GetConnectionCommand,
  GoneException,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import { App } from 'aws-cdk-lib';
import { Browser, Page, chromium } from 'playwright-core';
import { ChatStack } from '../../bin/chat-stack';
import { signDevToken } from '../../local/dev-token';
import { RunningEmulator, startEmulator } from '../../local/emulator';
import { DEVELOPER_CREDENTIALS } from '../../local/iam/credentials';

const ROOT = join(__dirname, '..', '..');
const CHROMIUM_PATH = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const WEB_DIST = join(ROOT, 'web', 'dist');
// The README's screenshot is refreshed only on request (UPDATE_SCREENSHOT=1 npm test), so an ordinary
// run leaves the working tree clean; otherwise it goes to the OS temp folder (still proving it renders).
const SCREENSHOT = process.env.UPDATE_SCREENSHOT === '1'
  ? join(ROOT, 'docs', 'chat-page.png')
  : join(tmpdir(), 'wsgate-chat-page.png');
/** shared/design.md: room names are 1–64 characters. */
const ROOM_NAME_MAX_LENGTH = 64;
/** RFC 6455 close code the page sends when the user presses Disconnect. */
const NORMAL_CLOSURE = 1000;
/** RFC 6455: what browsers report when the handshake fails (they never see the HTTP 401/403). */
const ABNORMAL_CLOSURE = 1006;
/** How long to wait for the emulator to notice a closed page before failing with a clear message. */
const GONE_DEADLINE_MS = 20_000;

const chromiumMissing = !existsSync(CHROMIUM_PATH);
const inCi = Boolean(process.env.CI);
const describeInBrowser = chromiumMissing && !inCi ? describe.skip : describe;

describeInBrowser('chat page (web/) in Chromium against the emulator', () => {
  let workDir: string;
  let emulator: RunningEmulator;
  let browser: Browser;
  let appUrl: string;
  let callbackUrl: string;
  const pageErrors: string[] = [];
  /** Gateway and function output, kept out of the test report. */
  const emulatorOutput: string[] = [];

  beforeAll(async () => {
    if (chromiumMissing) {
      throw new Error(`Chromium is missing at ${CHROMIUM_PATH}; install it with: apt-get install -y chromium`);
    }
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-web.mjs'), '--quiet'], { stdio: 'inherit' });
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-handlers.mjs'), '--quiet', '--if-stale'], { stdio: 'inherit' });
    workDir = mkdtempSync(join(tmpdir(), 'wsgate-web-'));
    const assemblyDir = join(workDir, 'cdk.out');
    const app = new App({ outdir: assemblyDir });
    new ChatStack(app, 'WsgateChat');
    app.synth();
    emulator = await startEmulator({
      assemblyDir,
      port: 0,
      staticDir: WEB_DIST,
      log: (line) => emulatorOutput.push(line),
      functionLog: (id, stream, line) => emulatorOutput.push(`${id} ${stream} ${line}`),
    });
    expect(emulator.endpoints).toHaveLength(1); // the example app has one API with one stage
    const [stage] = emulator.endpoints;
    callbackUrl = stage.callbackUrl;
    appUrl = `http://127.0.0.1:${emulator.port}/_wsgate/app/?stage=${encodeURIComponent(stage.stage)}`;
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await emulator?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  afterEach(() => {
    expect(pageErrors).toEqual([]);
    pageErrors.length = 0;
  });

  /** A new page signed in as `user` (local dev token) with an open connection. */
  async function openChat(user: string): Promise<Page> {
    const page = await newChatPage(user);
    await page.getByLabel('User name').fill(user);
    await page.getByRole('button', { name: 'Get local token' }).click();
    await page.getByText(`Local token for ${user} ready.`).waitFor();
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await connectionState(page, 'open').waitFor();
    return page;
  }

  /** A new page showing the chat page, not yet signed in; `name` labels its script errors. */
  async function newChatPage(name: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1100, height: 720 } });
    page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.message}`));
    await page.goto(appUrl);
    return page;
  }

  function connectionState(page: Page, phase: 'open' | 'closed' | 'connecting') {
    return page.locator(`#connection-state[data-state="${phase}"]`);
  }

  function logEntries(page: Page, text: string, kind: 'message' | 'error' | 'notice' = 'message') {
    return page.locator(`#message-log li.entry--${kind}`).filter({ hasText: text });
  }

  async function joinRoom(page: Page, room: string): Promise<void> {
    await page.getByLabel('Room', { exact: true }).fill(room);
    await page.getByRole('button', { name: 'Join' }).click();
    await page.locator('#joined-rooms li').filter({ hasText: `#${room}` }).waitFor();
  }

  async function send(page: Page, text: string, to: string): Promise<void> {
    await page.getByLabel('Send to').selectOption({ label: to });
    await page.getByLabel('Message', { exact: true }).fill(text);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
  }

  test('GIVEN alice and bob in a room and carol in none WHEN alice sends to the room THEN alice and bob see it and carol does not', async () => {
    // GIVEN
    const room = 'lobby';
    const [alice, bob, carol] = [await openChat('alice'), await openChat('bob'), await openChat('carol')];
    await joinRoom(alice, room);
    await joinRoom(bob, room);
    const roomText = 'Hi bob, the build is green. Shall we ship?';
    const replyText = 'Yes, ship it.';
    const everyoneText = 'Release notes are up for everyone to read.';

    // WHEN
    await send(alice, roomText, `#${room}`);
    await logEntries(alice, roomText).waitFor();
    await logEntries(bob, roomText).waitFor();
    await send(bob, replyText, `#${room}`);
    await logEntries(alice, replyText).waitFor();
    // A later message to everyone marks the point by which carol would have had the room messages.
    await send(alice, everyoneText, 'Everyone');
    await logEntries(carol, everyoneText).waitFor();
    await logEntries(bob, everyoneText).waitFor();

    // THEN
    const seenByBob = logEntries(bob, roomText);
    expect(await seenByBob.locator('.entry__from').innerText()).toBe('alice');
    expect(await seenByBob.locator('.entry__room').innerText()).toBe(`#${room}`);
    expect(await seenByBob.locator('.entry__text').innerText()).toBe(roomText);
    expect(Date.parse((await seenByBob.locator('time').getAttribute('datetime')) ?? '')).not.toBeNaN();
    expect(await logEntries(bob, everyoneText).locator('.entry__room').innerText()).toBe('everyone');
    expect(await logEntries(carol, roomText).count()).toBe(0);
    expect(await logEntries(carol, replyText).count()).toBe(0);

    mkdirSync(join(ROOT, 'docs'), { recursive: true });
    await bob.screenshot({ path: SCREENSHOT, fullPage: true });
    await Promise.all([alice.close(), bob.close(), carol.close()]);
  });

  test('GIVEN a message whose text is HTML markup WHEN another user receives it THEN the page shows it as text and runs nothing', async () => {
    // GIVEN
    const [mallory, grace] = [await openChat('mallory'), await openChat('grace')];
    const markup = `<img src="x" onerror="document.title='xss'"><b>bold?</b>`;

    // WHEN
    await send(mallory, markup, 'Everyone');

    // THEN
    const seenByGrace = logEntries(grace, 'bold?');
    await seenByGrace.waitFor();
    expect(await seenByGrace.locator('.entry__text').innerText()).toBe(markup);
    expect(await grace.locator('#message-log img, #message-log b').count()).toBe(0);
    expect(await grace.title()).not.toBe('xss');
    await Promise.all([mallory.close(), grace.close()]);
  });

  test('GIVEN an open page WHEN the user joins a room whose name is too long THEN the page shows the server error frame', async () => {
    // GIVEN
    const page = await openChat('dave');
    const tooLong = 'r'.repeat(ROOM_NAME_MAX_LENGTH + 1);

    // WHEN
    await page.getByLabel('Room', { exact: true }).fill(tooLong);
    await page.getByRole('button', { name: 'Join' }).click();

    // THEN
    const error = page.locator('#message-log li.entry--error');
    await error.waitFor();
    expect(await error.locator('.entry__text').innerText()).toMatch(/room/i);
    expect(await page.locator('#joined-rooms li').count()).toBe(0);
    await connectionState(page, 'open').waitFor();
    await page.close();
  });

  test('GIVEN an open page WHEN the user disconnects and reconnects THEN the state shows closed with code and reason, then open', async () => {
    // GIVEN
    const page = await openChat('erin');

    // WHEN
    await page.getByRole('button', { name: 'Disconnect' }).click();
    await connectionState(page, 'closed').waitFor();
    const closedText = await page.locator('#connection-state').innerText();
    await page.getByRole('button', { name: 'Reconnect' }).click();

    // THEN
    expect(closedText).toContain(`code ${NORMAL_CLOSURE}`);
    expect(closedText).toContain('user disconnected');
    await connectionState(page, 'open').waitFor();
    await page.close();
  });

  test('GIVEN a token pasted by the user WHEN the page connects THEN its messages come from that token\'s subject', async () => {
    // GIVEN
    const page = await newChatPage('pasted');
    await page.getByLabel('Token').fill(await signDevToken({ user: 'heidi' }));
    const text = 'sent with a pasted token';

    // WHEN
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await connectionState(page, 'open').waitFor();
    await send(page, text, 'Everyone');

    // THEN
    const entry = logEntries(page, text);
    await entry.waitFor();
    expect(await entry.locator('.entry__from').innerText()).toBe('heidi');
    await page.close();
  });

  test('GIVEN a token the authorizer refuses WHEN the page connects THEN the state shows closed and the page explains the failed handshake', async () => {
    // GIVEN
    const page = await newChatPage('refused');
    await page.getByLabel('Token').fill(await signDevToken({ user: 'ivan', secret: 'not-the-local-secret' }));

    // WHEN
    await page.getByRole('button', { name: 'Connect', exact: true }).click();

    // THEN
    await connectionState(page, 'closed').waitFor();
    expect(await page.locator('#connection-state').innerText()).toContain(`code ${ABNORMAL_CLOSURE}`);
    await logEntries(page, 'The handshake failed', 'notice').waitFor();
    expect(await page.getByRole('button', { name: 'Send', exact: true }).isDisabled()).toBe(true);
    await page.close();
  });

  test('GIVEN an open page WHEN the page is closed THEN GetConnection for its connection fails with GoneException', async () => {
    // GIVEN
    const management = new ApiGatewayManagementApiClient({
      endpoint: callbackUrl,
      region: 'us-east-1',
      credentials: DEVELOPER_CREDENTIALS,
    });
    const page = await openChat('frank');
    const connectionId = await connectionIdOf('frank');
    const before = await management.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    expect(before.ConnectedAt).toBeInstanceOf(Date);

    // WHEN
    await page.close();

    // THEN
    const error = await untilGone(management, connectionId);
    expect(error).toBeInstanceOf(GoneException);
    management.destroy();
  });

  /**
   * The id of `user`'s only connection, from the connection item the example's `$connect` handler wrote
   * (CONTRIBUTING.md, table model). The handshake waits for `$connect`, so the item exists once the page is open.
   */
  async function connectionIdOf(user: string): Promise<string> {
    const dynamodb = new DynamoDBClient({
      endpoint: emulator.dynamodbEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const ids: string[] = [];
    const pages = paginateScan(
      { client: dynamodb },
      {
        TableName: emulator.model.tables[0].tableName,
        FilterExpression: 'sk = :meta AND userId = :user',
        ExpressionAttributeValues: { ':meta': { S: 'meta' }, ':user': { S: user } },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) ids.push(item.connectionId.S!);
    }
    dynamodb.destroy();
    expect(ids).toHaveLength(1);
    return ids[0];
  }
});

/** Polls GetConnection until it fails; resolves to that error, or rejects after GONE_DEADLINE_MS. */
async function untilGone(management: ApiGatewayManagementApiClient, connectionId: string): Promise<unknown> {
  const deadline = Date.now() + GONE_DEADLINE_MS;
  while (Date.now() < deadline) {
    try {
      await management.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    } catch (error) {
      return error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`connection ${connectionId} still answered GetConnection ${GONE_DEADLINE_MS} ms after its page closed`);
}
