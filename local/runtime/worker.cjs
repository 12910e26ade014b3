'use strict';
/*
 * One warm Lambda instance: a child process that loads the function's handler once, at start (the init phase),
 * then runs one invocation at a time, on messages from the invoker (local/runtime/instance.ts) over the IPC channel.
 * Plain CommonJS (.cjs) so it runs as is, with or without `npm run build`.
 *
 * out: { type: 'ready' } once the handler is loaded | { type: 'initError', errorType, errorMessage } if it cannot be
 * in:  { type: 'invoke', id, event, context: { awsRequestId, deadlineMs, functionName, ... } } (sent after 'ready')
 * out: { type: 'result', id, json } | { type: 'error', id, errorType, errorMessage, fatal }
 * out: { type: 'log', line } a refusal line of the in-process DynamoDB checks (dynamo-guard.ts), at any time
 */
const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');

const taskRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
const handlerString = process.env._HANDLER || '';
let handlerPromise;
/** Id of the invocation in flight, so a crash can be reported against it. */
let currentId;

class RuntimeError extends Error {
  constructor(name, message) {
    super(message);
    this.name = name;
  }
}

/** `dir/file.export.path` → module `dir/file`, export path `export.path` (as the Node.js runtime splits it). */
function splitHandler(text) {
  const slash = text.lastIndexOf('/');
  const base = text.slice(slash + 1);
  const dot = base.indexOf('.');
  if (dot <= 0 || dot === base.length - 1) {
    throw new RuntimeError('Runtime.MalformedHandlerName', `Bad handler ${JSON.stringify(text)}: expected file.export, e.g. index.handler`);
  }
  return { modulePath: text.slice(0, slash + 1) + base.slice(0, dot), exportPath: base.slice(dot + 1).split('.') };
}

/** True when `file` is ESM: .mjs, or .js under a package.json with "type": "module" (up to the task root). */
function isEsm(file) {
  if (file.endsWith('.mjs')) return true;
  if (file.endsWith('.cjs')) return false;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        return JSON.parse(fs.readFileSync(pkg, 'utf8')).type === 'module';
      } catch {
        return false;
      }
    }
    if (dir === taskRoot || dir === path.dirname(dir)) return false;
  }
}

async function loadHandler() {
  const { modulePath, exportPath } = splitHandler(handlerString);
  const base = path.resolve(taskRoot, modulePath);
  const file = ['.js', '.mjs', '.cjs'].map((ext) => base + ext).find((f) => fs.existsSync(f));
  if (!file) {
    throw new RuntimeError('Runtime.ImportModuleError', `Error: Cannot find module '${modulePath}' (looked for .js, .mjs, .cjs in ${taskRoot})`);
  }
  let mod;
  try {
    if (isEsm(file)) {
      // Lets the module import the SDK from NODE_PATH, as CommonJS can (only now: the hook runs on its own thread).
      require('./esm-node-path.cjs');
      mod = await import(pathToFileURL(file).href);
    } else {
      mod = require(file);
    }
  } catch (e) {
    throw new RuntimeError('Runtime.ImportModuleError', `${e && e.name ? e.name : 'Error'}: ${e && e.message ? e.message : String(e)}`);
  }
  let fn = mod;
  for (const key of exportPath) fn = fn == null ? undefined : fn[key];
  if (typeof fn !== 'function') {
    throw new RuntimeError('Runtime.HandlerNotFound', `${modulePath}.${exportPath.join('.')} is undefined or not exported`);
  }
  return fn;
}

function lambdaContext(c) {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: c.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: c.invokedFunctionArn,
    memoryLimitInMB: String(c.memoryLimitInMB),
    awsRequestId: c.awsRequestId,
    logGroupName: c.logGroupName,
    logStreamName: c.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, c.deadlineMs - Date.now()),
  };
}

/** Runs the handler: async (returns a promise) or callback style (event, context, callback). */
function run(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const callback = (err, value) => {
      if (settled) return;
      settled = true;
      if (err !== undefined && err !== null) reject(err);
      else resolve(value);
    };
    context.done = callback;
    context.succeed = (value) => callback(null, value);
    context.fail = (err) => callback(err);
    let returned;
    try {
      returned = handler(event, context, callback);
    } catch (e) {
      callback(e);
      return;
    }
    if (returned && typeof returned.then === 'function') {
      returned.then((value) => callback(null, value), (e) => callback(e === undefined || e === null ? new Error(String(e)) : e));
    } else if (handler.length < 3) {
      callback(null, returned);
    }
  });
}

function describe(e) {
  if (e instanceof Error) return { errorType: e.name || 'Error', errorMessage: e.message };
  if (typeof e === 'string') return { errorType: 'string', errorMessage: e };
  return { errorType: 'Error', errorMessage: JSON.stringify(e) };
}

process.on('message', async (message) => {
  if (!message || message.type !== 'invoke') return;
  const { id, event, context } = message;
  currentId = id;
  let handler;
  try {
    handler = await handlerPromise;
  } catch (e) {
    process.send({ type: 'error', id, ...describe(e), fatal: true });
    return;
  }
  try {
    const value = await run(handler, event, lambdaContext(context));
    let json;
    try {
      json = JSON.stringify(value === undefined ? null : value);
    } catch (e) {
      process.send({ type: 'error', id, errorType: 'Runtime.SerializationError', errorMessage: `The handler's result cannot be serialized to JSON: ${e.message}` });
      return;
    }
    process.send({ type: 'result', id, json });
  } catch (e) {
    process.send({ type: 'error', id, ...describe(e) });
  }
});

// An unhandled rejection ends the instance, as in Lambda; the invocation in flight gets
// Runtime.UnhandledPromiseRejection (an uncaught exception ends it too: the invoker reports Runtime.ExitError).
process.on('unhandledRejection', (reason) => {
  console.error('Unhandled rejection', reason);
  const { errorMessage } = describe(reason);
  const done = () => process.exit(128);
  if (currentId) process.send({ type: 'error', id: currentId, errorType: 'Runtime.UnhandledPromiseRejection', errorMessage, fatal: true }, done);
  else done();
});
/**
 * Local IAM for this function's DynamoDB calls in this process (dynamo-guard.ts), when the emulator asks for it:
 * started before the handler loads, so even its init code's calls are checked. Its two variables are removed from
 * the environment the handler sees; if it cannot start, the calls keep going to the emulator's proxy (same checks).
 */
async function startDynamoGuard() {
  const modulePath = process.env.WSGATE_DYNAMO_GUARD_MODULE;
  const config = process.env.WSGATE_DYNAMO_GUARD;
  delete process.env.WSGATE_DYNAMO_GUARD_MODULE;
  delete process.env.WSGATE_DYNAMO_GUARD;
  if (!modulePath || !config) return;
  try {
    const guard = require(modulePath);
    const running = await guard.startDynamoGuard(guard.parseGuardConfig(config), (line) => process.send({ type: 'log', line }));
    process.env.AWS_ENDPOINT_URL_DYNAMODB = running.endpoint;
  } catch (e) {
    const reason = String(e && e.message ? e.message : e).split('\n')[0];
    console.error(`wsgate: the in-process DynamoDB checks did not start (${reason}); DynamoDB calls go through the emulator's proxy`);
  }
}

// The init phase: load the handler now, as Lambda does before the first event, and say when it is done.
handlerPromise = startDynamoGuard().then(loadHandler);
handlerPromise.then(
  () => process.send({ type: 'ready' }),
  (e) => process.send({ type: 'initError', ...describe(e) }),
);
