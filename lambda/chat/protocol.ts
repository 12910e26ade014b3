/**
 * The example chat's protocol: parses and validates incoming frames into typed commands or a clear error, and
 * builds the outgoing frames. A chat route takes its action from the route API Gateway selected and reads only
 * the `data` of the body (`parseChatData`), so the routes serve any route selection expression; `parseChatFrame`
 * checks a whole `{"action","data"}` frame of the example protocol.
 * Nothing here throws on any input: every failure is an `{ ok: false, error }` with a message that says what
 * is wrong and what is expected.
 */
import { ROOM_NAME } from '../../contract/gateway-contract';
import { MAX_FRAME_CHARS, MAX_NESTING, Parsed, fail, isPlainObject, parseJsonObjectBody, quote } from '../runtime/json-object';

export type { Parsed };
export { MAX_FRAME_CHARS, MAX_NESTING, ROOM_NAME };

export const CHAT_ACTIONS = ['join', 'leave', 'sendmessage'] as const;
export type ChatAction = (typeof CHAT_ACTIONS)[number];

export type ChatCommand =
  | { readonly action: 'join'; readonly room: string }
  | { readonly action: 'leave'; readonly room: string }
  /** `room: null` = every connection (broadcast). */
  | { readonly action: 'sendmessage'; readonly room: string | null; readonly text: string };

export const MAX_TEXT_CHARS = 4000;
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

/** A frame body as a JSON object, or why it is not one. The common first step of every route. */
export function parseJsonObject(body: unknown): Parsed<Record<string, unknown>> {
  return parseJsonObjectBody(body, `expected a JSON object such as ${EXAMPLES.join}`);
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
  return parseChatCommandData(action as ChatAction, obj.data);
}

/** Validates the `data` of a command whose action is already known. */
export function parseChatCommandData(act: ChatAction, data: unknown): Parsed<ChatCommand> {
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

/**
 * Parses the body of a message that API Gateway routed to the `action` route, whatever the API's route selection
 * expression: only `data` is read (any `action` or other top-level field is ignored). Never throws.
 */
export function parseChatData<A extends ChatAction>(action: A, body: unknown): Parsed<Extract<ChatCommand, { action: A }>> {
  const obj = parseJsonObject(body);
  if (!obj.ok) return obj;
  return parseChatCommandData(action, obj.value.data) as Parsed<Extract<ChatCommand, { action: A }>>;
}

/** Parses a raw chat frame body (the `body` of a MESSAGE event, spec §4.2). Never throws. */
export function parseChatFrame(body: unknown): Parsed<ChatCommand> {
  const obj = parseJsonObject(body);
  return obj.ok ? parseChatCommand(obj.value) : obj;
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
