/**
 * The example chat's wire protocol (shared/design.md, "Example app protocol"), as the page sees it.
 * Frames are JSON text. The page does not validate room names or text: the server does, and its
 * error frames are shown to the user as they are.
 */

/** What the page sends. `room` undefined on `sendmessage` means "everyone". */
export type ClientFrame =
  | { readonly action: 'join'; readonly data: { readonly room: string } }
  | { readonly action: 'leave'; readonly data: { readonly room: string } }
  | { readonly action: 'sendmessage'; readonly data: { readonly room?: string; readonly text: string } };

/** What the page understands from the server. */
export type ServerFrame =
  | { readonly kind: 'joined'; readonly room: string }
  | { readonly kind: 'left'; readonly room: string }
  | { readonly kind: 'message'; readonly room: string | null; readonly from: string; readonly text: string; readonly at: number }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'unrecognised'; readonly raw: string };

export function joinFrame(room: string): ClientFrame {
  return { action: 'join', data: { room } };
}

export function leaveFrame(room: string): ClientFrame {
  return { action: 'leave', data: { room } };
}

/** A message to `room`, or to every connection when `room` is undefined. */
export function sendMessageFrame(text: string, room?: string): ClientFrame {
  return room === undefined ? { action: 'sendmessage', data: { text } } : { action: 'sendmessage', data: { room, text } };
}

/**
 * Reads one text frame. Besides the chat's own frames this recognises API Gateway's frames without a
 * `type` (`{"message": "Forbidden", ...}`, `{"message": "Internal server error", ...}`) as errors.
 */
export function parseServerFrame(raw: string): ServerFrame {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { kind: 'unrecognised', raw };
  }
  if (!isRecord(value)) return { kind: 'unrecognised', raw };
  switch (value.type) {
    case 'joined':
    case 'left':
      return typeof value.room === 'string' ? { kind: value.type, room: value.room } : { kind: 'unrecognised', raw };
    case 'message':
      if (
        (typeof value.room === 'string' || value.room === null) &&
        typeof value.from === 'string' &&
        typeof value.text === 'string' &&
        typeof value.at === 'number'
      ) {
        return { kind: 'message', room: value.room, from: value.from, text: value.text, at: value.at };
      }
      return { kind: 'unrecognised', raw };
    case 'error':
      return typeof value.message === 'string' ? { kind: 'error', message: value.message } : { kind: 'unrecognised', raw };
    case undefined:
      return typeof value.message === 'string' ? { kind: 'error', message: value.message } : { kind: 'unrecognised', raw };
    default:
      return { kind: 'unrecognised', raw };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
