/** The synth-time validators (lib/validation.ts) as fast-check properties. */
import * as fc from 'fast-check';
import { validateCustomRouteKey, validateFanoutConcurrency, validateRouteSelectionExpression, validateStageName } from '../../lib/validation';

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
