/**
 * Assembly shapes beyond one flat stack (local/assembly): a cross-stack table (strong `Fn::ImportValue` and weak
 * `Fn::GetStackOutput` references), a gateway in a NestedStack (parameters passed in, outputs read by the parent),
 * several stacks at once, stage variables, and what cannot run failing at start with a message naming the resource.
 * Real CDK apps (WebSocketGateway from lib/) are synthesized here; the emulator and `ws` clients are real.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, CfnStack, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AssemblyError, loadAssembly } from '../../local/assembly/load';
import { signDevToken } from '../../local/dev-token';
import { startEmulator, type RunningEmulator } from '../../local/emulator';
import { addCrossStacks, crossStackApp } from './fixtures/cross-stack/cross-stack-app';
import { addNestedStacks } from './fixtures/nested/nested-app';
import { QueuedClient } from './gateway-test-kit';
import { invokeFunction, scanTable } from './support/emulator-kit';

let workDir: string;
let strongDir: string;
let weakDir: string;
let emulator: RunningEmulator;
const clients: QueuedClient[] = [];

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-shapes-'));
  // One app with three top-level stacks: DataStack + ApiStack (cross-stack table) and Parent (nested gateway).
  strongDir = path.join(workDir, 'strong');
  const app = crossStackApp(strongDir, 'strong');
  addCrossStacks(app);
  addNestedStacks(app);
  app.synth();
  weakDir = path.join(workDir, 'weak');
  const weak = crossStackApp(weakDir, 'weak');
  addCrossStacks(weak);
  weak.synth();
  emulator = await startEmulator({ assemblyDir: strongDir, port: 0, functionLog: () => undefined });
});

afterAll(async () => {
  for (const c of clients) c.socket.close();
  await emulator?.close();
  fs.rmSync(workDir, { recursive: true, force: true });
});

function templateOf(dir: string, stack: string): string {
  return fs.readFileSync(path.join(dir, `${stack}.template.json`), 'utf8');
}

async function joinThrough(websocketUrl: string, user: string, room: string): Promise<void> {
  const token = await signDevToken({ user });
  const client = await QueuedClient.open(`${websocketUrl}?token=${encodeURIComponent(token)}`);
  clients.push(client);
  client.send({ action: 'join', data: { room } });
  expect(await client.nextJson()).toEqual({ type: 'joined', room });
}

describe('a table in another stack', () => {
  test('GIVEN the gateway in ApiStack and its table in DataStack (strong reference) WHEN only ApiStack is chosen THEN the imported table is still created and wired', () => {
    // GIVEN the reference form aws-cdk-lib writes by default
    expect(templateOf(strongDir, 'ApiStack')).toContain('"Fn::ImportValue": "DataStack:ExportsOutputRef');

    // WHEN
    const model = loadAssembly(strongDir, { stack: 'ApiStack' });

    // THEN the table of DataStack is created, and every gateway function names it
    const dataTable = model.tables.find((t) => t.stackName === 'DataStack');
    expect(dataTable?.tableName).toMatch(/^DataStack-Connections/);
    const wired = Object.values(model.functions).filter((f) => f.stackName === 'ApiStack' && f.environment.CONNECTIONS_TABLE);
    expect(wired.length).toBeGreaterThanOrEqual(3);
    for (const fn of wired) expect(fn.environment.CONNECTIONS_TABLE).toBe(dataTable!.tableName);
    expect(model.apis.map((a) => a.stackName)).toEqual(['ApiStack']);
    expect(model.apis[0].stages).toEqual([expect.objectContaining({ stageName: 'prod', stageVariables: { colour: 'blue' } })]);
  });

  test('GIVEN the same app with weak references (Fn::GetStackOutput) WHEN it is loaded THEN the functions name the same DataStack table', () => {
    // GIVEN
    expect(templateOf(weakDir, 'ApiStack')).toContain('"Fn::GetStackOutput"');
    expect(templateOf(weakDir, 'ApiStack')).not.toContain('Fn::ImportValue');

    // WHEN
    const weak = loadAssembly(weakDir, { stack: 'ApiStack' });
    const strong = loadAssembly(strongDir, { stack: 'ApiStack' });

    // THEN
    const tableOf = (m: typeof weak) => Object.values(m.functions).find((f) => f.environment.CONNECTIONS_TABLE)!.environment.CONNECTIONS_TABLE;
    expect(tableOf(weak)).toBe(tableOf(strong));
    expect(weak.tables.map((t) => t.tableName)).toContain(tableOf(weak));
  });

  test('GIVEN a table in us-east-1 used by a function in eu-west-1 (crossRegionReferences) WHEN loaded THEN the SSM-backed reference resolves to the table', () => {
    // GIVEN
    const dir = path.join(workDir, 'cross-region');
    const app = new App({ outdir: dir });
    const env = (region: string) => ({ account: '111111111111', region });
    const producer = new Stack(app, 'Producer', { env: env('us-east-1'), crossRegionReferences: true });
    const table = new dynamodb.TableV2(producer, 'Table', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    const consumer = new Stack(app, 'Consumer', { env: env('eu-west-1'), crossRegionReferences: true });
    new lambda.Function(consumer, 'Reader', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => process.env.TABLE;'),
      environment: { TABLE: table.tableName },
    });
    app.synth();
    expect(templateOf(dir, 'Consumer')).toContain('Custom::CrossRegionExportReader');

    // WHEN
    const model = loadAssembly(dir);

    // THEN
    const reader = Object.values(model.functions).find((f) => f.stackName === 'Consumer')!;
    expect(reader.unsupported).toBeUndefined();
    expect(reader.region).toBe('eu-west-1');
    expect(reader.environment.TABLE).toBe(model.tables.find((t) => t.stackName === 'Producer')!.tableName);
  });

  test('GIVEN the emulator running every stack WHEN a client joins a room on ApiStack THEN the membership lands in the DataStack table', async () => {
    // GIVEN
    const endpoint = emulator.endpoints.find((e) => e.stackName === 'ApiStack')!;
    const dataTable = emulator.model.tables.find((t) => t.stackName === 'DataStack')!.tableName;

    // WHEN
    await joinThrough(endpoint.websocketUrl, 'alice', 'cross');

    // THEN
    const items = await scanTable(emulator, dataTable);
    expect(items).toEqual(expect.arrayContaining([expect.objectContaining({ room: 'cross', userId: 'alice' })]));
  });
});

describe('a gateway in a nested stack', () => {
  test('GIVEN Parent with nested stack Realtime WHEN the emulator starts THEN it serves the nested API beside ApiStack\'s, both on stage prod', () => {
    const stacks = emulator.endpoints.map((e) => e.stackName);
    expect(stacks).toHaveLength(2);
    expect(stacks).toContain('ApiStack');
    const nested = stacks.find((s) => s !== 'ApiStack')!;
    // CloudFormation names a nested stack after its parent and its resource.
    expect(nested).toMatch(/^Parent-RealtimeNestedStackRealtimeNestedStackResource[0-9A-F]{8}-[A-Z0-9]+$/);
    expect(new Set(emulator.endpoints.map((e) => e.stage))).toEqual(new Set(['prod']));
  });

  test('GIVEN the table in Parent passed in as a parameter WHEN a client joins on the nested API THEN the membership lands in Parent\'s table', async () => {
    // GIVEN
    const endpoint = emulator.endpoints.find((e) => e.stackName.startsWith('Parent-'))!;
    const parentTable = emulator.model.tables.find((t) => t.stackName === 'Parent')!.tableName;
    const nestedFns = Object.values(emulator.model.functions).filter((f) => f.stackName === endpoint.stackName && f.environment.CONNECTIONS_TABLE);
    expect(nestedFns.map((f) => f.environment.CONNECTIONS_TABLE)).toEqual(nestedFns.map(() => parentTable));

    // WHEN
    await joinThrough(endpoint.websocketUrl, 'bob', 'nested');

    // THEN
    expect(await scanTable(emulator, parentTable)).toEqual(expect.arrayContaining([expect.objectContaining({ room: 'nested', userId: 'bob' })]));
  });

  test('GIVEN a Parent function whose environment reads a nested output (Fn::GetAtt Outputs.X) WHEN it is invoked THEN it sees the nested API\'s URL', async () => {
    // GIVEN
    const nestedApi = emulator.model.apis.find((a) => a.stackName.startsWith('Parent-'))!;
    const reporter = Object.values(emulator.model.functions).find((f) => f.stackName === 'Parent' && f.logicalId.startsWith('Reporter'))!;

    // WHEN
    const { status, body } = await invokeFunction(emulator, reporter.functionName, {});

    // THEN
    expect(status).toBe(200);
    expect(body).toEqual({ url: `wss://${nestedApi.apiId}.execute-api.us-east-1.amazonaws.com/prod` });
  });
});

describe('what cannot run fails at start, naming the resource', () => {
  const synth = (build: (app: App) => void): string => {
    const dir = fs.mkdtempSync(path.join(workDir, 'bad-'));
    const app = new App({ outdir: dir });
    build(app);
    app.synth();
    return dir;
  };

  test('GIVEN a CfnStack whose template is not in the assembly WHEN its stack is loaded THEN the error names it and says what to do', () => {
    // GIVEN
    const dir = synth((app) => {
      const stack = new Stack(app, 'Outer');
      new CfnStack(stack, 'External', { templateUrl: 'https://example.com/templates/other.json' });
    });

    // WHEN / THEN
    expect(() => loadAssembly(dir)).toThrow(AssemblyError);
    expect(() => loadAssembly(dir)).toThrow(/Outer\/External: nested stack template .*other\.json.* is not in the cloud assembly.*define its resources in the app, or run another stack with --stack/);
  });

  test('GIVEN an assembly with stacks but no WebSocket API WHEN the emulator starts THEN it lists the stacks it read instead of suggesting a re-synth', async () => {
    // GIVEN
    const dir = synth((app) => {
      new dynamodb.TableV2(new Stack(app, 'OnlyData'), 'Table', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    });

    // WHEN / THEN
    await expect(startEmulator({ assemblyDir: dir, port: 0 })).rejects.toThrow(/No WebSocket API in .*: it has stacks OnlyData but none holds an AWS::ApiGatewayV2::Api with ProtocolType WEBSOCKET/);
    await expect(startEmulator({ assemblyDir: dir, port: 0 })).rejects.not.toThrow(/cdk synth/);
  });
});
