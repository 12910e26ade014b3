/**
 * local/vtl: API Gateway mapping templates rendered with velocityjs, and the `$input`, `$util`, `$context`,
 * `$stageVariables` variables (pure unit tests, no emulator).
 */
import { escapeJavaScript, renderTemplate, selectJsonPath, TemplateError, urlDecode, urlEncode, util, type TemplateVariables } from '../../local/vtl';

const variables = (body: string, authorizer?: Record<string, unknown>): TemplateVariables => ({
  body,
  stageVariables: { colour: 'blue' },
  context: {
    connectionId: 'AbC123=',
    routeKey: 'send',
    requestId: 'req-1',
    messageId: 'msg-1',
    eventType: 'MESSAGE',
    stage: 'prod',
    apiId: 'a1b2c3d4e5',
    domainName: '127.0.0.1:3001',
    requestTimeEpoch: 1700000000000,
    requestTime: '14/Nov/2023:22:13:20 +0000',
    connectedAt: 1699999990000,
    identity: { sourceIp: '127.0.0.1' },
    ...(authorizer ? { authorizer } : {}),
  },
});

describe('renderTemplate: $input', () => {
  test('GIVEN a JSON body WHEN a template reads $input.body, $input.json and $input.path THEN it gets the text, JSON text and values', () => {
    // GIVEN
    const body = JSON.stringify({ action: 'send', data: { room: 'r1', tags: ['a', 'b'] }, 'odd key': 1 });

    // WHEN
    const out = renderTemplate(
      '$input.body|$input.json(\'$.data\')|$input.path(\'$.data.room\')|$input.path(\'$.data.tags\').size()|$input.json(\'$.data.tags[1]\')|$input.path("$[\'odd key\']")|$input.json(\'$.missing\')|',
      variables(body),
      'test',
    );

    // THEN
    expect(out).toBe(`${body}|{"room":"r1","tags":["a","b"]}|r1|2|"b"|1||`);
  });

  test('GIVEN $input.path over an object WHEN #foreach walks it THEN Velocity iterates its values', () => {
    // GIVEN
    const body = JSON.stringify({ items: [{ n: 1 }, { n: 2 }, { n: 3 }] });

    // WHEN
    const out = renderTemplate('#foreach($i in $input.path(\'$.items\'))$i.n#if($foreach.hasNext),#end#end', variables(body), 'test');

    // THEN
    expect(out).toBe('1,2,3');
  });

  test('GIVEN a body that is not JSON WHEN a template uses $input.body only THEN it renders; WHEN it uses $input.path THEN a TemplateError says the body is not JSON', () => {
    // GIVEN
    const vars = variables('plain text');

    // WHEN / THEN
    expect(renderTemplate('[$input.body]', vars, 'test')).toBe('[plain text]');
    expect(() => renderTemplate('x\n$input.path(\'$.a\')', vars, 'request template "$default"')).toThrow(/^request template "\$default" \(line 2\): .*\$input\.path: the body is not JSON/);
  });
});

describe('renderTemplate: $context, $stageVariables, authorizer', () => {
  test('GIVEN a connection with an authorizer WHEN a template reads $context and $stageVariables THEN it gets the connection facts', () => {
    // GIVEN
    const vars = variables('{}', { principalId: 'alice', role: 'admin' });

    // WHEN
    const out = renderTemplate(
      '$context.connectionId $context.routeKey $context.requestId $context.messageId $context.eventType $context.stage $context.apiId $context.domainName $context.requestTimeEpoch $context.identity.sourceIp $context.authorizer.principalId $context.authorizer.role $stageVariables.colour',
      vars,
      'test',
    );

    // THEN
    expect(out).toBe('AbC123= send req-1 msg-1 MESSAGE prod a1b2c3d4e5 127.0.0.1:3001 1700000000000 127.0.0.1 alice admin blue');
  });

  test('GIVEN a missing variable WHEN rendered THEN Velocity prints the reference and $!quiet prints nothing', () => {
    expect(renderTemplate('[$nothing.here][$!nothing]', variables('{}'), 'test')).toBe('[$nothing.here][]');
  });
});

describe('$util', () => {
  test('GIVEN quotes, backslashes, slashes, control and non-ASCII characters WHEN escapeJavaScript THEN they are escaped as Java does', () => {
    expect(escapeJavaScript('say "hi" it\'s a\\b /x\n\t\u0001é')).toBe('say \\"hi\\" it\\\'s a\\\\b \\/x\\n\\t\\u0001\\u00E9');
    expect(renderTemplate('{"t": "$util.escapeJavaScript($input.path(\'$.t\'))"}', variables(JSON.stringify({ t: 'a "b"' })), 'test')).toBe('{"t": "a \\"b\\""}');
  });

  test('GIVEN form text WHEN urlEncode/urlDecode THEN spaces are +, reserved characters %XX, and decoding inverts it', () => {
    expect(urlEncode('a b&c=d/é*')).toBe('a+b%26c%3Dd%2F%C3%A9*');
    expect(urlDecode('a+b%26c%3Dd%2F%C3%A9*')).toBe('a b&c=d/é*');
  });

  test('GIVEN text WHEN base64Encode/base64Decode THEN they round-trip UTF-8', () => {
    expect(util.base64Encode('héllo')).toBe('aMOpbGxv');
    expect(renderTemplate('$util.base64Decode("aMOpbGxv")', variables('{}'), 'test')).toBe('héllo');
  });

  test('GIVEN JSON text WHEN parseJson THEN the value is usable; GIVEN other text THEN a TemplateError names parseJson', () => {
    expect(renderTemplate('#set($o = $util.parseJson($input.path(\'$.inner\')))$o.k', variables(JSON.stringify({ inner: '{"k":"v"}' })), 'test')).toBe('v');
    expect(() => renderTemplate('$util.parseJson("{nope")', variables('{}'), 'tpl')).toThrow(/^tpl \(line 1\): .*\$util\.parseJson: /);
  });
});

describe('template errors', () => {
  test('GIVEN a syntax error on line 3 WHEN rendered THEN a TemplateError names the template and line 3', () => {
    // GIVEN
    const template = '{\n  "a": 1,\n  #if($input.body\n}';

    // WHEN
    let error: unknown;
    try {
      renderTemplate(template, variables('{}'), 'request template "$default" of integration S/I (route r)');
    } catch (e) {
      error = e;
    }

    // THEN
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).line).toBe(3);
    expect((error as TemplateError).message).toMatch(/^request template "\$default" of integration S\/I \(route r\) \(line 3\): Parse error/);
  });

  test('GIVEN an unsupported JSONPath WHEN selected THEN a TemplateError says which forms work', () => {
    expect(() => selectJsonPath({ a: [1] }, '$.a[*]')).toThrow(/JSONPath "\$\.a\[\*\]" is not supported/);
    expect(() => selectJsonPath({}, 'a.b')).toThrow(/must start with \$/);
    expect(selectJsonPath({ a: { b: [5, 6] } }, '$.a.b[1]')).toBe(6);
    expect(selectJsonPath({ a: 1 }, '$.x.y')).toBeUndefined();
  });
});
