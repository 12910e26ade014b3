/** The synth-time validators (lib/validation.ts) as fast-check properties. */
import { Lazy, Token } from 'aws-cdk-lib';
import * as fc from 'fast-check';
import { MAX_ROUTES_PER_API, validateCustomRouteKey, validateFanoutConcurrency, validateRouteSelectionExpression, validateStageName } from '../../lib/validation';

describe('synth-time validators (fast-check properties)', () => {
  const pathSegment = fc.stringMatching(/^[A-Za-z0-9_]{1,8}$/);

  const jsonPath = fc.array(pathSegment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('.'));
  // Pieces of the spec §3 grammar; static text never contains `$` or `\` here, so each piece stays what it is.

  const piece = fc.oneof(
    jsonPath.map((p) => `$request.body.${p}`),
    jsonPath.map((p) => `\${request.body.${p}}`),
    fc.constant('\\$'),
    fc.stringMatching(/^[A-Za-z0-9 /:_.-]{1,6}$/),
  );

  const validExpression = fc.array(piece, { minLength: 1, maxLength: 4 }).map((parts) => parts.join(''));

  test('PROPERTY: GIVEN any expression built from the spec §3 grammar WHEN validated THEN it is accepted', () => {
    fc.assert(fc.property(validExpression, (expression) => {
      validateRouteSelectionExpression(expression);
    }), { numRuns: 500 });
  });

  test('PROPERTY: GIVEN any string WHEN validated as an expression THEN it is accepted or refused with the named rule, never another error', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), (expression) => {
      try {
        validateRouteSelectionExpression(expression);
      } catch (error) {
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).message).toMatch(/^Invalid routeSelectionExpression '[\s\S]*': .* at position \d+\. A WebSocket route selection expression is made of/);
      }
    }), { numRuns: 1000 });
  });

  test('PROPERTY: GIVEN any string WHEN validated as a stage name THEN it is accepted exactly when it is 1–128 of [A-Za-z0-9_-]', () => {
    const boundary = fc.integer({ min: 0, max: 130 }).map((n) => 'a'.repeat(n));
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 130 }), fc.stringMatching(/^[A-Za-z0-9_-]{0,130}$/), boundary), (name) => {
      const expected = /^[A-Za-z0-9_-]{1,128}$/.test(name);
      if (expected) expect(() => validateStageName(name)).not.toThrow();
      else expect(() => validateStageName(name)).toThrow(/^Invalid stageName .*1 to 128 characters/s);
    }), { numRuns: 1000 });
  });

  test('PROPERTY: GIVEN any string WHEN validated as a custom route key THEN it is accepted exactly when non-empty, ≤ 128, not $-prefixed and new', () => {
    const existing = ['$connect', '$disconnect', '$default', 'join'];
    const boundary = fc.integer({ min: 0, max: 130 }).map((n) => 'k'.repeat(n));
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 130 }), fc.constantFrom('join', '$x', ''), boundary), (key) => {
      const expected = key.length > 0 && key.length <= 128 && !key.startsWith('$') && !existing.includes(key);
      if (expected) expect(() => validateCustomRouteKey(key, existing)).not.toThrow();
      else expect(() => validateCustomRouteKey(key, existing)).toThrow(/route key|Cannot add route|already/);
    }), { numRuns: 1000 });
  });

  test('PROPERTY: GIVEN any number WHEN validated as fanoutConcurrency THEN it is accepted exactly when a whole number from 1 to 1000', () => {
    fc.assert(fc.property(fc.oneof(fc.integer({ min: -5, max: 1100 }), fc.double({ noNaN: false })), (value) => {
      const expected = Number.isInteger(value) && value >= 1 && value <= 1000;
      if (expected) expect(() => validateFanoutConcurrency(value)).not.toThrow();
      else expect(() => validateFanoutConcurrency(value)).toThrow(/^Invalid fanoutConcurrency/);
    }), { numRuns: 1000 });
  });
});

/** Examples at each rule's boundary; comments name the mutant each was written to kill ("kills: ..."). */
describe('synth-time validators (examples at the boundaries)', () => {
  test('GIVEN a stage name, expression, route key and fanoutConcurrency given as unresolved tokens WHEN validated THEN none is checked', () => {
    // GIVEN tokens: their text ("${Token[...]}") or number (-1.8e289) would fail every rule if it were checked
    const stage = Lazy.string({ produce: () => 'prod' });
    const expression = Lazy.string({ produce: () => '$request.body.action' });
    const key = Token.asString({ Ref: 'RouteKeyParam' });
    const concurrency = Lazy.number({ produce: () => 5 });
    // WHEN / THEN (kills: each `if (Token.isUnresolved(...)) return` removed or turned false)
    expect(() => validateStageName(stage)).not.toThrow();
    expect(() => validateRouteSelectionExpression(expression)).not.toThrow();
    expect(() => validateCustomRouteKey(key, ['$connect'])).not.toThrow();
    expect(() => validateFanoutConcurrency(concurrency)).not.toThrow();
  });

  test('GIVEN an API at the route quota WHEN a route is added THEN refused, a token key included; one below the quota is accepted', () => {
    // GIVEN
    const full = Array.from({ length: MAX_ROUTES_PER_API }, (_, i) => `r${i}`);
    // WHEN / THEN (kills: `>=` → `>`, the count check moved after the token check)
    expect(() => validateCustomRouteKey('new', full)).toThrow(/^Cannot add route 'new': a WebSocket API has at most 300 routes \(API Gateway quota, raisable through AWS Support\)\.$/);
    expect(() => validateCustomRouteKey(Token.asString({ Ref: 'K' }), full)).toThrow(/at most 300 routes/);
    expect(() => validateCustomRouteKey('new', full.slice(1))).not.toThrow();
  });

  test('GIVEN route keys at each rule WHEN validated THEN the rule that refuses them is named', () => {
    // kills: each check removed or its message emptied, `> 128` → `>= 128`
    expect(() => validateCustomRouteKey('', [])).toThrow(/^Invalid route key '': a route key must not be empty\.$/);
    expect(() => validateCustomRouteKey('k'.repeat(129), [])).toThrow(/^Invalid route key 'k{20}…' \(129 characters\): a route key is at most 128 characters\.$/);
    expect(() => validateCustomRouteKey('k'.repeat(128), [])).not.toThrow();
    expect(() => validateCustomRouteKey('$disconnect', [])).toThrow(/^Cannot add route '\$disconnect': the construct creates the \$connect, \$disconnect, \$default routes itself\. Configure them through the construct props instead\.$/);
    expect(() => validateCustomRouteKey('$join', [])).toThrow(/^Invalid route key '\$join': custom route keys must not start with '\$' \(only \$connect, \$disconnect, \$default may\)\. Rename the route, e\.g\. 'join'\.$/);
    expect(() => validateCustomRouteKey('join', ['join'])).toThrow(/^Cannot add route 'join': the API already has a route with this key\.$/);
    expect(() => validateCustomRouteKey('jo$in', ['join'])).not.toThrow();
  });

  test.each([
    ['', 0, 'the expression is empty'],
    ['a$b', 1, 'a \\$ that starts no'],
    ['ab\\$$', 4, 'a \\$ that starts no'],
    ['$request.body.a$', 15, 'a \\$ that starts no'],
    ['${request.body.a}$', 17, 'a \\$ that starts no'],
    ['$request.bodyx', 0, 'a \\$ that starts no'],
    ['${request.body.a', 0, 'a \\$ that starts no'],
    ['$request.body.', 0, 'a \\$ that starts no'],
  ])('GIVEN the expression %j WHEN validated THEN refused at position %i', (expression, position, problem) => {
    // kills: `position += 2` after `\$` → `+= 1`, `position += match[0].length` changed, the empty check removed,
    // the ?? between the bare and braced forms → &&
    expect(() => validateRouteSelectionExpression(expression)).toThrow(
      new RegExp(`^Invalid routeSelectionExpression '.*': ${problem}.* at position ${position}\\. A WebSocket route selection expression is made of`),
    );
  });

  test('GIVEN an invalid expression WHEN validated THEN the whole message explains the grammar with an example', () => {
    // kills: the message-text mutants of the grammar explanation
    expect(() => validateRouteSelectionExpression('$x')).toThrow(
      new Error(
        "Invalid routeSelectionExpression '$x': a $ that starts no $request.body.<path> variable (the only variable source for WebSocket routes; " +
          'write \\$ for a literal $) at position 0. A WebSocket route selection expression is made of $request.body.<path>, ' +
          '${request.body.<path>}, static text and \\$ for a literal dollar sign (for example $request.body.action).',
      ),
    );
  });

  test.each(['$request.body.action', '${request.body.a.b_1}-x', '\\$default', 'v1/${request.body.a}${request.body.b}', 'static'])(
    'GIVEN the valid expression %j WHEN validated THEN it is accepted',
    (expression) => {
      expect(() => validateRouteSelectionExpression(expression)).not.toThrow();
    },
  );

  test('GIVEN stage names at the boundaries WHEN validated THEN 1 and 128 characters pass, 0, 129 and other characters are refused', () => {
    // kills: the regex's anchors or quantifier changed
    expect(() => validateStageName('a')).not.toThrow();
    expect(() => validateStageName('A-z_9'.repeat(25) + 'abc')).not.toThrow();
    expect(() => validateStageName('')).toThrow(/^Invalid stageName '': a WebSocket API stage name must be 1 to 128 characters of letters, digits, hyphens \(-\) and underscores \(_\)\.$/);
    expect(() => validateStageName('a'.repeat(129))).toThrow(/Invalid stageName/);
    expect(() => validateStageName('$default')).toThrow(/Invalid stageName '\$default'/);
    expect(() => validateStageName('prod stage')).toThrow(/Invalid stageName/);
  });

  test('GIVEN fanoutConcurrency at the boundaries WHEN validated THEN 1 and 1000 pass, 0, 1001 and 2.5 are refused with the rule', () => {
    // kills: `< 1` → `<= 1`, `> MAX` → `>= MAX`, Number.isInteger removed
    expect(() => validateFanoutConcurrency(1)).not.toThrow();
    expect(() => validateFanoutConcurrency(1000)).not.toThrow();
    for (const bad of [0, 1001, 2.5]) {
      expect(() => validateFanoutConcurrency(bad)).toThrow(
        new RegExp(`^Invalid fanoutConcurrency ${bad}: it must be a whole number from 1 to 1000 \\(the most PostToConnection calls the sendmessage handler makes at once\\)\\.$`),
      );
    }
  });
});
