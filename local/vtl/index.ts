/**
 * API Gateway mapping templates: Velocity (VTL) rendered by `velocityjs`, with the variables API Gateway gives a
 * WebSocket template: `$input` (body, json(path), path(path), params()), `$util` (escapeJavaScript, parseJson,
 * urlEncode/urlDecode, base64Encode/Decode), `$context` (connectionId, routeKey, requestId, messageId, eventType,
 * stage, apiId, domainName, requestTimeEpoch, identity.sourceIp, authorizer.*) and `$stageVariables`.
 *
 * `renderTemplate` never lets an engine error escape as anything but a `TemplateError` naming the template and,
 * when the engine knows it, the line: the gateway logs it and sends the client the Internal server error frame.
 */
import { Compile, parse } from 'velocityjs';

/** A template that cannot be parsed or whose evaluation failed. `message` names the template and the line. */
export class TemplateError extends Error {
  constructor(message: string, readonly line?: number) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** What `$context` holds for one message (the names of API Gateway's `$context` variables). */
export interface TemplateContext {
  readonly connectionId: string;
  readonly routeKey: string;
  readonly requestId: string;
  readonly messageId: string;
  readonly eventType: string;
  readonly stage: string;
  readonly apiId: string;
  readonly domainName: string;
  readonly requestTimeEpoch: number;
  readonly requestTime: string;
  readonly connectedAt: number;
  readonly identity: { readonly sourceIp: string; readonly userAgent?: string };
  /** The authorizer's principalId and context keys. @default - none */
  readonly authorizer?: Record<string, unknown>;
}

export interface TemplateVariables {
  /** The body the template maps: the client's message for request templates, the backend's reply for response templates. */
  readonly body: string;
  readonly context: TemplateContext;
  readonly stageVariables: Record<string, string>;
}

/** API Gateway's JSONPath subset for `$input.json` / `$input.path`: `$`, `.name`, `[n]`, `['name']`, `[*]`-free. */
export function selectJsonPath(document: unknown, path: string): unknown {
  const trimmed = path.trim();
  if (!trimmed.startsWith('$')) throw new TemplateError(`JSONPath ${JSON.stringify(path)} must start with $`);
  let current: unknown = document;
  const pattern = /\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/y;
  pattern.lastIndex = 1;
  while (pattern.lastIndex < trimmed.length) {
    const match = pattern.exec(trimmed);
    if (!match) throw new TemplateError(`JSONPath ${JSON.stringify(path)} is not supported (use $.a.b, $.a[0] or $['a b'])`);
    const step: string | number = match[2] !== undefined ? Number(match[2]) : (match[1] ?? match[3] ?? match[4]);
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[step];
  }
  return current;
}

/**
 * Java's `StringEscapeUtils.escapeJavaScript` (what API Gateway's `$util.escapeJavaScript` is documented to use):
 * backslash, both quotes and `/` get a backslash; control characters become \b \t \n \f \r or \uXXXX; characters above
 * 0x7f become \uXXXX.
 */
export function escapeJavaScript(value: unknown): string {
  const text = String(value ?? '');
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\' || ch === '"' || ch === "'" || ch === '/') out += `\\${ch}`;
    else if (ch === '\b') out += '\\b';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code > 0x7f) {
      const units = code > 0xffff ? String.fromCodePoint(code).split('') : [ch];
      out += units.map((u) => `\\u${u.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`).join('');
    } else out += ch;
  }
  return out;
}

/** `application/x-www-form-urlencoded` as Java's URLEncoder writes it (space → `+`; `*`, `-`, `.`, `_` kept). */
export function urlEncode(value: unknown): string {
  return encodeURIComponent(String(value ?? '')).replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+');
}

export function urlDecode(value: unknown): string {
  return decodeURIComponent(String(value ?? '').replace(/\+/g, ' '));
}

/** `$util`: API Gateway's helpers. `parseJson` throws a TemplateError on text that is not JSON. */
export const util = {
  escapeJavaScript,
  parseJson(text: unknown): unknown {
    try {
      return JSON.parse(String(text));
    } catch (e) {
      throw new TemplateError(`$util.parseJson: ${(e as Error).message}`);
    }
  },
  urlEncode,
  urlDecode,
  base64Encode: (value: unknown): string => Buffer.from(String(value ?? ''), 'utf8').toString('base64'),
  base64Decode: (value: unknown): string => Buffer.from(String(value ?? ''), 'base64').toString('utf8'),
};

/** `$input` over one body: `body`, `json(path)` (JSON text of the selection), `path(path)` (the selection itself). */
export function inputVariable(body: string): Record<string, unknown> {
  let parsed: unknown;
  let parseError: string | undefined;
  try {
    parsed = body === '' ? undefined : JSON.parse(body);
  } catch (e) {
    parseError = (e as Error).message;
  }
  const documentFor = (method: string): unknown => {
    if (parseError !== undefined) throw new TemplateError(`$input.${method}: the body is not JSON (${parseError})`);
    return parsed;
  };
  return {
    body,
    json: (path: string): string => {
      const selected = selectJsonPath(documentFor('json'), String(path));
      return selected === undefined ? '' : JSON.stringify(selected);
    },
    path: (path: string): unknown => selectJsonPath(documentFor('path'), String(path)),
    params: (): Record<string, unknown> => ({ header: {}, querystring: {}, path: {} }),
  };
}

/** The line velocityjs reports (`on line N` for parse errors, `at L/N N:C` for evaluation errors). */
function lineOf(message: string): number | undefined {
  const match = /on line (\d+)|L\/N (\d+):/.exec(message);
  return match ? Number(match[1] ?? match[2]) : undefined;
}

/** Parsed templates by text (the model's templates: a bounded set; parsing is most of a render's cost). */
const parsed = new Map<string, ReturnType<typeof parse>>();
const PARSED_MAX = 1000;

function astOf(template: string): ReturnType<typeof parse> {
  let ast = parsed.get(template);
  if (!ast) {
    ast = parse(template);
    if (parsed.size >= PARSED_MAX) parsed.delete(parsed.keys().next().value!);
    parsed.set(template, ast);
  }
  return ast;
}

/**
 * Renders one mapping template. `name` says which template it is (route, integration, key) for error messages.
 * Throws only TemplateError.
 */
export function renderTemplate(template: string, variables: TemplateVariables, name: string): string {
  const context = {
    input: inputVariable(variables.body),
    util,
    context: { ...variables.context, authorizer: { ...(variables.context.authorizer ?? {}) } },
    stageVariables: { ...variables.stageVariables },
  };
  try {
    return new Compile(astOf(template), { escape: false }).render(context, {});
  } catch (e) {
    // velocityjs appends `on {reference} at L/N {line}:{column}` to the message of an error thrown while evaluating.
    const raw = e instanceof Error ? e.message : String(e);
    const line = (e instanceof TemplateError ? e.line : undefined) ?? lineOf(raw);
    const message = raw.replace(/\s*on (\$.+?) at L\/N \d+:\d+$/s, ' (in $1)').replace(/\s+/g, ' ').trim();
    const where = line !== undefined ? ` (line ${line})` : '';
    throw new TemplateError(`${name}${where}: ${message}`, line);
  }
}
