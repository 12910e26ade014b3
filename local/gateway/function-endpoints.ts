/**
 * Invoking any function of the assembly by hand, for local use only (a scheduled publisher, a queue consumer, a
 * route handler with a crafted event):
 * - `GET /_wsgate/functions` → `{"functions": [{id, logicalId, functionName, constructPath, routes}]}`;
 * - `POST /_wsgate/functions/{name}/invoke` with the event as the JSON body (empty body: `{}`) → what the function
 *   returned, as JSON.
 *
 * `{name}` (URL-encoded) is, in this order of preference, the function's `Stack/LogicalId`, its logical id, its
 * local physical name, its construct path, or a unique trailing part of its construct path cut at a `/`
 * (`Publisher` for `Ticker/Publisher`). The first kind that matches decides: one match is invoked, several are 409.
 *
 * Statuses (chosen for this endpoint; Lambda's own Invoke API answers 200 for a function error):
 * 200 the function's result · 502 the function failed (threw, crashed, or cannot run here), body
 * `{errorType, errorMessage}` and header `X-Amz-Function-Error: Unhandled` · 504 it ran past its timeout, body
 * `{errorType: "Sandbox.Timedout", errorMessage}` · 400 the body is not JSON · 404 no such function (the body lists
 * them) · 409 the name is ambiguous · 405 another method · 413 an event over 6 MB (Lambda's synchronous payload
 * limit) · 403 a request from a web page of another origin, or for another host (a browser tab must not invoke
 * your functions).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FunctionInvoker, FunctionModel } from '../model';
import type { ExtraHttpHandler } from './gateway';
import { readBody, sendJson } from './http-responses';

export const FUNCTIONS_PATH = '/_wsgate/functions';
/** Lambda's limit for a synchronous invocation's request payload. */
export const MAX_EVENT_BYTES = 6 * 1024 * 1024;

const INVOKE_PATH = /^\/_wsgate\/functions\/(.+)\/invoke\/?$/;

export type FunctionMatch =
  | { readonly kind: 'found'; readonly fn: FunctionModel }
  | { readonly kind: 'none' }
  | { readonly kind: 'ambiguous'; readonly candidates: readonly FunctionModel[] };

/** The function `name` designates (see the file comment for the order of the kinds of name). */
export function findFunction(functions: Readonly<Record<string, FunctionModel>>, name: string): FunctionMatch {
  const all = Object.values(functions);
  const kinds: Array<(fn: FunctionModel) => boolean> = [
    (fn) => fn.id === name,
    (fn) => fn.logicalId === name,
    (fn) => fn.functionName === name,
    (fn) => fn.constructPath === name,
    (fn) => fn.constructPath !== undefined && fn.constructPath.endsWith(`/${name.replace(/^\/+/, '')}`),
  ];
  if (name === '') return { kind: 'none' };
  for (const matches of kinds) {
    const found = all.filter(matches);
    if (found.length === 1) return { kind: 'found', fn: found[0] };
    if (found.length > 1) return { kind: 'ambiguous', candidates: found };
  }
  return { kind: 'none' };
}

/** How a function is listed: every name it can be invoked by. */
function describe(fn: FunctionModel, routes: ReadonlyMap<string, string[]>): Record<string, unknown> {
  return {
    id: fn.id,
    logicalId: fn.logicalId,
    functionName: fn.functionName,
    constructPath: fn.constructPath ?? null,
    routes: routes.get(fn.id) ?? [],
    ...(fn.unsupported ? { unsupported: fn.unsupported } : {}),
  };
}

function knownNames(functions: Readonly<Record<string, FunctionModel>>): string {
  return Object.values(functions).map((fn) => fn.constructPath ?? fn.id).join(', ') || 'none';
}

/** A loopback Host (`127.0.0.1:PORT`, `localhost:PORT`, `[::1]:PORT`), so a rebound DNS name cannot reach here. */
function loopbackHost(host: string | undefined): boolean {
  if (host === undefined) return true;
  return /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/i.test(host);
}

export interface FunctionEndpointsOptions {
  readonly functions: Readonly<Record<string, FunctionModel>>;
  readonly invoker: FunctionInvoker;
  /** `FunctionModel.id` → the route keys it serves, for the listing. @default - no routes listed */
  readonly routes?: ReadonlyMap<string, string[]>;
  /** @default - lines are dropped */
  readonly log?: (line: string) => void;
}

async function invoke(req: IncomingMessage, res: ServerResponse, name: string, options: FunctionEndpointsOptions): Promise<void> {
  const match = findFunction(options.functions, name);
  if (match.kind === 'none') {
    req.resume();
    sendJson(res, 404, {
      message: `No function "${name}" in the assembly; give its logical id, its name or the end of its construct path. Known: ${knownNames(options.functions)}`,
      functions: Object.values(options.functions).map((fn) => describe(fn, options.routes ?? new Map())),
    });
    return;
  }
  if (match.kind === 'ambiguous') {
    req.resume();
    sendJson(res, 409, {
      message: `"${name}" names ${match.candidates.length} functions: ${match.candidates.map((fn) => fn.constructPath ?? fn.id).join(', ')}; give a longer part of the construct path or the Stack/LogicalId`,
      functions: match.candidates.map((fn) => describe(fn, options.routes ?? new Map())),
    });
    return;
  }
  const body = await readBody(req, MAX_EVENT_BYTES);
  if (body === undefined) {
    sendJson(res, 413, { message: `The event is larger than ${MAX_EVENT_BYTES} bytes (Lambda's limit for a synchronous invocation)` });
    return;
  }
  let event: unknown = {};
  const text = body.toString('utf8');
  if (text.trim() !== '') {
    try {
      event = JSON.parse(text);
    } catch (err) {
      sendJson(res, 400, {
        message: `The request body is not valid JSON (${(err as Error).message}); send the event as a JSON document, e.g. {"source":"local"}`,
      });
      return;
    }
  }
  const fn = match.fn;
  const outcome = await options.invoker.invoke(fn.id, event);
  if (outcome.timedOut) {
    options.log?.(`invoke ${fn.id}: timed out`);
    sendJson(
      res,
      504,
      { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds` },
      { 'X-Amz-Function-Error': 'Unhandled' },
    );
    return;
  }
  if (outcome.error) {
    options.log?.(`invoke ${fn.id}: ${outcome.error.errorType}: ${outcome.error.errorMessage}`);
    sendJson(res, 502, { errorType: outcome.error.errorType, errorMessage: outcome.error.errorMessage }, { 'X-Amz-Function-Error': 'Unhandled' });
    return;
  }
  sendJson(res, 200, outcome.result === undefined ? null : outcome.result, { 'X-Wsgate-Function': fn.id });
}

export function functionEndpoints(options: FunctionEndpointsOptions): ExtraHttpHandler {
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    const isList = url.pathname === FUNCTIONS_PATH || url.pathname === `${FUNCTIONS_PATH}/`;
    const invokeMatch = INVOKE_PATH.exec(url.pathname);
    if (!isList && !invokeMatch) return false;
    const origin = req.headers.origin;
    const host = req.headers.host;
    if (!loopbackHost(host) || (origin !== undefined && origin !== `http://${host}` && origin !== `https://${host}`)) {
      req.resume();
      sendJson(res, 403, { message: 'Functions are invoked only from this machine (a loopback Host and no foreign Origin)' });
      return true;
    }
    if (isList) {
      req.resume();
      if (req.method !== 'GET') {
        sendJson(res, 405, { message: `Use GET ${FUNCTIONS_PATH}` }, { Allow: 'GET' });
        return true;
      }
      sendJson(res, 200, { functions: Object.values(options.functions).map((fn) => describe(fn, options.routes ?? new Map())) });
      return true;
    }
    if (req.method !== 'POST') {
      req.resume();
      sendJson(res, 405, { message: `Use POST ${url.pathname} with the event as the JSON body` }, { Allow: 'POST' });
      return true;
    }
    let name: string;
    try {
      name = decodeURIComponent(invokeMatch![1]);
    } catch {
      req.resume();
      sendJson(res, 400, { message: `The function name in ${url.pathname} is not validly URL-encoded` });
      return true;
    }
    await invoke(req, res, name, options);
    return true;
  };
}
