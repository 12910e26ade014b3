/**
 * startEmulator's reload (local/emulator.ts), what `wsgate local --watch` calls after each synth: a real app with a
 * handler file, synthesized, run, edited and synthesized again; the same open `ws` connection gets the new code's
 * answer, a route change is refused as not hot-swappable, an unreadable assembly leaves the last good version serving.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, AssetStaging, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { startEmulator, type RunningEmulator } from '../../local/emulator';
import { QueuedClient } from './gateway-test-kit';

let workDir: string;
let srcDir: string;
let outDir: string;
let emulator: RunningEmulator;
let client: QueuedClient;

function writeHandler(answer: string): void {
  fs.writeFileSync(
    path.join(srcDir, 'index.js'),
    `exports.handler = async () => ({ statusCode: 200, body: ${JSON.stringify(answer)} });\n`,
  );
}

/** The app as a user's `cdk synth` would write it again into the same cdk.out. */
function synth(extraRoute = false): void {
  // A user's synth is a new process; in this one, aws-cdk-lib's asset hash cache would keep the first hash.
  AssetStaging.clearAssetHashCache();
  const app = new App({ outdir: outDir });
  const stack = new Stack(app, 'Watched');
  const fn = new lambda.Function(stack, 'Echo', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromAsset(srcDir) });
  const api = new apigwv2.WebSocketApi(stack, 'Api');
  api.addRoute('ask', { integration: new WebSocketLambdaIntegration('Ask', fn), returnResponse: true });
  if (extraRoute) api.addRoute('extra', { integration: new WebSocketLambdaIntegration('Extra', fn), returnResponse: true });
  new apigwv2.WebSocketStage(stack, 'Stage', { webSocketApi: api, stageName: 'dev', autoDeploy: true });
  app.synth();
}

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-reload-'));
  srcDir = path.join(workDir, 'src');
  outDir = path.join(workDir, 'cdk.out');
  fs.mkdirSync(srcDir);
  writeHandler('v1');
  synth();
  emulator = await startEmulator({ assemblyDir: outDir, port: 0, functionLog: () => undefined });
  client = await QueuedClient.open(emulator.endpoints[0].websocketUrl);
});

afterAll(async () => {
  client?.socket.close();
  await emulator?.close();
  fs.rmSync(workDir, { recursive: true, force: true });
});

async function ask(): Promise<string> {
  client.send({ action: 'ask' });
  return client.next();
}

describe('RunningEmulator.reload', () => {
  test('GIVEN an open connection answered by v1 WHEN the handler is edited, the app synthesized and the emulator reloaded THEN the same connection gets v2', async () => {
    // GIVEN
    expect(await ask()).toBe('v1');

    // WHEN
    writeHandler('v2');
    synth();
    const result = await emulator.reload();

    // THEN
    expect(result).toEqual({ swapped: [expect.stringMatching(/^Watched\/Echo/)], needsRestart: [] });
    expect(await ask()).toBe('v2');
    expect(client.socket.readyState).toBe(client.socket.OPEN);
  });

  test('GIVEN nothing changed WHEN reloaded THEN nothing is swapped', async () => {
    synth();
    expect(await emulator.reload()).toEqual({ swapped: [], needsRestart: [] });
  });

  test('GIVEN a new route and new code WHEN reloaded THEN it says a restart is needed and keeps serving the old code', async () => {
    // GIVEN
    writeHandler('v3');
    synth(true);

    // WHEN
    const result = await emulator.reload();

    // THEN
    expect(result.swapped).toEqual([]);
    expect(result.needsRestart).toEqual(expect.arrayContaining([expect.stringMatching(/^new route extra of Watched\/Api/)]));
    expect(await ask()).toBe('v2');
  });

  test('GIVEN an assembly that cannot be read WHEN reloaded THEN the error is returned and the last good version keeps serving', async () => {
    // GIVEN
    fs.writeFileSync(path.join(outDir, 'manifest.json'), '{ half written');

    // WHEN
    const result = await emulator.reload();

    // THEN
    expect(result.error).toMatch(/manifest is not valid JSON/);
    expect(await ask()).toBe('v2');
  });
});
