/**
 * The `wsgate` CLI (local/cli.ts): the parser of both commands, and `wsgate invoke` against the real gateway with
 * the real function endpoints (in-test handlers behind our own FunctionInvoker seam). `wsgate local` as a process
 * is exercised in test/local/e2e.test.ts, `wsgate invoke` as a process in test/local/ticker.test.ts.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseCli, runInvoke, USAGE } from '../../local/cli';
import { startGateway, type Gateway } from '../../local/gateway';
import { functionEndpoints } from '../../local/gateway/function-endpoints';
import type { FunctionModel } from '../../local/model';
import { InTestInvoker } from './gateway-test-kit';

describe('parseCli', () => {
  test('GIVEN `invoke NAME` with an event WHEN parsed THEN an invoke request on the given or default port', () => {
    expect(parseCli(['invoke', 'Publisher', '--event', '{"n":1}', '--port', '4000'])).toEqual({
      help: false,
      command: 'invoke',
      options: { assemblyDir: 'cdk.out', port: 4000 },
      invoke: { functionName: 'Publisher', eventJson: '{"n":1}', port: 4000 },
    });
    expect(parseCli(['invoke', 'Ticker/Publisher', '--event-file=event.json'], { PORT: '5000' }).invoke).toEqual({
      functionName: 'Ticker/Publisher',
      eventFile: 'event.json',
      port: 5000,
    });
    expect(parseCli(['invoke', 'Publisher']).invoke).toEqual({ functionName: 'Publisher', port: 3001 });
    expect(parseCli(['local']).command).toBe('local');
  });

  test('GIVEN bad invoke arguments WHEN parsed THEN a usage error naming the problem', () => {
    expect(() => parseCli(['invoke'])).toThrow(/Missing the function to invoke/);
    expect(() => parseCli(['invoke', 'A', 'B'])).toThrow(/Unexpected argument "B"/);
    expect(() => parseCli(['invoke', 'A', '--event', '{oops'])).toThrow(/--event is not valid JSON/);
    expect(() => parseCli(['invoke', 'A', '--event', '{}', '--event-file', 'f.json'])).toThrow(/--event or --event-file, not both/);
    expect(() => parseCli(['invoke', 'A', '--port', '70000'])).toThrow(/port must be a whole number/);
    expect(() => parseCli(['invoke', 'A', '--stack', 'S'])).toThrow(/Unknown option --stack/);
    expect(() => parseCli([])).toThrow(/Missing command: local or invoke/);
  });

  test('GIVEN --help WHEN parsed THEN help, and the usage documents both commands', () => {
    expect(parseCli(['invoke', '--help']).help).toBe(true);
    expect(USAGE).toMatch(/wsgate invoke NAME \[--event JSON \| --event-file FILE\] \[--port N\]/);
    expect(USAGE).toMatch(/POST \/_wsgate\/functions\/NAME\/invoke/);
  });
});

describe('runInvoke (wsgate invoke)', () => {
  const model = (logicalId: string, constructPath: string): FunctionModel => ({
    id: `App/${logicalId}`,
    stackName: 'App',
    logicalId,
    functionName: `App-${logicalId}`,
    constructPath,
    handler: 'index.handler',
    runtime: 'nodejs22.x',
    codeDir: '/nowhere',
    environment: {},
    timeoutSeconds: 3,
    memorySize: 128,
  });
  const functions = { 'App/Pub1': model('Pub1', 'App/Publisher'), 'App/Fail1': model('Fail1', 'App/Failing') };
  const invoker = new InTestInvoker({
    'App/Pub1': (event) => ({ echoed: event }),
    'App/Fail1': () => {
      throw new TypeError('no room given');
    },
  });
  let gateway: Gateway;
  let dir: string;

  beforeAll(async () => {
    gateway = await startGateway({ apis: [], invoker, port: 0, extraHttp: functionEndpoints({ functions, invoker }) });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-cli-'));
  });
  afterAll(async () => {
    await gateway?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function io() {
    const out = { stdout: '', stderr: '' };
    return { out, sink: { stdout: (t: string) => (out.stdout += t), stderr: (t: string) => (out.stderr += t) } };
  }

  test('GIVEN a running emulator WHEN a function is invoked with --event or --event-file THEN its result is printed and the exit code is 0', async () => {
    const a = io();
    expect(await runInvoke({ functionName: 'Publisher', eventJson: '{"tick":1}', port: gateway.port }, a.sink)).toBe(0);
    expect(JSON.parse(a.out.stdout)).toEqual({ echoed: { tick: 1 } });
    const file = path.join(dir, 'event.json');
    fs.writeFileSync(file, '{"from":"file"}');
    const b = io();
    expect(await runInvoke({ functionName: 'App/Pub1', eventFile: file, port: gateway.port }, b.sink)).toBe(0);
    expect(JSON.parse(b.out.stdout)).toEqual({ echoed: { from: 'file' } });
    const c = io();
    expect(await runInvoke({ functionName: 'Publisher', port: gateway.port }, c.sink)).toBe(0);
    expect(JSON.parse(c.out.stdout)).toEqual({ echoed: {} });
    // --event-file - reads standard input.
    const read: string[] = [];
    const d = io();
    const fromStdin = { ...d.sink, readFile: (f: string) => (read.push(f), '{"from":"stdin"}') };
    expect(await runInvoke({ functionName: 'Publisher', eventFile: '-', port: gateway.port }, fromStdin)).toBe(0);
    expect(read).toEqual(['/dev/stdin']);
    expect(JSON.parse(d.out.stdout)).toEqual({ echoed: { from: 'stdin' } });
  });

  test('GIVEN a failing function, an unknown name, a bad event file WHEN invoked THEN exit code 1 and a message saying why', async () => {
    const failing = io();
    expect(await runInvoke({ functionName: 'Failing', port: gateway.port }, failing.sink)).toBe(1);
    expect(JSON.parse(failing.out.stdout)).toEqual({ errorType: 'TypeError', errorMessage: 'no room given' });
    expect(failing.out.stderr).toMatch(/Failing failed: TypeError: no room given/);
    const unknown = io();
    expect(await runInvoke({ functionName: 'Nope', port: gateway.port }, unknown.sink)).toBe(1);
    expect(unknown.out.stderr).toMatch(/404: No function "Nope".*App\/Publisher/);
    const badFile = path.join(dir, 'bad.json');
    fs.writeFileSync(badFile, 'not json');
    const bad = io();
    expect(await runInvoke({ functionName: 'Publisher', eventFile: badFile, port: gateway.port }, bad.sink)).toBe(1);
    expect(bad.out.stderr).toMatch(/bad\.json is not valid JSON/);
    const missing = io();
    expect(await runInvoke({ functionName: 'Publisher', eventFile: path.join(dir, 'absent.json'), port: gateway.port }, missing.sink)).toBe(1);
    expect(missing.out.stderr).toMatch(/cannot read the event file .*ENOENT/);
  });

  test('GIVEN no emulator on the port WHEN invoked THEN exit code 1 saying to start `wsgate local`', async () => {
    // A port that was free a moment ago: listen, note it, close.
    const free = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const none = io();
    expect(await runInvoke({ functionName: 'Publisher', port: free }, none.sink)).toBe(1);
    expect(none.out.stderr).toMatch(new RegExp(`no emulator answers on 127\\.0\\.0\\.1:${free}.*wsgate local`));
  });
});
