/**
 * The route selection expression evaluator (spec §3).
 *
 * Grammar: static text, `$request.body.<path>` (the path runs over letters, digits, `_`, `.` and `[...]`),
 * `${request.body.<path>}` (braces delimit the variable, so it can sit next to static text), and `\$` for a
 * literal dollar sign (`\$default` → `$default`). Evaluation is single-pass, never recursive.
 *
 * Stringification of the selected value (spec §3):
 * - string → itself; missing path → "" (documented by AWS);
 * - array → "[item1, item2]" (documented by AWS), items stringified by these same rules;
 * - number / boolean → `String(value)` ("5", "true"): [UNCONFIRMED] in the spec, our choice;
 * - null → "" (treated like a missing value): [UNCONFIRMED], our choice;
 * - object → its JSON text: [UNCONFIRMED], our choice (expressions should select scalars).
 *
 * A body that is not JSON, or JSON that is not an object, cannot be evaluated (spec §3 [DOC] for non-JSON,
 * [INF] for non-objects): `evaluateRouteSelection` returns undefined and the caller falls back to `$default`.
 * An expression with no variable is static and evaluates without looking at the body.
 */

type Segment = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'body'; readonly path: PathStep[] };
type PathStep = string | number;

const BODY_PREFIX = 'request.body';

/** Parses an expression once; throws on grammar the API could not have been deployed with (e.g. an unclosed `${`). */
export function parseRouteSelectionExpression(expression: string): Segment[] {
  const segments: Segment[] = [];
  let text = '';
  let i = 0;
  const flushText = (): void => {
    if (text !== '') segments.push({ kind: 'text', text });
    text = '';
  };
  while (i < expression.length) {
    const ch = expression[i];
    if (ch === '\\' && expression[i + 1] === '$') {
      text += '$';
      i += 2;
    } else if (ch === '$' && expression[i + 1] === '{') {
      const end = expression.indexOf('}', i + 2);
      if (end < 0) throw new Error(`route selection expression "${expression}": unclosed "\${" at ${i}`);
      flushText();
      segments.push({ kind: 'body', path: parseVariable(expression.slice(i + 2, end), expression) });
      i = end + 1;
    } else if (ch === '$' && expression.startsWith(BODY_PREFIX, i + 1)) {
      const match = /^[A-Za-z0-9_.]*(?:\[[^\]]*\][A-Za-z0-9_.]*)*/.exec(expression.slice(i + 1));
      const variable = match ? match[0] : '';
      flushText();
      segments.push({ kind: 'body', path: parseVariable(variable, expression) });
      i += 1 + variable.length;
    } else {
      text += ch;
      i += 1;
    }
  }
  flushText();
  return segments;
}

function parseVariable(variable: string, expression: string): PathStep[] {
  if (variable !== BODY_PREFIX && !variable.startsWith(`${BODY_PREFIX}.`) && !variable.startsWith(`${BODY_PREFIX}[`)) {
    throw new Error(
      `route selection expression "${expression}": only request.body variables exist for WebSocket routes, got "${variable}"`,
    );
  }
  return parseJsonPath(variable.slice(BODY_PREFIX.length));
}

/** `.a.b[0]['c d']` → ['a', 'b', 0, 'c d']. */
function parseJsonPath(path: string): PathStep[] {
  const steps: PathStep[] = [];
  const pattern = /\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/gy;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(path)) !== null) {
    if (match[1] !== undefined) steps.push(match[1]);
    else if (match[2] !== undefined) steps.push(Number(match[2]));
    else steps.push(match[3] ?? match[4]);
    if (pattern.lastIndex === path.length) break;
  }
  return steps;
}

/** Stringifies a selected JSON value by the rules in the header comment. */
export function stringifySelected(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(stringifySelected).join(', ')}]`;
  return JSON.stringify(value);
}

function select(body: unknown, path: PathStep[]): unknown {
  let current: unknown = body;
  for (const step of path) {
    if (current === null || typeof current !== 'object') return undefined;
    if (typeof step === 'number' && !Array.isArray(current)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, step)) return undefined;
    current = (current as Record<string | number, unknown>)[step];
  }
  return current;
}

/** A compiled expression: evaluates message bodies to a route key candidate. */
export class RouteSelector {
  private readonly segments: Segment[];
  private readonly isStatic: boolean;

  constructor(readonly expression: string) {
    this.segments = parseRouteSelectionExpression(expression);
    this.isStatic = this.segments.every((s) => s.kind === 'text');
  }

  /** The evaluated key, or undefined when the body cannot be evaluated (not JSON / not an object). Never throws. */
  evaluate(body: string): string | undefined {
    let parsed: unknown;
    if (!this.isStatic) {
      try {
        parsed = JSON.parse(body);
      } catch {
        return undefined;
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
    }
    return this.segments.map((s) => (s.kind === 'text' ? s.text : stringifySelected(select(parsed, s.path)))).join('');
  }
}

/**
 * Picks the route key for a message (spec §3): the evaluated key when a route has exactly that key
 * (case-sensitive), else `$default` when it exists, else undefined (the caller sends the Forbidden frame).
 */
export function selectRouteKey(selector: RouteSelector, routeKeys: ReadonlySet<string>, body: string): string | undefined {
  const key = selector.evaluate(body);
  if (key !== undefined && !key.startsWith('$') && routeKeys.has(key)) return key;
  return routeKeys.has('$default') ? '$default' : undefined;
}
