/**
 * Reads a WebSocket message body as a JSON object, safely: never throws, refuses oversized or deeply nested
 * text before `JSON.parse` runs, and refuses keys that could reach an object's prototype. Internal to the gateway's
 * and the example's handlers (not part of the public runtime).
 */

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** API Gateway never delivers a message over 128 KB; anything longer is refused unread. */
export const MAX_FRAME_CHARS = 128 * 1024;
/** The valid shapes nest two levels deep; a little slack, then refuse before JSON.parse runs. */
export const MAX_NESTING = 8;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Quotes a client-supplied value for an error message, shortened so the reply stays small. */
export function quote(value: string): string {
  return value.length > 64 ? `${JSON.stringify(value.slice(0, 64))}…` : JSON.stringify(value);
}

export function fail<T>(error: string): Parsed<T> {
  return { ok: false, error };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
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

/**
 * A message body as a JSON object, or why it is not one. `expected` ends every error about the body's form
 * (e.g. `expected a JSON object such as {...}`).
 */
export function parseJsonObjectBody(body: unknown, expected: string): Parsed<Record<string, unknown>> {
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
