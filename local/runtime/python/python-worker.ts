/**
 * Python functions (`python3.x` runtimes): each warm instance is a Python process running `worker.py`, which speaks
 * worker.cjs's protocol over a Node.js IPC channel (JSON lines on the fd named by NODE_CHANNEL_FD), so the
 * instance lifecycle, timeouts and pool are the Node.js ones (../instance.ts). `sitecustomize.py` (on PYTHONPATH)
 * sends boto3's HTTPS connections to the emulator's hosts to the emulator, as redirect-preload.cjs does for Node.js.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { FunctionModel } from '../../model';
import type { WorkerLauncher } from '../instance';
import type { LocalEndpoints } from '../lambda-environment';

export const PYTHON_WORKER = path.join(__dirname, 'worker.py');

/** True for the runtimes this module runs (`python3.8` … `python3.13`). */
export function isPythonRuntime(runtime: string): boolean {
  return /^python3\.\d+$/.test(runtime);
}

/**
 * The interpreter: `WSGATE_PYTHON` (a path or a command on PATH), else `python3` on PATH; undefined when none exists.
 */
export function findPython(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const wanted = env.WSGATE_PYTHON?.trim() || 'python3';
  if (wanted.includes('/')) return fs.existsSync(wanted) ? path.resolve(wanted) : undefined;
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, wanted);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** What an invocation of a Python function answers when no interpreter is found. */
export function missingPythonMessage(fn: FunctionModel, env: NodeJS.ProcessEnv = process.env): string {
  const wanted = env.WSGATE_PYTHON?.trim();
  return `${fn.id}: runtime ${fn.runtime} needs a Python 3 interpreter, and ${wanted ? `WSGATE_PYTHON=${wanted} does not exist` : 'python3 is not on PATH'}: ` +
    'install Python 3 with boto3 (e.g. `python3 -m venv .venv && .venv/bin/pip install boto3`) and set WSGATE_PYTHON to its python (e.g. WSGATE_PYTHON=.venv/bin/python)';
}

/**
 * The Node.js-only variables of `lambdaEnvironment` replaced by the Python runtime's: PYTHONPATH (this folder for
 * sitecustomize.py, then the code folder, as Lambda puts /var/task on the path), unbuffered output (each print reaches
 * the log when it is written), and the emulator's certificate for botocore and requests (WSGATE_CA_FILE).
 */
export function pythonEnvironment(nodeEnv: Record<string, string>, fn: FunctionModel, endpoints: LocalEndpoints): Record<string, string> {
  const env = { ...nodeEnv };
  for (const name of ['NODE_PATH', 'NODE_EXTRA_CA_CERTS', 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED']) delete env[name];
  env.PYTHONPATH = [__dirname, fn.codeDir].join(path.delimiter);
  env.PYTHONUNBUFFERED = '1';
  env.PYTHONDONTWRITEBYTECODE = '1';
  env.LAMBDA_RUNTIME_DIR = __dirname;
  // sitecustomize.py sets AWS_CA_BUNDLE / REQUESTS_CA_BUNDLE to certifi's roots plus this certificate.
  if (endpoints.caFile) env.WSGATE_CA_FILE = endpoints.caFile;
  return env;
}

/** Launches `worker.py` under `python` in the function's code folder, with an IPC channel in JSON mode. */
export function pythonLauncher(python: string): WorkerLauncher {
  return (fn, env) =>
    spawn(python, ['-u', PYTHON_WORKER], {
      cwd: fn.codeDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
}

/** Start-up warnings: Python functions that cannot run because no interpreter is found (one line per function). */
export function pythonWarnings(functions: Record<string, FunctionModel>, env: NodeJS.ProcessEnv = process.env): string[] {
  const python = Object.values(functions).filter((fn) => !fn.unsupported && isPythonRuntime(fn.runtime));
  if (python.length === 0 || findPython(env)) return [];
  return python.map((fn) => missingPythonMessage(fn, env));
}
