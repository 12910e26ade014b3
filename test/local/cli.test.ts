/**
 * The `wsgate` CLI (local/cli.ts): the parser of both commands, and `wsgate invoke` against the real gateway with
 * the real function endpoints (in-test handlers behind our own FunctionInvoker seam). `wsgate local` as a process
 * is exercised in test/local/e2e.test.ts, `wsgate invoke` as a process in test/local/ticker.test.ts.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { parseCli, runInvoke, startFailureMessage, USAGE, versionLine, watchAssembly } from '../../local/cli';
import type { ReloadResult } from '../../local/emulator';
import { startEmulator } from '../../local/emulator';
import { startGateway, type Gateway } from '../../local/gateway';
import { functionEndpoints } from '../../local/gateway/function-endpoints';
import type { FunctionModel } from '../../local/model';
import { InTestInvoker, QueuedClient } from './gateway-test-kit';
import { assemblyIsStale, isWatched, watchPlan } from '../../local/watch/watch';

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

  test("GIVEN --connections-latency / --connections-rate / --connections-burst WHEN parsed THEN the emulator's @connections bottleneck options; bad values are usage errors", () => {
    expect(parseCli(['local', '--connections-latency', '20', '--connections-rate=10000']).options).toMatchObject({ connectionsLatencyMs: 20, connectionsRatePerSecond: 10000 });
    expect(parseCli(['local', '--connections-rate', '50', '--connections-burst', '5']).options).toMatchObject({ connectionsRatePerSecond: 50, connectionsBurst: 5 });
    expect(() => parseCli(['local', '--connections-latency', '-5'])).toThrow(/--connections-latency needs a number of milliseconds >= 0, got "-5"/);
    expect(() => parseCli(['local', '--connections-rate', 'fast'])).toThrow(/--connections-rate needs a number of requests per second > 0/);
    expect(() => parseCli(['local', '--connections-burst', '5'])).toThrow(/--connections-burst needs --connections-rate/);
    expect(USAGE).toMatch(/--connections-latency MS/);
  });

  test('GIVEN --scale-up-delay and --max-instances WHEN parsed THEN the invoker\'s instance options; bad values are usage errors', () => {
    expect(parseCli(['local', '--scale-up-delay', '0', '--max-instances', '3']).options).toMatchObject({ scaleUpDelayMs: 0, maxInstancesPerFunction: 3 });
    expect(parseCli(['local', '--scale-up-delay=120']).options).toMatchObject({ scaleUpDelayMs: 120 });
    expect(() => parseCli(['local', '--scale-up-delay', '-1'])).toThrow(/--scale-up-delay needs a number of milliseconds ≥ 0, got "-1"/);
    expect(() => parseCli(['local', '--scale-up-delay', 'soon'])).toThrow(/--scale-up-delay needs a number of milliseconds ≥ 0, got "soon"/);
    expect(() => parseCli(['local', '--max-instances', '0'])).toThrow(/--max-instances needs a whole number ≥ 1, got "0"/);
    expect(USAGE).toMatch(/--scale-up-delay MS .*\n.*default: 50/);
  });

  test('GIVEN --dynamo-checks WHEN parsed THEN where functions\' DynamoDB calls are IAM-checked; another value is a usage error', () => {
    expect(parseCli(['local']).options.dynamoChecks).toBeUndefined();
    expect(parseCli(['local', '--dynamo-checks', 'proxy']).options).toMatchObject({ dynamoChecks: 'proxy' });
    expect(parseCli(['local', '--surplus-idle', '30']).options).toMatchObject({ surplusInstanceIdleMs: 30_000 });
    expect(() => parseCli(['local', '--surplus-idle', '0'])).toThrow(/--surplus-idle/);
    expect(parseCli(['local', '--dynamo-checks=function']).options).toMatchObject({ dynamoChecks: 'function' });
    expect(() => parseCli(['local', '--dynamo-checks', 'lambda'])).toThrow(/--dynamo-checks needs function or proxy, got "lambda"/);
    expect(USAGE).toMatch(/--dynamo-checks WHERE +function \(default\)/);
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

/**
 * A hand-written cloud assembly (no CDK synth): one WebSocket API with stage prod and one inline function that
 * answers with its process id, so a test can see the function process come and go.
 */
function writeMiniAssembly(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({
    version: '36.0.0',
    artifacts: { Mini: { type: 'aws:cloudformation:stack', environment: 'aws://unknown-account/unknown-region', properties: { templateFile: 'Mini.template.json' } } },
  }));
  fs.writeFileSync(path.join(dir, 'Mini.template.json'), JSON.stringify({
    Resources: {
      Api: { Type: 'AWS::ApiGatewayV2::Api', Properties: { Name: 'mini', ProtocolType: 'WEBSOCKET', RouteSelectionExpression: '$request.body.action' } },
      Stage: { Type: 'AWS::ApiGatewayV2::Stage', Properties: { ApiId: { Ref: 'Api' }, StageName: 'prod', AutoDeploy: true } },
      Pid: {
        Type: 'AWS::Lambda::Function',
        Properties: { Runtime: 'nodejs22.x', Handler: 'index.handler', Code: { ZipFile: 'exports.handler = async () => ({ pid: process.pid });' } },
      },
    },
  }));
}

describe('wsgate local polish', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-cli-local-'));
    writeMiniAssembly(path.join(dir, 'cdk.out'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('GIVEN --version WHEN parsed THEN the version command, and the line names @wsgate/local and its package.json version', () => {
    expect(parseCli(['local', '--version'])).toEqual(expect.objectContaining({ version: true, help: false }));
    expect(parseCli(['-v']).version).toBe(true);
    const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '../../local/package.json'), 'utf8'));
    expect(versionLine()).toBe(`@wsgate/local ${manifest.version}`);
    expect(USAGE).toMatch(/--version/);
  });

  test('GIVEN the port taken by another server WHEN the emulator starts on it THEN the message names the port, --port and PORT', async () => {
    // GIVEN
    const taken = net.createServer();
    const port = await new Promise<number>((resolve) => taken.listen(0, '127.0.0.1', () => resolve((taken.address() as net.AddressInfo).port)));
    try {
      // WHEN
      const failure = await startEmulator({ assemblyDir: path.join(dir, 'cdk.out'), port }).then(() => undefined, (err: Error) => err);

      // THEN
      expect(failure).toEqual(expect.objectContaining({ code: 'EADDRINUSE' }));
      expect(startFailureMessage(failure!, port)).toMatch(new RegExp(`^port ${port} on 127\\.0\\.0\\.1 is in use .*--port N or the PORT environment variable`));
    } finally {
      taken.close();
    }
  });

  test('GIVEN `wsgate local` running with a function process WHEN a client asks for an unknown stage and the CLI gets SIGTERM THEN the refusal is logged and the function process stops with it', async () => {
    // GIVEN
    const root = path.resolve(__dirname, '../..');
    const cli = spawn(process.execPath, [path.join(root, 'node_modules/ts-node/dist/bin.js'), '--transpile-only', '--prefer-ts-exts', path.join(root, 'local/cli.ts'), 'local', path.join(dir, 'cdk.out'), '--port', '0'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    cli.stdout.on('data', (d) => (stdout += d));
    cli.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => cli.on('exit', (code) => resolve(code)));
    try {
      const port = Number((await waitFor(() => /ws:\/\/127\.0\.0\.1:(\d+)\/prod/.exec(stdout), 'the stage line'))[1]);
      await waitFor(() => stdout.includes('Press Ctrl-C to stop.'), 'the ready line');
      const invoked = await fetch(`http://127.0.0.1:${port}/_wsgate/functions/Pid/invoke`, { method: 'POST', body: '{}' });
      const { pid } = (await invoked.json()) as { pid: number };
      expect(() => process.kill(pid, 0)).not.toThrow();

      // WHEN
      const refused = await refusalOf(`ws://127.0.0.1:${port}/staging`);
      cli.kill('SIGTERM');

      // THEN
      expect(refused).toMatch(/403/);
      expect(await exited).toBe(0);
      expect(stderr).toContain('handshake for /staging refused with 403: no stage of the app is at that path (its stages: /prod)');
      await waitFor(() => {
        try {
          process.kill(pid, 0);
          return false;
        } catch (err) {
          return (err as NodeJS.ErrnoException).code === 'ESRCH';
        }
      }, `function process ${pid} to stop`);
    } finally {
      if (cli.exitCode === null) cli.kill('SIGKILL');
    }
  });
});

describe('wsgate local under a wrapper that does not pass signals on', () => {
  test('GIVEN `wsgate local` started through `sh -c` (as npx starts a bin) WHEN the wrapper is killed with SIGTERM THEN the CLI and its function process stop too', async () => {
    // GIVEN
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-cli-orphan-'));
    writeMiniAssembly(path.join(dir, 'cdk.out'));
    const root = path.resolve(__dirname, '../..');
    const command = [process.execPath, path.join(root, 'node_modules/ts-node/dist/bin.js'), '--transpile-only', '--prefer-ts-exts', path.join(root, 'local/cli.ts'), 'local', path.join(dir, 'cdk.out'), '--port', '0']
      .map((a) => `'${a}'`).join(' ');
    // `; true` keeps sh as the parent instead of exec-ing node, as npm's `sh -c` does.
    const wrapper = spawn('sh', ['-c', `${command}; true`], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    wrapper.stdout.on('data', (d) => (stdout += d));
    wrapper.stderr.on('data', (d) => (stderr += d));
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    let cliPid = 0;
    try {
      const port = Number((await waitFor(() => /ws:\/\/127\.0\.0\.1:(\d+)\/prod/.exec(stdout), 'the stage line'))[1]);
      await waitFor(() => stdout.includes('Press Ctrl-C to stop.'), 'the ready line');
      const { pid } = (await (await fetch(`http://127.0.0.1:${port}/_wsgate/functions/Pid/invoke`, { method: 'POST', body: '{}' })).json()) as { pid: number };
      cliPid = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      expect(alive(cliPid)).toBe(true);

      // WHEN
      wrapper.kill('SIGTERM');

      // THEN
      await waitFor(() => !alive(cliPid) && !alive(pid), `the CLI (${cliPid}) and its function process (${pid}) to stop`);
      expect(stderr).toContain('the process that started wsgate local is gone; stopping');
    } finally {
      if (cliPid && alive(cliPid)) process.kill(cliPid, 'SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('wsgate local --watch', () => {
  test('GIVEN --watch WHEN parsed THEN the watch flag; the usage documents it', () => {
    expect(parseCli(['local', 'cdk.out', '--watch']).watch).toBe(true);
    expect(parseCli(['local']).watch).toBeUndefined();
    expect(USAGE).toMatch(/--watch .*swap the changed functions' code/);
  });

  test('GIVEN a watched assembly folder WHEN a synth rewrites its files THEN it reloads and prints the outcome', async () => {
    // GIVEN
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-watch-'));
    const outcomes: ReloadResult[] = [
      { swapped: ['App/Fn'], needsRestart: [] },
      { swapped: [], needsRestart: ['new route extra of App/Api'] },
      { swapped: [], needsRestart: [], error: 'The cloud assembly manifest is not valid JSON' },
    ];
    const expected = [
      /^\[watch\] swapped 1 function\(s\) in \d+ ms: App\/Fn$/,
      /not hot-swappable \(new route extra of App\/Api\): restart wsgate local/,
      /cannot be loaded, still serving the last good version: The cloud assembly manifest is not valid JSON/,
    ];
    let round = 0;
    const printed: string[] = [];
    const stop = watchAssembly({ reload: async () => outcomes[round] }, dir, (line) => printed.push(line), 100);
    try {
      for (; round < outcomes.length; round++) {
        // WHEN a synth writes several files
        fs.writeFileSync(path.join(dir, 'App.template.json'), `{"round":${round}}`);
        fs.writeFileSync(path.join(dir, 'manifest.json'), `{"round":${round}}`);

        // THEN (a burst may be seen as one change or several; each reload prints its outcome)
        await waitFor(() => printed.some((line) => expected[round].test(line)), `the outcome of synth ${round + 1}`);
      }
    } finally {
      stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(printed.every((line) => line.startsWith('[watch] '))).toBe(true);
  });
});

describe('wsgate local --watch that synthesizes the app itself', () => {
  const FIXTURE = path.join(__dirname, 'fixtures', 'watch');
  /** Like waitFor, with room for synths on a loaded machine (a bound, not a timing assertion). */
  const waitForSynth = <T>(probe: () => T | undefined | null | false, what: string): Promise<T> => waitFor(probe, what, 150_000);

  test('GIVEN a folder with cdk.json, --app, or neither WHEN the watch plan is made THEN synth mode with the app command and its globs, else assembly mode', () => {
    // GIVEN
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-watch-plan-'));
    try {
      // WHEN / THEN: no cdk.json → the old behaviour (re-read the assembly someone else synthesizes)
      expect(watchPlan(dir)).toEqual(expect.objectContaining({ mode: 'assembly', include: ['**'], exclude: [] }));
      expect(watchPlan(dir, 'npx ts-node bin/app.ts')).toEqual(expect.objectContaining({ mode: 'synth', command: 'npx ts-node bin/app.ts' }));
      // cdk.json's app, its watch globs (as `cdk watch` reads them) and its context, then cdk.context.json's
      fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ app: 'node app.js', watch: { include: ['src/**', 'app.js'], exclude: ['**/*.d.ts'] }, context: { a: 1, b: 1 } }));
      fs.writeFileSync(path.join(dir, 'cdk.context.json'), JSON.stringify({ b: 2 }));
      const plan = watchPlan(dir);
      expect(plan).toEqual({ mode: 'synth', projectDir: dir, command: 'node app.js', include: ['src/**', 'app.js'], exclude: ['**/*.d.ts'], context: { a: 1, b: 2 } });
      expect(isWatched(plan, 'src/handlers/chat.ts')).toBe(true);
      expect(isWatched(plan, 'app.js')).toBe(true);
      expect(isWatched(plan, 'src/types.d.ts')).toBe(false);
      expect(isWatched(plan, 'README.md')).toBe(false);
      // never: node_modules, dot folders, the assembly
      const all = { include: ['**'], exclude: [] };
      expect(isWatched(all, 'lib/stack.ts')).toBe(true);
      expect(isWatched(all, 'node_modules/x/index.js')).toBe(false);
      expect(isWatched(all, '.git/index')).toBe(false);
      expect(isWatched(all, 'out/manifest.json', 'out')).toBe(false);
      expect(isWatched(all, 'cdk.out/manifest.json')).toBe(false);
      expect(isWatched(all, 'cdk.context.json')).toBe(false);
      // at start: an assembly older than a watched file (or none) is synthesized first
      expect(assemblyIsStale(plan, 'cdk.out')).toBe(true);
      fs.mkdirSync(path.join(dir, 'src'));
      fs.writeFileSync(path.join(dir, 'src', 'a.ts'), '');
      fs.mkdirSync(path.join(dir, 'cdk.out'));
      fs.writeFileSync(path.join(dir, 'cdk.out', 'manifest.json'), '{}');
      const later = new Date(Date.now() + 60_000);
      fs.utimesSync(path.join(dir, 'cdk.out', 'manifest.json'), later, later);
      expect(assemblyIsStale(plan, 'cdk.out')).toBe(false);
      fs.utimesSync(path.join(dir, 'src', 'a.ts'), new Date(later.getTime() + 1000), new Date(later.getTime() + 1000));
      expect(assemblyIsStale(plan, 'cdk.out')).toBe(true);
      // a broken cdk.json is named
      fs.writeFileSync(path.join(dir, 'cdk.json'), '{ "app": ');
      expect(() => watchPlan(dir)).toThrow(/cdk\.json is not valid JSON/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(parseCli(['local', '--watch', '--app', 'node app.js']).app).toBe('node app.js');
    expect(() => parseCli(['local', '--app', 'node app.js'])).toThrow(/--app needs --watch/);
    expect(USAGE).toMatch(/--app CMD +with --watch: the command that synthesizes the app/);
  });

  test('GIVEN `wsgate local --watch` started in an app folder with cdk.json and no cdk.out WHEN a handler source file is edited THEN it synthesized first, re-synthesizes, and the next message on the same open connection is answered by the new code; a synth error keeps the old one', async () => {
    // GIVEN: a copy of the fixture app (its node_modules: this package's), never synthesized; the CLI started in it
    const root = path.resolve(__dirname, '../..');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-watch-synth-'));
    fs.cpSync(FIXTURE, dir, { recursive: true });
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    const cli = spawn(process.execPath, [path.join(root, 'node_modules/ts-node/dist/bin.js'), '--transpile-only', '--prefer-ts-exts', path.join(root, 'local/cli.ts'), 'local', '--watch', '--port', '0'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    cli.stdout.on('data', (d) => (stdout += d));
    cli.stderr.on('data', () => undefined);
    const exited = new Promise<number | null>((resolve) => cli.on('exit', (code) => resolve(code)));
    let client: QueuedClient | undefined;
    try {
      const url = (await waitForSynth(() => /ws:\/\/127\.0\.0\.1:\d+\/dev/.exec(stdout), 'the stage line'))[0];
      await waitForSynth(() => stdout.includes('Press Ctrl-C to stop.'), 'the ready line');
      expect(stdout).toContain('[watch] cdk.out is missing or older than the app\'s files: synthesizing (node app.js)');
      expect(stdout).toMatch(/watching \S*wsgate-watch-synth-\w+: a change to the app's files runs `node app\.js` and swaps changed functions/);
      client = await QueuedClient.open(url);
      client.send({ action: 'echo', n: 1 });
      expect(JSON.parse(await client.next())).toEqual({ version: 'v1', got: '{"action":"echo","n":1}' });

      // WHEN: the handler's source (not the asset in cdk.out) changes
      const handler = path.join(dir, 'src', 'handler.js');
      fs.writeFileSync(handler, fs.readFileSync(handler, 'utf8').replace("version: 'v1'", "version: 'v2'"));
      // THEN: what changed, the synth, the swap; the same connection gets the new code
      // (the timing line is printed after the swap line, and may arrive in a later chunk: wait for both)
      await waitForSynth(() => /\[watch\] swapped 1 function\(s\) in \d+ ms: WatchApp\/Echo[A-Z0-9]+\n/.test(stdout) && /\[watch\] synth \d+ ms, reload \d+ ms/.test(stdout), 'the swap after the handler edit');
      expect(stdout).toContain('[watch] changed: src/handler.js; synthesizing (node app.js)');
      client.send({ action: 'echo', n: 2 });
      expect(JSON.parse(await client.next())).toEqual({ version: 'v2', got: '{"action":"echo","n":2}' });

      // WHEN: the app itself breaks (and the handler changes too)
      const appFile = path.join(dir, 'app.js');
      fs.writeFileSync(appFile, `${fs.readFileSync(appFile, 'utf8')}\nthrow new Error('the app is broken on purpose');\n`);
      fs.writeFileSync(handler, fs.readFileSync(handler, 'utf8').replace("version: 'v2'", "version: 'v3'"));
      // THEN: the synth error is printed and the last good version keeps answering on the same connection
      await waitForSynth(() => /the app is broken on purpose/.test(stdout), 'the failed synth');
      expect(stdout).toMatch(/\[watch\] synth failed \(exit 1\) after \d+ ms; still serving the last good version:\n[^]*the app is broken on purpose/);
      client.send({ action: 'echo', n: 3 });
      expect(JSON.parse(await client.next())).toEqual({ version: 'v2', got: '{"action":"echo","n":3}' });
      cli.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      client?.socket.close();
      if (cli.exitCode === null) cli.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 480_000);
});

/** Opens a WebSocket expected to be refused; resolves with the refusal's message. */
async function refusalOf(url: string): Promise<string> {
  const { WebSocket } = await import('ws');
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    socket.once('open', () => {
      socket.close();
      resolve('opened');
    });
    socket.once('error', (err) => resolve(err.message));
  });
}

/** Polls until `probe` returns a value; bounded (45 s) and generous, as a ts-node CLI starts slowly on a loaded machine. */
async function waitFor<T>(probe: () => T | undefined | null | false, what: string, withinMs = 45_000): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
