/**
 * The in-process DynamoDB checks without their loopback hop: a hook on Node's `http.request` in a function's
 * process. A request to the guard's address (what AWS_ENDPOINT_URL_DYNAMODB names there) is sent straight to the
 * local DynamoDB when `allowed` says the guard would forward it unchanged (the function's own key, a valid signature,
 * a role that allows it); any other request (a refusal, another key, a body that is not a single buffer, one that
 * waits for `100 Continue`) goes to the guard's HTTP server after all, which answers it as before. The caller sees
 * one ordinary `ClientRequest` either way.
 *
 * Why: the guard's HTTP server cost each DynamoDB call a second HTTP exchange inside the process (parse, forward,
 * pipe back); without it, HTTP work fell from 35 % to 22 % of the function processes' busy time on the connect path
 * (docs/emulator-performance.md).
 *
 * How a request is held: Node sends nothing until the first `write` or `end`, so the hook keeps the body the caller
 * writes and decides at `end`. The request it hands the caller is created towards the local DynamoDB (same options,
 * headers and agent; only the port and host differ), so the allowed path is the caller's own request. For the other
 * path that request is abandoned unsent, with `abort()` (unlike `destroy()`, it reports no "socket hang up" error to
 * the caller), and the same request is sent to the guard's server; its response is the one the caller gets.
 * Clients other than Node's `http` module (fetch, raw sockets) are not hooked: they reach the guard's server itself.
 */
// `import =` keeps the module object itself (a star import would be a copy): the hook replaces its `request`.
import http = require('node:http');
import { syncBuiltinESMExports } from 'node:module';
import type { SignableRequest } from '../iam/sigv4';

export interface DynamoRequestHook {
  /** Puts Node's own `http.request` back. */
  uninstall(): void;
}

type RequestArgs = Parameters<typeof http.request>;
type Requester = (options: http.RequestOptions, callback?: (response: http.IncomingMessage) => void) => http.ClientRequest;
type Chunk = Buffer | string | Uint8Array;

interface Address {
  readonly host: string;
  readonly port: string;
}

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost']);

function sameAddress(host: unknown, port: unknown, to: Address): boolean {
  const name = String(host ?? '').replace(/^\[|\]$/g, '');
  return String(port ?? '80') === to.port && (name === to.host || (LOOPBACK_NAMES.has(name) && LOOPBACK_NAMES.has(to.host)));
}

/** The options object of an `http.request` call, when it is the `(options[, callback])` form the AWS SDKs use. */
function optionsOf(args: RequestArgs): http.RequestOptions | undefined {
  const first = args[0] as unknown;
  return first !== null && typeof first === 'object' && !(first instanceof URL) ? (first as http.RequestOptions) : undefined;
}

function expectsContinue(headers: http.RequestOptions['headers']): boolean {
  if (!headers || Array.isArray(headers)) return false;
  return Object.entries(headers).some(([name, value]) => name.toLowerCase() === 'expect' && /100-continue/i.test(String(value)));
}

function headersOf(request: http.ClientRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.getHeaders())) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return headers;
}

function toBuffer(chunk: Chunk, encoding: unknown): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * Installs the hook. `guard`: the guard server's endpoint (requests there are hooked); `target`: the local DynamoDB.
 * `allowed` must not log: a request it refuses (or throws on) is checked again, and logged, by the guard's server.
 */
export function hookDynamoRequests(guard: string, target: string, allowed: (request: SignableRequest) => boolean): DynamoRequestHook {
  const guardUrl = new URL(guard);
  const targetUrl = new URL(target);
  const guardAddress: Address = { host: guardUrl.hostname, port: guardUrl.port || '80' };
  const exports = http as { request: unknown };
  const original = http.request;
  const send = original as unknown as Requester;

  function hooked(this: unknown, ...args: RequestArgs): http.ClientRequest {
    const options = optionsOf(args);
    if (!options || !sameAddress(options.hostname ?? options.host, options.port, guardAddress)) return original.apply(this, args as never);
    // A caller that waits for `100 Continue` before it writes the body cannot be held until `end()`: the guard's
    // server gets such a request as it is.
    if (expectsContinue(options.headers)) return original.apply(this, args as never);
    const callback = args.find((a): a is (res: http.IncomingMessage) => void => typeof a === 'function');
    const direct = send.call(http, { ...options, hostname: targetUrl.hostname, host: targetUrl.hostname, port: targetUrl.port || 80 }, callback);
    const sendWrite = direct.write;
    const sendEnd = direct.end as (body: Buffer, done?: () => void) => http.ClientRequest;
    const chunks: Buffer[] = [];
    let streamed = false;
    direct.write = function write(chunk: Chunk, encoding?: unknown, done?: unknown): boolean {
      chunks.push(toBuffer(chunk, encoding));
      streamed = true;
      const cb = [encoding, done].find((a): a is () => void => typeof a === 'function');
      if (cb) process.nextTick(cb);
      return true;
    } as typeof direct.write;
    direct.end = function end(chunk?: unknown, encoding?: unknown, done?: unknown): http.ClientRequest {
      direct.write = sendWrite;
      direct.end = sendEnd as typeof direct.end;
      const cb = [chunk, encoding, done].find((a): a is () => void => typeof a === 'function');
      if (chunk !== undefined && chunk !== null && typeof chunk !== 'function') chunks.push(toBuffer(chunk as Chunk, encoding));
      const body = Buffer.concat(chunks);
      const request: SignableRequest = { method: options.method ?? 'GET', url: options.path ?? '/', headers: headersOf(direct), body };
      if (!streamed && decide(request)) return sendEnd.call(direct, body, cb);
      viaGuard(direct, options, body, cb);
      return direct;
    } as typeof direct.end;
    return direct;
  }

  /** `allowed`, where an exception means "not here": the guard's server then answers the request. */
  function decide(request: SignableRequest): boolean {
    try {
      return allowed(request);
    } catch {
      return false;
    }
  }

  /** Abandons `direct` unsent and sends the same request to the guard's server; its events become `direct`'s. */
  function viaGuard(direct: http.ClientRequest, options: http.RequestOptions, body: Buffer, done?: () => void): void {
    const headers = direct.getHeaders();
    direct.abort();
    const checked = send.call(http, { ...options, headers }, (response) => direct.emit('response', response));
    checked.on('socket', (socket) => direct.emit('socket', socket));
    checked.on('error', (error) => direct.emit('error', error));
    checked.end(body, done);
  }

  exports.request = hooked;
  syncBuiltinESMExports(); // ES module imports of node:http made before now (a preload) see the hook too
  return {
    uninstall: () => {
      if (exports.request === hooked) {
        exports.request = original;
        syncBuiltinESMExports();
      }
    },
  };
}
