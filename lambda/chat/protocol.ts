/**
 * The example chat protocol (/work/shared/design.md "Example app protocol"): parses and validates incoming
 * frames into typed commands or a clear error, and builds the outgoing frames.
 * Nothing here throws on any input: every failure is an `{ ok: false, error }` with a message that says what
 * is wrong and what is expected.
 */
import { ROOM_NAME } from '../../contract/gateway-contract';

export const CHAT_ACTIONS = ['join', 'leave', 'sendmessage'] as const;
export type ChatAction = (typeof CHAT_ACTIONS)[number];

export type ChatCommand =
  | { readonly action: 'join'; readonly room: string }
  | { readonly action: 'leave'; readonly room: string }
  /** `room: null` = every connection (broadcast). */
  | { readonly action: 'sendmessage'; readonly room: string | null; readonly text: string };

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

export { ROOM_NAME };
export const MAX_TEXT_CHARS = 4000;
/** API Gateway never delivers a message over 128 KB (spec §2.4); anything longer is refused unread. */
export const MAX_FRAME_CHARS = 128 * 1024;
/** The valid shapes nest two levels deep; a little slack, then refuse before JSON.parse runs. */
export const MAX_NESTING = 8;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** C0 and C1 control characters except tab, line feed and carriage return, plus DEL. */
const CONTROL_CHARACTER = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
/** A lone UTF-16 surrogate: not a character, and not representable in UTF-8. */
const LONE_SURROGATE = /\p{Cs}/u;

const EXAMPLES: Readonly<Record<ChatAction, string>> = {
  join: '{"action":"join","data":{"room":"lobby"}}',
  leave: '{"action":"leave","data":{"room":"lobby"}}',
  sendmessage: '{"action":"sendmessage","data":{"room":"lobby","text":"hi"}} (omit "room" to send to everyone)',
};
const ROOM_RULE = '1 to 64 characters of letters, digits, ".", "_" or "-"';

/** Quotes a client-supplied value for an error message, shortened so the reply stays small. */
function quote(value: string): string {
  return value.length > 64 ? `${JSON.stringify(value.slice(0, 64))}…` : JSON.stringify(value);
}

function fail<T>(error: string): Parsed<T> {
  return { ok: false, error };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deepest `[`/`{` nesting outside strings, scanning no further than `limit + 1`. */
function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

function findForbiddenKey(value: unknown): string | undefined {
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = findForbiddenKey(item);
      if (found) return found;
    }
  } else if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) return key;
      const found = findForbiddenKey(value[key]);
      if (found) return found;
    }
  }
  return undefined;
}

/** A frame body as a JSON object, or why it is not one. The common first step of every route. */
export function parseJsonObject(body: unknown): Parsed<Record<string, unknown>> {
  const expected = `expected a JSON object such as ${EXAMPLES.join}`;
  if (typeof body !== 'string') return fail(`the message has no text; ${expected}`);
  if (body.trim().length === 0) return fail(`the message is empty; ${expected}`);
  if (body.length > MAX_FRAME_CHARS) {
    return fail(`the message is ${body.length} characters long; the limit is ${MAX_FRAME_CHARS}`);
  }
  if (nestingDepth(body, MAX_NESTING) > MAX_NESTING) {
    return fail(`the message nests objects or arrays more than ${MAX_NESTING} levels deep; ${expected}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return fail(`the message is not valid JSON; ${expected}`);
  }
  if (!isPlainObject(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return fail(`the message is ${kind}; ${expected}`);
  }
  const forbidden = findForbiddenKey(value);
  if (forbidden) return fail(`the key ${quote(forbidden)} is not allowed anywhere in a message; ${expected}`);
  return { ok: true, value };
}

function checkOnlyKeys(obj: Record<string, unknown>, where: string, allowed: readonly string[], example: string): string | undefined {
  const extra = Object.keys(obj).find((k) => !allowed.includes(k));
  if (extra === undefined) return undefined;
  const list = allowed.map((k) => `"${k}"`).join(' and ');
  return `unexpected field ${quote(extra)} in ${where}; ${where} may only contain ${list}, as in ${example}`;
}

function parseRoom(value: unknown, action: ChatAction): Parsed<string> {
  if (value === undefined) return fail(`"data.room" is missing; expected ${EXAMPLES[action]}`);
  if (typeof value !== 'string') return fail(`"data.room" must be a string of ${ROOM_RULE}`);
  if (!ROOM_NAME.test(value)) return fail(`"data.room" ${quote(value)} is not a valid room name; expected ${ROOM_RULE}`);
  return { ok: true, value };
}

function parseText(value: unknown): Parsed<string> {
  const rule = `1 to ${MAX_TEXT_CHARS} characters`;
  if (value === undefined) return fail(`"data.text" is missing; expected ${EXAMPLES.sendmessage}`);
  if (typeof value !== 'string') return fail(`"data.text" must be a string of ${rule}`);
  if (value.length === 0) return fail(`"data.text" is empty; expected ${rule}`);
  if (LONE_SURROGATE.test(value)) return fail(`"data.text" contains an unpaired UTF-16 surrogate; expected ${rule} of valid Unicode`);
  const length = Array.from(value).length;
  if (length > MAX_TEXT_CHARS) return fail(`"data.text" is ${length} characters long; expected ${rule}`);
  if (CONTROL_CHARACTER.test(value)) {
    return fail('"data.text" contains a control character; only tab, line feed and carriage return are allowed');
  }
  return { ok: true, value };
}

/** Validates the `action` and `data` of a chat frame into a command. */
export function parseChatCommand(obj: Record<string, unknown>): Parsed<ChatCommand> {
  const extraTop = checkOnlyKeys(obj, 'the message', ['action', 'data'], EXAMPLES.join);
  if (extraTop) return fail(extraTop);
  const action = obj.action;
  const actions = CHAT_ACTIONS.join(', ');
  if (action === undefined) return fail(`the message has no "action" field; expected one of: ${actions}`);
  if (typeof action !== 'string') return fail(`"action" must be a string, one of: ${actions}`);
  if (!(CHAT_ACTIONS as readonly string[]).includes(action)) {
    return fail(`unknown action ${quote(action)}; expected one of: ${actions}`);
  }
  const act = action as ChatAction;
  const data = obj.data;
  if (data === undefined) return fail(`"data" is missing; expected ${EXAMPLES[act]}`);
  if (!isPlainObject(data)) return fail(`"data" must be an object; expected ${EXAMPLES[act]}`);

  if (act === 'sendmessage') {
    const extra = checkOnlyKeys(data, '"data"', ['room', 'text'], EXAMPLES.sendmessage);
    if (extra) return fail(extra);
    let room: string | null = null;
    if (data.room !== undefined && data.room !== null) {
      const parsedRoom = parseRoom(data.room, act);
      if (!parsedRoom.ok) return parsedRoom;
      room = parsedRoom.value;
    }
    const text = parseText(data.text);
    if (!text.ok) return text;
    return { ok: true, value: { action: act, room, text: text.value } };
  }
  const extra = checkOnlyKeys(data, '"data"', ['room'], EXAMPLES[act]);
  if (extra) return fail(extra);
  const room = parseRoom(data.room, act);
  if (!room.ok) return room;
  return { ok: true, value: { action: act, room: room.value } };
}

/** Parses a raw chat frame body (the `body` of a MESSAGE event, spec §4.2). Never throws. */
export function parseChatFrame(body: unknown): Parsed<ChatCommand> {
  const obj = parseJsonObject(body);
  return obj.ok ? parseChatCommand(obj.value) : obj;
}

/**
 * Why a frame reached `$default` (spec §3: not JSON, no action, or an action no route matches),
 * naming the actions that do exist.
 */
export function explainUnroutable(body: unknown, routeKeys: readonly string[]): string {
  const exist = routeKeys.length > 0 ? `the actions that exist are: ${routeKeys.join(', ')}` : 'this API has no custom actions';
  const obj = parseJsonObject(body);
  if (!obj.ok) return `${obj.error}; ${exist}`;
  const action = obj.value.action;
  if (action === undefined) return `the message has no "action" field; expected {"action":"<name>", ...} where ${exist}`;
  if (typeof action !== 'string') return `"action" must be a string; ${exist}`;
  if (routeKeys.includes(action)) return `action ${quote(action)} could not be routed; ${exist}`;
  return `unknown action ${quote(action)}; ${exist}`;
}

export interface ChatMessage {
  readonly room: string | null;
  readonly from: string;
  readonly text: string;
  /** Epoch milliseconds. */
  readonly at: number;
}

export const frames = {
  error: (message: string): string => JSON.stringify({ type: 'error', message }),
  joined: (room: string): string => JSON.stringify({ type: 'joined', room }),
  left: (room: string): string => JSON.stringify({ type: 'left', room }),
  message: (m: ChatMessage): string =>
    JSON.stringify({ type: 'message', room: m.room, from: m.from, text: m.text, at: m.at }),
};
