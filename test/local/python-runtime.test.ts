/**
 * Python functions under the emulator (issue 12, item 4): a synthesized app whose custom routes are Python 3.12
 * functions (fixtures/python), run by the real emulator (worker.py processes, dynalite, local IAM) and driven by
 * real `ws` clients. The Python handler uses unmodified boto3: DynamoDB through AWS_ENDPOINT_URL_DYNAMODB, and
 * @connections at `https://{domainName}/{stage}` through sitecustomize.py's redirect and the emulator's certificate.
 *
 * The interpreter is WSGATE_PYTHON, else .wsgate/venv/bin/python (CI installs boto3 there), else python3; it must
 * have boto3 (the test fails, saying how to install it, when it does not).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { signDevToken } from '../../local/dev-token';
import { startEmulator, type RunningEmulator } from '../../local/emulator';
import type { FunctionModel } from '../../local/model';
import { createInvoker } from '../../local/runtime/invoker';
import { findPython, missingPythonMessage, pythonWarnings } from '../../local/runtime/python/python-worker';
import { PY_AUDIENCE, PY_ISSUER, synthPythonApp } from './fixtures/python/python-app';
import { QueuedClient } from './gateway-test-kit';
import { ROOT, invokeFunction, tableEventually } from './support/emulator-kit';

let workDir: string;
let emulator: RunningEmulator;
const functionOutput: string[] = [];
const clients: QueuedClient[] = [];
const VENV_PYTHON = path.join(ROOT, '.wsgate/venv/bin/python');

/** The interpreter this test (and the emulator it starts) uses; fails when it cannot import boto3. */
function choosePython(): string {
  const python = process.env.WSGATE_PYTHON || (fs.existsSync(VENV_PYTHON) ? VENV_PYTHON : 'python3');
  const probe = spawnSync(python, ['-c', 'import boto3, botocore; print(botocore.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(`${python} cannot import boto3 (${(probe.stderr || String(probe.error)).trim().split('\n').pop()}): ` +
      'install it (`python3 -m venv .wsgate/venv && .wsgate/venv/bin/pip install boto3`, as .ci/run does) or set WSGATE_PYTHON');
  }
  return python;
}

beforeAll(async () => {
  process.env.WSGATE_PYTHON = choosePython();
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-python-'));
  const assemblyDir = path.join(workDir, 'cdk.out');
  synthPythonApp(assemblyDir);
  emulator = await startEmulator({ assemblyDir, port: 0, functionLog: (id, stream, line) => functionOutput.push(`${id} ${stream} ${line}`) });
});

afterAll(async () => {
  // Closed first, and their $disconnect let finish, so no handler writes to a closed table.
  await Promise.all(clients.map((c) => {
    c.socket.close();
    return c.closed;
  }));
  if (emulator) await tableEventually(emulator, (items) => !items.some((i) => i.sk === 'meta') || undefined, 'every $disconnect');
  await emulator?.close();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

async function connect(user: string): Promise<QueuedClient> {
  const token = await signDevToken({ user, issuer: PY_ISSUER, audience: PY_AUDIENCE });
  const client = await QueuedClient.open(`${emulator.endpoints[0].websocketUrl}?token=${encodeURIComponent(token)}`);
  clients.push(client);
  return client;
}

/** The id of the function on `route` (its model id). */
function functionOn(route: string): string {
  return emulator.model.apis[0].routes.find((r) => r.routeKey === route)!.functionId!;
}

/** Waits (bounded) until the function log has a line matching `pattern` for `route`'s function; returns its lines. */
async function logEventually(route: string, pattern: RegExp): Promise<string[]> {
  const id = functionOn(route);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const lines = functionOutput.filter((l) => l.startsWith(`${id} `));
    if (lines.some((l) => pattern.test(l))) return lines;
    if (Date.now() > deadline) throw new Error(`no log line matching ${pattern} from ${id}; it logged:\n${lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Python functions under the emulator', () => {
  test('GIVEN the synthesized app WHEN loaded THEN its python3.12 functions are supported, with handler index.handler', () => {
    // GIVEN / WHEN: the model the emulator loaded
    const fns = ['echo', 'fails', 'broken', 'slow'].map((route) => emulator.model.functions[functionOn(route)]);
    // THEN
    for (const fn of fns) {
      expect(fn).toEqual(expect.objectContaining({ runtime: 'python3.12', handler: 'index.handler' }));
      expect(fn.unsupported).toBeUndefined();
      expect(fs.existsSync(path.join(fn.codeDir, 'index.py'))).toBe(true);
    }
  });

  test('GIVEN a connected client WHEN it sends on the echo route THEN the Python handler writes the table with boto3 and posts back through @connections', async () => {
    // GIVEN
    const client = await connect('ada');
    // WHEN
    client.send({ action: 'echo', text: 'hello from ws' });
    // THEN: the reply the handler posted (boto3 apigatewaymanagementapi, SigV4 with its role's local credentials)
    const reply = await client.nextJson();
    expect(reply).toEqual({
      from: 'python',
      echo: 'hello from ws',
      functionName: emulator.model.functions[functionOn('echo')].functionName,
      memoryLimitInMB: '128',
      remainingPositive: true,
      arnIsLambda: true,
      routeKey: 'echo',
      trustedCertificates: expect.any(Number),
    });
    // THEN: HTTPS to other hosts still verifies: the bundle is certifi's roots plus the emulator's certificate
    expect(reply.trustedCertificates).toBeGreaterThan(1);
    // THEN: the item boto3's put_item wrote, in the emulator's table
    const note = await tableEventually(emulator, (items) => items.find((i) => String(i.pk).startsWith('pynote#')), 'the note item');
    expect(note).toEqual(expect.objectContaining({ sk: 'note', text: 'hello from ws', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) }));
    // THEN: prints reach the function log (module load once, then the handler's line)
    const lines = await logEventually('echo', /echo: stored a note for/);
    expect(lines.filter((l) => l.includes('echo: module loaded'))).toHaveLength(1);
  });

  test('GIVEN a handler that raises WHEN a message routes to it THEN the client gets the Internal server error frame and the log has the traceback; the connection stays usable', async () => {
    // GIVEN
    const client = await connect('bob');
    // WHEN
    client.send({ action: 'fails' });
    // THEN: the frame API Gateway sends for a failed integration
    expect(await client.nextJson()).toEqual({ message: 'Internal server error', connectionId: expect.any(String), requestId: expect.any(String) });
    // THEN: logged as the Lambda Python runtime logs it
    const lines = await logEventually('fails', /Traceback \(most recent call last\):/);
    const text = lines.join('\n');
    expect(text).toMatch(/stderr \[ERROR\] OrderRejected: order A-17 is rejected/);
    expect(text).toMatch(/File ".*index\.py", line \d+, in handler/);
    expect(text).toMatch(/File ".*index\.py", line \d+, in check/);
    // THEN: the invocation outcome names the exception class, as AWS's errorType
    const direct = await invokeFunction(emulator, functionOn('fails'), {});
    expect(direct.body).toEqual(expect.objectContaining({ errorType: 'OrderRejected', errorMessage: 'order A-17 is rejected' }));
    // THEN: the same connection still gets answers
    client.send({ action: 'echo', text: 'still here' });
    expect(await client.nextJson()).toEqual(expect.objectContaining({ echo: 'still here' }));
  });

  test('GIVEN a handler whose module cannot be imported WHEN invoked THEN Runtime.ImportModuleError names the module, and other routes keep working', async () => {
    // GIVEN
    const client = await connect('cy');
    // WHEN
    client.send({ action: 'broken' });
    // THEN
    expect(await client.nextJson()).toEqual(expect.objectContaining({ message: 'Internal server error' }));
    await logEventually('broken', /\[ERROR\] Runtime\.ImportModuleError: Unable to import module 'index': No module named 'requests_that_are_not_installed'/);
    const direct = await invokeFunction(emulator, functionOn('broken'), {});
    expect(direct.body).toEqual({
      errorType: 'Runtime.ImportModuleError',
      errorMessage: "Unable to import module 'index': No module named 'requests_that_are_not_installed'",
    });
    // THEN: the working routes still answer, on the same connection
    client.send({ action: 'echo', text: 'next' });
    expect(await client.nextJson()).toEqual(expect.objectContaining({ from: 'python', echo: 'next' }));
  });

  test('GIVEN a handler that runs past its 1 s timeout WHEN a message routes to it THEN the client gets the error frame and the next invocation runs in a new instance', async () => {
    // GIVEN
    const client = await connect('dee');
    // WHEN
    client.send({ action: 'slow' });
    // THEN
    expect(await client.nextJson()).toEqual(expect.objectContaining({ message: 'Internal server error' }));
    await logEventually('slow', /slow: starting, remaining ms \d+/);
    // THEN: a new instance answers the next call (the timed-out one was stopped), here through the invoke endpoint
    const again = await invokeFunction(emulator, functionOn('slow'), {});
    expect(again.body).toEqual({ errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 1.00 seconds' });
    expect(functionOutput.filter((l) => l.includes('slow: starting')).length).toBeGreaterThanOrEqual(2);
  });

  test('GIVEN Python handlers invoked directly WHEN they return, return Decimals, return nothing or an unserializable value, or cannot load THEN the outcomes and context are those of the Lambda Python runtime', async () => {
    // GIVEN: functions on the fixture's misc/ folder, run by the invoker alone
    const base = { stackName: 'Py', functionName: 'py-misc', runtime: 'python3.12', codeDir: path.join(__dirname, 'fixtures/python/src/misc'), environment: {}, timeoutSeconds: 2, memorySize: 256 };
    const fn = (logicalId: string, handler: string): FunctionModel => ({ ...base, id: `Py/${logicalId}`, logicalId, handler });
    const functions = Object.fromEntries([
      fn('Context', 'index.context_fields'), fn('Decimals', 'index.decimals'), fn('Unserializable', 'index.unserializable'), fn('Nothing', 'index.nothing'),
      fn('Absent', 'index.absent'), fn('Syntax', 'syntax_bad.handler'), fn('NoModule', 'nowhere.handler'), fn('Malformed', 'index'),
    ].map((f) => [f.id, f]));
    const log: string[] = [];
    const invoker = createInvoker({ functions, log: (_id, _stream, line) => log.push(line) });
    try {
      // WHEN / THEN
      const context = await invoker.invoke('Py/Context', { n: 1 });
      expect(context.result).toEqual({
        awsRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        functionName: 'py-misc',
        functionVersion: '$LATEST',
        memoryLimitInMB: '256',
        logGroupName: '/aws/lambda/py-misc',
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:py-misc',
        remainingBelowTimeout: true,
        event: { n: 1 },
        cwd: true,
        nodeChannelHidden: true,
      });
      expect((await invoker.invoke('Py/Decimals', {})).result).toEqual({ count: 3, ratio: 0.5 });
      expect(await invoker.invoke('Py/Nothing', {})).toEqual(expect.objectContaining({ result: null }));
      expect((await invoker.invoke('Py/Unserializable', {})).error).toEqual({
        errorType: 'Runtime.MarshalError',
        errorMessage: expect.stringMatching(/^Unable to marshal response: Object of type object is not JSON serializable/),
      });
      expect((await invoker.invoke('Py/Absent', {})).error).toEqual({ errorType: 'Runtime.HandlerNotFound', errorMessage: "Handler 'absent' missing on module 'index'" });
      expect((await invoker.invoke('Py/Syntax', {})).error).toEqual({ errorType: 'Runtime.UserCodeSyntaxError', errorMessage: expect.stringMatching(/^Syntax error in module 'syntax_bad': /) });
      expect((await invoker.invoke('Py/NoModule', {})).error).toEqual({ errorType: 'Runtime.ImportModuleError', errorMessage: "Unable to import module 'nowhere': No module named 'nowhere'" });
      expect((await invoker.invoke('Py/Malformed', {})).error).toEqual({ errorType: 'Runtime.MalformedHandlerName', errorMessage: expect.stringMatching(/^Bad handler 'index': /) });
      expect(log).toEqual(expect.arrayContaining([expect.stringMatching(/^\[ERROR\] Runtime\.UserCodeSyntaxError: Syntax error in module 'syntax_bad'/)]));
    } finally {
      await invoker.close();
    }
  });

  test('GIVEN no interpreter WHEN the missing-python message and start-up warnings are built THEN they name WSGATE_PYTHON and what to install (none when python is found)', () => {
    // GIVEN: an interpreter path that does not exist
    const env = { WSGATE_PYTHON: '/nonexistent/python3', PATH: '' };
    // WHEN / THEN
    expect(findPython(env)).toBeUndefined();
    expect(findPython({ PATH: '' })).toBeUndefined();
    const fn = emulator.model.functions[functionOn('echo')];
    expect(pythonWarnings(emulator.model.functions, env)).toHaveLength(4);
    expect(pythonWarnings(emulator.model.functions)).toEqual([]);
    expect(emulator.warnings.filter((w) => /needs a Python 3 interpreter/.test(w))).toEqual([]);
    expect(missingPythonMessage(fn, env)).toMatch(/python3\.12 needs a Python 3 interpreter, and WSGATE_PYTHON=\/nonexistent\/python3 does not exist: install Python 3 with boto3/);
  });
});
