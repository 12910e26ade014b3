/**
 * End to end, IAM authorization on `$connect` (lib `ConnectAuthorization.iam()`, emulator local/gateway/handshake.ts):
 * the fixture app (fixtures/iam-connect) synthesized for real and run by the real emulator with local IAM on.
 * An unsigned upgrade and a badly signed one are refused 403; upgrades SigV4-signed with the developer key (as a
 * presigned URL or in the Authorization header, signed by the SDK's own signer) connect, and the bundled `$connect`
 * records the signer's ARN as the connection's user. The 403 body text is the emulator's choice [UNCONFIRMED]
 * (local/gateway/README.md).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { startEmulator, type RunningEmulator } from '../../local/emulator';
import { DEVELOPER_CREDENTIALS } from '../../local/iam/credentials';
import { IamConnectStack } from './fixtures/iam-connect/iam-connect-stack';
import { QueuedClient } from './gateway-test-kit';
import { tableEventually } from './support/emulator-kit';
import { sdkSigner } from './support/sigv4-signer';

let workDir: string;
let emulator: RunningEmulator;
const gatewayLog: string[] = [];

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-iam-connect-'));
  const assemblyDir = path.join(workDir, 'cdk.out');
  const app = new App({ outdir: assemblyDir });
  new IamConnectStack(app, 'IamConnect');
  app.synth();
  emulator = await startEmulator({ assemblyDir, port: 0, log: (line) => gatewayLog.push(line), functionLog: () => undefined });
});

afterAll(async () => {
  await emulator?.close();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

/** The upgrade's status: 101 when the client connected, else the status the gateway refused it with. */
async function handshakeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  try {
    const client = await QueuedClient.open(url, undefined, { headers });
    client.socket.close();
    return 101;
  } catch (err) {
    return Number(/Unexpected server response: (\d+)/.exec((err as Error).message)?.[1] ?? NaN);
  }
}

function stageRequest() {
  const { port } = emulator;
  const stagePath = new URL(emulator.endpoints[0].websocketUrl).pathname;
  return { method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port, path: stagePath, query: {}, headers: { host: `127.0.0.1:${port}` } } as never;
}

async function presignedUrl(secretAccessKey: string): Promise<string> {
  const signer = sdkSigner({ service: 'execute-api', region: emulator.model.apis[0].region, accessKeyId: DEVELOPER_CREDENTIALS.accessKeyId, secretAccessKey });
  const signed = (await signer.presign(stageRequest(), { expiresIn: 300 })) as unknown as { query: Record<string, string> };
  return `${emulator.endpoints[0].websocketUrl}?${new URLSearchParams(signed.query).toString()}`;
}

describe('ConnectAuthorization.iam() under the emulator', () => {
  test('GIVEN the synthesized fixture WHEN loaded THEN $connect is AWS_IAM with no authorizer function', () => {
    const connect = emulator.model.apis[0].routes.find((r) => r.routeKey === '$connect')!;
    expect(connect.authorizationType).toBe('AWS_IAM');
    expect(connect.authorizer).toBeUndefined();
  });

  test('GIVEN IAM on $connect WHEN a client connects unsigned or signed with a wrong secret THEN 403 and $connect never records it', async () => {
    expect(await handshakeStatus(emulator.endpoints[0].websocketUrl)).toBe(403);
    expect(await handshakeStatus(await presignedUrl('not-the-developer-secret'))).toBe(403);
    expect(gatewayLog.filter((l) => l.includes('refused with 403 (AWS_IAM)')).map((l) => /\(AWS_IAM\): (\w+):/.exec(l)?.[1]))
      .toEqual(['MissingAuthenticationTokenException', 'InvalidSignatureException']);
  });

  test('GIVEN the developer key WHEN the upgrade is presigned or signed in the Authorization header THEN both connect and the bundled $connect records the signer ARN as the user', async () => {
    // GIVEN
    const developerArn = `arn:aws:iam::${emulator.model.apis[0].accountId}:user/wsgate-local-developer`;
    // WHEN: a presigned URL
    const presigned = await QueuedClient.open(await presignedUrl(DEVELOPER_CREDENTIALS.secretAccessKey));
    // WHEN: the Authorization header
    const signer = sdkSigner({ service: 'execute-api', region: emulator.model.apis[0].region, ...DEVELOPER_CREDENTIALS });
    const { headers } = (await signer.sign(stageRequest())) as unknown as { headers: Record<string, string> };
    const { host: _host, ...signedHeaders } = headers;
    const headerSigned = await QueuedClient.open(emulator.endpoints[0].websocketUrl, undefined, { headers: signedHeaders });
    // THEN
    const recorded = await tableEventually(emulator, (items) => {
      const meta = items.filter((i) => i.sk === 'meta');
      return meta.length === 2 ? meta : undefined;
    }, 'both connection records');
    expect(recorded.map((i) => i.userId)).toEqual([developerArn, developerArn]);
    presigned.socket.close();
    headerSigned.socket.close();
  });
});
