/**
 * local/gateway/request-validation: route RequestModels chosen by ModelSelectionExpression, draft-4 schemas
 * (ajv-draft-04), and the "Bad request body" frame. Pure unit tests; the frame on a live connection is in
 * integrations.test.ts.
 */
import type { RouteModel } from '../../local/model';
import { badRequestBodyFrame, RequestValidator } from '../../local/gateway/request-validation';

const route = (validation: RouteModel['validation']): RouteModel => ({
  routeId: 'abc1234',
  routeKey: 'send',
  authorizationType: 'NONE',
  apiKeyRequired: false,
  hasRouteResponse: false,
  ...(validation ? { validation } : {}),
});

const message = { name: 'Message', schema: { type: 'object', required: ['text'], properties: { text: { type: 'string', maxLength: 5 } }, additionalProperties: true } };
const join = { name: 'Join', schema: { type: 'object', required: ['room'], properties: { room: { type: 'string', pattern: '^[a-z]+$' } } } };

describe('RequestValidator', () => {
  test('GIVEN a route without a model selection expression WHEN any body arrives THEN it is valid (not validated)', () => {
    const r = route(undefined);
    expect(new RequestValidator([r]).validate(r, 'not json')).toEqual({ valid: true });
  });

  test('GIVEN a $default model WHEN a body matches or breaks it THEN valid, or invalid naming the model and the failed rule', () => {
    // GIVEN
    const r = route({ modelSelectionExpression: '$default', models: { $default: message } });
    const validator = new RequestValidator([r]);

    // WHEN / THEN
    expect(validator.validate(r, JSON.stringify({ text: 'hi' }))).toEqual({ valid: true });
    expect(validator.validate(r, JSON.stringify({ text: 'too long' }))).toEqual({ valid: false, reason: 'model Message: /text must NOT have more than 5 characters' });
    expect(validator.validate(r, JSON.stringify({}))).toEqual({ valid: false, reason: "model Message: (root) must have required property 'text'" });
    expect(validator.validate(r, '{broken')).toEqual({ valid: false, reason: expect.stringMatching(/^the body is not JSON .*; model Message$/) });
  });

  test('GIVEN ${request.body.type} selecting between models WHEN bodies of each type arrive THEN each is checked against its own model, unknown types against $default', () => {
    // GIVEN
    const r = route({ modelSelectionExpression: '${request.body.type}', models: { join, $default: message } });
    const validator = new RequestValidator([r]);

    // WHEN / THEN
    expect(validator.validate(r, JSON.stringify({ type: 'join', room: 'lobby' }))).toEqual({ valid: true });
    expect(validator.validate(r, JSON.stringify({ type: 'join', room: 'Lobby!' }))).toEqual({ valid: false, reason: 'model Join: /room must match pattern "^[a-z]+$"' });
    expect(validator.validate(r, JSON.stringify({ type: 'chat', text: 'yo' }))).toEqual({ valid: true });
  });

  test('GIVEN no model for the evaluated key and no $default WHEN a body arrives THEN validation fails, as API Gateway documents', () => {
    const r = route({ modelSelectionExpression: '${request.body.type}', models: { join } });
    expect(new RequestValidator([r]).validate(r, JSON.stringify({ type: 'chat' }))).toEqual({ valid: false, reason: 'no request model has key "chat" and there is no $default model' });
  });

  test('GIVEN draft-4 specifics (exclusiveMaximum as a boolean, id) WHEN validated THEN they are understood', () => {
    // GIVEN
    const draft4 = { name: 'Score', schema: { $schema: 'http://json-schema.org/draft-04/schema#', id: 'score', type: 'object', properties: { n: { type: 'number', maximum: 10, exclusiveMaximum: true } } } };
    const r = route({ modelSelectionExpression: '\\$default', models: { $default: draft4 } });
    const validator = new RequestValidator([r]);

    // WHEN / THEN
    expect(validator.validate(r, JSON.stringify({ n: 9.5 }))).toEqual({ valid: true });
    expect(validator.validate(r, JSON.stringify({ n: 10 }))).toEqual({ valid: false, reason: 'model Score: /n must be < 10' });
  });

  test('GIVEN a schema draft 4 cannot compile WHEN a body selects it THEN validation fails naming the model', () => {
    const broken = { name: 'Broken', schema: { type: 'object', properties: { a: { type: 'no-such-type' } } } };
    const r = route({ modelSelectionExpression: '$default', models: { $default: broken } });
    expect(new RequestValidator([r]).validate(r, '{}')).toEqual({ valid: false, reason: expect.stringMatching(/^model Broken is not a valid JSON Schema draft 4: /) });
  });
});

describe('badRequestBodyFrame', () => {
  test('GIVEN a connection and message id WHEN the frame is built THEN it has API Gateway\'s text and spacing', () => {
    expect(badRequestBodyFrame('C1=', 'M1=')).toBe('{"message" : "Bad request body", "connectionId": "C1=", "messageId": "M1="}');
  });
});
