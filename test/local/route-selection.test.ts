/**
 * The emulator's route selection expression evaluator (local/gateway/route-selection.ts) as a pure function: no
 * gateway is started, so `npm run mutate` can run it in seconds. The gateway-level behaviour (a message reaching
 * the selected route's integration) stays in gateway.test.ts.
 * Comments name the mutant each test was written to kill ("kills: ...").
 */
import fc from 'fast-check';
import { RouteSelector, parseRouteSelectionExpression, selectRouteKey, stringifySelected } from '../../local/gateway/route-selection';

const evaluate = (expression: string, body: unknown): string | undefined =>
  new RouteSelector(expression).evaluate(typeof body === 'string' ? body : JSON.stringify(body));

describe('parseRouteSelectionExpression: the grammar', () => {
  test('GIVEN static text, an escaped dollar, a braced and a bare variable WHEN parsed THEN one segment each, text merged', () => {
    // WHEN
    const segments = parseRouteSelectionExpression('v1\\$x/${request.body.a}-$request.body.b[2]["c d"]');
    // THEN (kills: `text += '$'` → '', `i += 2` → `i -= 2`/`i += 1`, flushText guard `text !== ''` → true)
    expect(segments).toEqual([
      { kind: 'text', text: 'v1$x/' },
      { kind: 'body', path: ['a'] },
      { kind: 'text', text: '-' },
      { kind: 'body', path: ['b', 2, 'c d'] },
    ]);
  });

  test('GIVEN a backslash not before a dollar, and a dollar before neither "{" nor request.body WHEN parsed THEN both are plain text', () => {
    // GIVEN / WHEN / THEN (kills: `&& expression[i + 1] === '$'` → `||`, `ch === '$' && ...startsWith` → `||`)
    expect(parseRouteSelectionExpression('a\\b$connect$request.bod')).toEqual([{ kind: 'text', text: 'a\\b$connect$request.bod' }]);
    // An expression that is only static text has no empty segments around it (kills: flushText guard removed).
    expect(parseRouteSelectionExpression('$default')).toEqual([{ kind: 'text', text: '$default' }]);
    // Braces and the words request.body are variables only after a "$" (kills: `ch === '$' &&` → `true &&` in both branches).
    expect(parseRouteSelectionExpression('x{y}request.body.a')).toEqual([{ kind: 'text', text: 'x{y}request.body.a' }]);
    expect(parseRouteSelectionExpression('')).toEqual([]);
  });

  test('GIVEN two variables side by side WHEN parsed THEN each ends where its braces or its path characters end', () => {
    // WHEN / THEN (kills: `indexOf('}', i + 2)` → `i - 2` finding an earlier brace, `i = end + 1` → `end - 1`)
    expect(parseRouteSelectionExpression('${request.body.a}${request.body.b}')).toEqual([
      { kind: 'body', path: ['a'] },
      { kind: 'body', path: ['b'] },
    ]);
    // The bare form's path runs over letters, digits, `_`, `.` and brackets, and stops at anything else
    // (kills: the character-class regex's `*` → nothing, the bracket group's `*` → nothing).
    expect(parseRouteSelectionExpression('$request.body.a_1.B2[0][1].c:x')).toEqual([
      { kind: 'body', path: ['a_1', 'B2', 0, 1, 'c'] },
      { kind: 'text', text: ':x' },
    ]);
  });

  test("GIVEN every path step form WHEN parsed THEN names, multi-digit indexes and quoted keys (with dots and brackets inside) come out in order", () => {
    // WHEN / THEN (kills: `[^.[\]]+` → one character, `\d+` → one digit, `Number(...)` → the string, quoted-key group swaps)
    expect(parseRouteSelectionExpression("${request.body.ab.cd[12]['e.f']['']}")).toEqual([{ kind: 'body', path: ['ab', 'cd', 12, 'e.f', ''] }]);
    expect(parseRouteSelectionExpression('${request.body["x[y]"].z}')).toEqual([{ kind: 'body', path: ['x[y]', 'z'] }]);
    // The body itself: no path at all.
    expect(parseRouteSelectionExpression('${request.body}')).toEqual([{ kind: 'body', path: [] }]);
    expect(parseRouteSelectionExpression('${request.body[0]}')).toEqual([{ kind: 'body', path: [0] }]);
  });

  test('GIVEN grammar AWS would refuse WHEN parsed THEN a clear error naming the expression', () => {
    // kills: the unclosed-brace check `end < 0` → `end <= 0` / false
    expect(() => parseRouteSelectionExpression('x${request.body.action')).toThrow(/route selection expression "x\$\{request\.body\.action": unclosed "\$\{" at 1/);
    // kills: each of the three prefix checks in parseVariable (`!==` → `===`, `&&` → `||`, startsWith → endsWith)
    expect(() => parseRouteSelectionExpression('${request.header.x}')).toThrow(/only request\.body variables exist for WebSocket routes, got "request\.header\.x"/);
    expect(() => parseRouteSelectionExpression('${request.bodyx}')).toThrow(/got "request\.bodyx"/);
    expect(() => parseRouteSelectionExpression('${x.request.body.a}')).toThrow(/got "x\.request\.body\.a"/);
    expect(() => parseRouteSelectionExpression('${}')).toThrow(/got ""/);
  });
});

describe('stringifySelected: the selected value as a route key', () => {
  test.each([
    ['missing', undefined, ''],
    ['null', null, ''],
    ['a string', 'join', 'join'],
    ['an empty string', '', ''],
    ['a number', 5, '5'],
    ['zero', 0, '0'],
    ['a boolean', false, 'false'],
    ['an array, items by the same rules', ['x', 1, null, [true]], '[x, 1, , [true]]'],
    ['an empty array', [], '[]'],
    ['an object', { k: 'v', n: [1] }, '{"k":"v","n":[1]}'],
  ])('GIVEN %s WHEN stringified THEN %j', (_name, value, expected) => {
    // kills: each type test turned true/false, the `, ` separator → '', the brackets → ''
    expect(stringifySelected(value)).toBe(expected);
  });
});

describe('RouteSelector.evaluate: selecting from a message body', () => {
  test('GIVEN a body that is not a JSON object WHEN a variable expression is evaluated THEN undefined (the caller falls back to $default)', () => {
    // kills: each part of `parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)` and the catch
    for (const body of ['nope', 'null', '[1]', '"join"', '5', 'true', '']) expect(evaluate('$request.body.action', body)).toBeUndefined();
  });

  test('GIVEN a static expression WHEN evaluated THEN the body is not read at all, JSON or not', () => {
    // kills: `isStatic` → false (the non-JSON body would make it undefined), `every` → `some`
    expect(evaluate('\\$default', 'not json')).toBe('$default');
    expect(evaluate('static', '[1]')).toBe('static');
    // An expression with text AND a variable is not static (kills `every` → `some`).
    expect(evaluate('x-${request.body.a}', 'not json')).toBeUndefined();
  });

  test('GIVEN nested objects and arrays WHEN selected THEN the value at the path, and "" for a missing step', () => {
    const body = { a: { b: [{ c: 'deep' }, 'second'] }, list: ['x', 'y'] };
    // kills: `current = current[step]` → body, loop removal
    expect(evaluate('$request.body.a.b[0].c', body)).toBe('deep');
    expect(evaluate('$request.body.a.b[1]', body)).toBe('second');
    expect(evaluate('$request.body.list[1]', body)).toBe('y');
    expect(evaluate('$request.body.a.missing.deeper', body)).toBe('');
    expect(evaluate('$request.body.list[5]', body)).toBe('');
    // Several segments are joined with nothing between them (kills: `.join('')` → another separator).
    expect(evaluate('${request.body.list[0]}/${request.body.list[1]}:v', body)).toBe('x/y:v');
    // The whole body, with nothing selected: its JSON text.
    expect(evaluate('${request.body}', { a: 1 })).toBe('{"a":1}');
  });

  test('GIVEN a path through null, a string or a number WHEN selected THEN "" and never a throw', () => {
    // kills: `current === null` → false (reading a property of null throws), `typeof current !== 'object'` → false
    expect(evaluate('$request.body.a.b', { a: null })).toBe('');
    expect(evaluate('$request.body.a.length', { a: 'abc' })).toBe('');
    expect(evaluate('$request.body.a[0]', { a: 'abc' })).toBe('');
    expect(evaluate('$request.body.a.toFixed', { a: 5 })).toBe('');
  });

  test('GIVEN inherited keys (constructor, toString, __proto__) WHEN selected THEN "" (own properties only) and never a throw', () => {
    // kills: the hasOwnProperty check removed (constructor would select Object and stringify its JSON: undefined)
    expect(evaluate('$request.body.constructor', { action: 'x' })).toBe('');
    expect(evaluate('$request.body.toString', { action: 'x' })).toBe('');
    expect(evaluate('$request.body.__proto__', { action: 'x' })).toBe('');
    expect(evaluate('$request.body.constructor.name', { action: 'x' })).toBe('');
    // An own "constructor" key is selected like any other.
    expect(evaluate('$request.body.constructor', { constructor: 'join' })).toBe('join');
  });

  test('GIVEN [0] on an object with a "0" key WHEN selected THEN "" (an index selects only in an array), and .0 selects the key', () => {
    // kills: `typeof step === 'number' && !Array.isArray(current)` → false / `||`
    expect(evaluate('$request.body.o[0]', { o: { 0: 'zero' } })).toBe('');
    expect(evaluate('$request.body.o.0', { o: { 0: 'zero' } })).toBe('zero');
    expect(evaluate('$request.body.a[0]', { a: ['first'] })).toBe('first');
  });

  test('PROPERTY: GIVEN any body and any path WHEN evaluated THEN evaluate never throws and yields a string or undefined', () => {
    const step = fc.oneof(
      fc.constantFrom('.constructor', '.__proto__', '.toString', '.length', '.0', '[0]', '[1]', '.a'),
      fc.stringMatching(/^[A-Za-z0-9_]{1,5}$/).map((n) => `.${n}`),
    );
    const expression = fc.array(step, { minLength: 1, maxLength: 4 }).map((p) => `\${request.body${p.join('')}}`);
    const bodies = fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify({ a: v, 0: v, constructor: v })));
    fc.assert(
      fc.property(expression, bodies, (expr, text) => {
        const result = new RouteSelector(expr).evaluate(text);
        return result === undefined || typeof result === 'string';
      }),
      { numRuns: 500 },
    );
  });
});

describe('selectRouteKey: from the evaluated key to a route', () => {
  const selector = new RouteSelector('$request.body.action');
  const routes = new Set(['$connect', '$disconnect', '$default', 'join', 'Join2']);

  test('GIVEN a key that names a route WHEN selected THEN that route, matched case-sensitively', () => {
    // kills: `routeKeys.has(key)` → true, the whole condition → false
    expect(selectRouteKey(selector, routes, '{"action":"join"}')).toBe('join');
    expect(selectRouteKey(selector, routes, '{"action":"Join"}')).toBe('$default');
    expect(selectRouteKey(selector, routes, '{"action":"join2"}')).toBe('$default');
  });

  test.each(['$disconnect', '$connect', '$default'])(
    'GIVEN a selected key %s (a reserved route) WHEN selected THEN it never reaches that route: $default, or nothing without one',
    (reserved) => {
      // GIVEN
      const body = JSON.stringify({ action: reserved });
      // WHEN / THEN (kills: `!key.startsWith('$')` → true / removed, and `startsWith` → `endsWith`)
      expect(selectRouteKey(selector, routes, body)).toBe('$default');
      expect(selectRouteKey(selector, new Set(['$connect', '$disconnect', 'join']), body)).toBeUndefined();
    },
  );

  test('GIVEN a key with a "$" not at its start WHEN a route has exactly that key THEN that route', () => {
    // kills: `startsWith('$')` → `includes`-like mutants (`endsWith`)
    expect(selectRouteKey(selector, new Set(['a$', '$default']), '{"action":"a$"}')).toBe('a$');
  });

  test('GIVEN no route for the key WHEN selected THEN $default when it exists, else undefined', () => {
    // kills: `routeKeys.has('$default') ? '$default' : undefined` → either branch fixed
    expect(selectRouteKey(selector, routes, '{"action":"dance"}')).toBe('$default');
    expect(selectRouteKey(selector, new Set(['join']), '{"action":"dance"}')).toBeUndefined();
    expect(selectRouteKey(selector, new Set(['join']), 'not json')).toBeUndefined();
  });
});
