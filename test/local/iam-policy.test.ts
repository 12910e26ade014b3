/**
 * local/iam/policy.ts: identity-policy evaluation as IAM does it (explicit Deny wins, then Allow, else implicit
 * deny), wildcards, NotAction / NotResource, conditions reported as not evaluated, the AWS managed policies it
 * knows, and refusals that name the missing statement and the nearest miss.
 */
import { managedPolicyDocument, PolicyEvaluator } from '../../local/iam/policy';

const TABLE = 'arn:aws:dynamodb:us-east-1:123456789012:table/Connections';

/** The role most tests evaluate: wildcards, a Sid, a Deny, and NotAction / NotResource. */
function roleR(): PolicyEvaluator {
  return new PolicyEvaluator('role R', [
    {
      name: 'S/Policy',
      document: {
        Statement: [
          { Effect: 'Allow', Action: ['dynamodb:Query', 'dynamodb:Get*'], Resource: [TABLE, `${TABLE}/index/*`] },
          { Sid: 'Manage', Effect: 'Allow', Action: 'execute-api:ManageConnections', Resource: 'arn:aws:execute-api:us-east-1:123456789012:abc/prod/POST/@connections/*' },
          { Effect: 'Deny', Action: 'dynamodb:GetItem', Resource: `${TABLE}-secret` },
          { Effect: 'Allow', NotAction: ['dynamodb:*', 'execute-api:*'], NotResource: 'arn:aws:secretsmanager:*' },
        ],
      },
    },
  ]);
}

describe('PolicyEvaluator', () => {
  // Built in each test (not once when the file is collected): every test starts with an empty decision cache, and
  // mutation testing's per-test coverage sees the constructor run inside the tests that use it.
  let evaluator: PolicyEvaluator;
  beforeEach(() => {
    evaluator = roleR();
  });

  test('GIVEN allows with wildcards WHEN matching actions (any case) and resources THEN allowed naming the statement', () => {
    expect(evaluator.evaluate('dynamodb:GetItem', TABLE)).toEqual({ allowed: true, reason: 'allowed', detail: 'statement S/Policy#0' });
    expect(evaluator.evaluate('DynamoDB:query', `${TABLE}/index/byRoom`).allowed).toBe(true);
    expect(evaluator.evaluate('execute-api:ManageConnections', 'arn:aws:execute-api:us-east-1:123456789012:abc/prod/POST/@connections/x=').detail).toBe('statement S/Policy#Manage');
    // NotAction / NotResource: everything but DynamoDB and execute-api, on anything but Secrets Manager
    expect(evaluator.evaluate('sqs:SendMessage', 'arn:aws:sqs:us-east-1:123456789012:q').allowed).toBe(true);
    expect(evaluator.evaluate('secretsmanager:GetSecretValue', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:k').allowed).toBe(false);
  });

  test('GIVEN a Deny matching WHEN an Allow matches too THEN explicit deny wins', () => {
    const broad = new PolicyEvaluator('role B', [{ name: 'P', document: { Statement: [
      { Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' },
      { Effect: 'Deny', Action: 'dynamodb:DeleteItem', Resource: TABLE },
    ] } }]);
    expect(broad.evaluate('dynamodb:DeleteItem', TABLE)).toEqual({ allowed: false, reason: 'explicit deny', detail: `statement P#1 denies dynamodb:DeleteItem on ${TABLE}` });
    expect(broad.evaluate('dynamodb:PutItem', TABLE).allowed).toBe(true);
  });

  test('GIVEN no matching Allow WHEN evaluated THEN implicit deny naming the missing statement and the nearest miss', () => {
    expect(evaluator.evaluate('dynamodb:DeleteItem', TABLE)).toEqual({
      allowed: false,
      reason: 'implicit deny',
      detail: `missing statement: Allow dynamodb:DeleteItem on ${TABLE} (no statement of role R's 3 Allow statements matches; ` +
        `statement S/Policy#0 allows dynamodb:Query, dynamodb:Get* on that resource, but not dynamodb:DeleteItem)`,
    });
    expect(evaluator.evaluate('execute-api:ManageConnections', 'arn:aws:execute-api:us-east-1:123456789012:abc/dev/POST/@connections/x').detail)
      .toMatch(/statement S\/Policy#Manage allows execute-api:ManageConnections only on arn:aws:execute-api:us-east-1:123456789012:abc\/prod\/POST\/@connections\/\*\)$/);
    // the resource match is case-sensitive
    expect(evaluator.evaluate('dynamodb:Query', TABLE.toLowerCase()).allowed).toBe(false);
  });

  test('GIVEN a Condition WHEN compiled THEN it applies as if held and a warning says it is not evaluated', () => {
    const conditional = new PolicyEvaluator('role C', [{ name: 'P', document: { Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'true' } } } } }]);
    expect(conditional.warnings).toEqual(['role C: condition not evaluated in statement P#0 (Bool); it applies as if the condition held']);
    expect(conditional.evaluate('s3:GetObject', 'arn:aws:s3:::b/k').allowed).toBe(true);
  });

  test('GIVEN AWS managed policy ARNs WHEN looked up THEN known ones have their document, others none', () => {
    expect(managedPolicyDocument('arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole')).toMatchObject({ Statement: [{ Action: expect.arrayContaining(['logs:PutLogEvents']) }] });
    expect(managedPolicyDocument('arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess')).toBeDefined();
    expect(managedPolicyDocument('arn:aws:iam::aws:policy/SomethingElse')).toBeUndefined();
    expect(managedPolicyDocument('arn:aws:iam::123456789012:policy/Mine')).toBeUndefined();
  });
});

// Behaviours mutation testing (npm run mutate -- iam-policy) showed no test pinned down.
describe('PolicyEvaluator: wildcards, malformed statements, labels, near misses and the decision cache', () => {
  const S3 = 'arn:aws:s3:::my.bucket';

  test('GIVEN patterns with regex characters and "?" WHEN matched THEN "." "+" "(" are literal, "?" is exactly one character, "*" any text', () => {
    // GIVEN
    const p = new PolicyEvaluator('role W', [{ name: 'P', document: { Statement: [
      { Effect: 'Allow', Action: 's3:GetObject', Resource: [`${S3}/a+b(1)`, `${S3}/v?`, `${S3}/any/*`] },
    ] } }]);
    // WHEN / THEN
    expect(p.evaluate('s3:GetObject', `${S3}/a+b(1)`).allowed).toBe(true);
    expect(p.evaluate('s3:GetObject', 'arn:aws:s3:::myXbucket/a+b(1)').allowed).toBe(false);
    expect(p.evaluate('s3:GetObject', `${S3}/aab(1)`).allowed).toBe(false);
    expect(p.evaluate('s3:GetObject', `${S3}/v1`).allowed).toBe(true);
    expect(p.evaluate('s3:GetObject', `${S3}/v`).allowed).toBe(false);
    expect(p.evaluate('s3:GetObject', `${S3}/v12`).allowed).toBe(false);
    // "*" spans any characters, a line break included
    expect(p.evaluate('s3:GetObject', `${S3}/any/line\nbreak`).allowed).toBe(true);
  });

  test('GIVEN only an Action list WHEN the action differs in case THEN it matches; the resource in another case does not', () => {
    // GIVEN no NotAction statement that could allow it instead
    const p = new PolicyEvaluator('role K', [{ name: 'P', document: { Statement: { Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: TABLE } } }]);
    // WHEN / THEN
    expect(p.evaluate('DYNAMODB:putitem', TABLE)).toEqual({ allowed: true, reason: 'allowed', detail: 'statement P#0' });
    expect(p.evaluate('dynamodb:PutItem', TABLE.toUpperCase()).allowed).toBe(false);
  });

  test('GIVEN a document without statements, or none at all WHEN evaluated THEN nothing is allowed and nothing is warned', () => {
    // GIVEN
    const p = new PolicyEvaluator('role E', [{ name: 'Empty', document: { Version: '2012-10-17' } }, { name: 'Missing', document: undefined }]);
    // WHEN / THEN
    expect(p.warnings).toEqual([]);
    expect(p.evaluate('sqs:SendMessage', '*')).toEqual({
      allowed: false,
      reason: 'implicit deny',
      detail: "missing statement: Allow sqs:SendMessage on * (no statement of role E's 0 Allow statements matches)",
    });
  });

  test('GIVEN a statement with an Effect other than Allow/Deny WHEN compiled THEN it is ignored with a warning', () => {
    // GIVEN
    const p = new PolicyEvaluator('role X', [{ name: 'P', document: { Statement: [
      { Effect: 'allow', Action: '*', Resource: '*' },
      { Action: '*', Resource: '*' },
    ] } }]);
    // WHEN / THEN
    expect(p.warnings).toEqual(['role X: statement P#0 has Effect "allow"; ignored', 'role X: statement P#1 has Effect undefined; ignored']);
    expect(p.evaluate('sqs:SendMessage', '*').allowed).toBe(false);
  });

  test('GIVEN statements with an empty or non-string Sid WHEN they decide THEN they are named by their index', () => {
    // GIVEN
    const p = new PolicyEvaluator('role S', [{ name: 'P', document: { Statement: [
      { Sid: '', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' },
      { Sid: 7, Effect: 'Allow', Action: 'sqs:ReceiveMessage', Resource: '*' },
      { Sid: 'Named', Effect: 'Allow', Action: 'sqs:DeleteMessage', Resource: '*' },
    ] } }]);
    // WHEN / THEN
    expect(p.evaluate('sqs:SendMessage', 'q').detail).toBe('statement P#0');
    expect(p.evaluate('sqs:ReceiveMessage', 'q').detail).toBe('statement P#1');
    expect(p.evaluate('sqs:DeleteMessage', 'q').detail).toBe('statement P#Named');
  });

  test('GIVEN a Condition with two operators WHEN compiled THEN the warning lists both', () => {
    const p = new PolicyEvaluator('role C', [{ name: 'P', document: { Statement: [
      { Effect: 'Allow', Action: '*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'true' }, StringEquals: { 'aws:SourceVpc': 'vpc-1' } } },
    ] } }]);
    expect(p.warnings).toEqual(['role C: condition not evaluated in statement P#0 (Bool, StringEquals); it applies as if the condition held']);
  });

  test('GIVEN an unresolved intrinsic as a Resource WHEN evaluated THEN it matches nothing and the refusal shows it as JSON', () => {
    // GIVEN a resource the template did not resolve (e.g. an import of another stack)
    const p = new PolicyEvaluator('role I', [{ name: 'P', document: { Statement: [
      { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: [{ 'Fn::ImportValue': 'Other-Table' }, TABLE] },
    ] } }]);
    // WHEN / THEN
    expect(p.evaluate('dynamodb:GetItem', TABLE).allowed).toBe(true);
    expect(p.evaluate('dynamodb:GetItem', `${TABLE}2`).detail).toBe(
      `missing statement: Allow dynamodb:GetItem on ${TABLE}2 (no statement of role I's 1 Allow statements matches; ` +
        `statement P#0 allows dynamodb:GetItem only on {"Fn::ImportValue":"Other-Table"}, ${TABLE})`,
    );
  });

  test('GIVEN statements without Action/NotAction or Resource/NotResource WHEN evaluated THEN they match nothing', () => {
    const p = new PolicyEvaluator('role N', [{ name: 'P', document: { Statement: [
      { Effect: 'Allow', Resource: '*' },
      { Effect: 'Allow', Action: '*' },
    ] } }]);
    expect(p.evaluate('sqs:SendMessage', 'q').allowed).toBe(false);
  });

  test('GIVEN NotResource with two ARNs WHEN evaluated THEN a resource outside both is allowed, one in either is not', () => {
    const p = new PolicyEvaluator('role R2', [{ name: 'P', document: { Statement: { Effect: 'Allow', Action: 'sqs:*', NotResource: ['arn:q1', 'arn:q2'] } } }]);
    expect(p.evaluate('sqs:SendMessage', 'arn:q3')).toEqual({ allowed: true, reason: 'allowed', detail: 'statement P#0' });
    expect(p.evaluate('sqs:SendMessage', 'arn:q1').allowed).toBe(false);
    expect(p.evaluate('sqs:SendMessage', 'arn:q2').detail).toMatch(/statement P#0 allows sqs:SendMessage only on not arn:q1, arn:q2\)$/);
  });

  test('GIVEN NotAction / NotResource in another case WHEN evaluated THEN NotAction ignores case, NotResource does not', () => {
    // GIVEN
    const p = new PolicyEvaluator('role NC', [{ name: 'P', document: { Statement: [
      { Effect: 'Allow', NotAction: 'DynamoDB:*', Resource: TABLE },
      { Effect: 'Allow', Action: 'sqs:SendMessage', NotResource: 'arn:aws:sqs:us-east-1:123456789012:q1' },
    ] } }]);
    // WHEN / THEN
    expect(p.evaluate('dynamodb:GetItem', TABLE).allowed).toBe(false);
    expect(p.evaluate('sqs:SendMessage', 'ARN:AWS:SQS:US-EAST-1:123456789012:Q1')).toEqual({ allowed: true, reason: 'allowed', detail: 'statement P#1' });
    expect(p.evaluate('sqs:SendMessage', 'arn:aws:sqs:us-east-1:123456789012:q1').allowed).toBe(false);
    expect(p.evaluate('lambda:InvokeFunction', TABLE)).toEqual({ allowed: true, reason: 'allowed', detail: 'statement P#0' });
  });

  test('GIVEN a Deny with NotAction WHEN it decides THEN the refusal shows the actions it does not cover', () => {
    const p = new PolicyEvaluator('role ND', [{ name: 'P', document: { Statement: [
      { Effect: 'Allow', Action: '*', Resource: '*' },
      { Effect: 'Deny', NotAction: ['sqs:SendMessage', 'sqs:ReceiveMessage'], Resource: '*' },
    ] } }]);
    expect(p.evaluate('sqs:DeleteQueue', 'q')).toEqual({
      allowed: false, reason: 'explicit deny', detail: 'statement P#1 denies not sqs:SendMessage, sqs:ReceiveMessage on *',
    });
    expect(p.evaluate('sqs:SendMessage', 'q').allowed).toBe(true);
  });

  test('GIVEN an Allow of another service on the resource WHEN an action is implicitly denied THEN it is not offered as the near miss', () => {
    // GIVEN
    const p = new PolicyEvaluator('role M', [{ name: 'P', document: { Statement: [
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: TABLE },
      { Effect: 'Allow', Action: 'dynamodb:Query', Resource: `${TABLE}/index/*` },
    ] } }]);
    // WHEN / THEN: nothing of DynamoDB on that resource, and no statement allows the action elsewhere
    expect(p.evaluate('dynamodb:DeleteItem', TABLE).detail).toBe(
      `missing statement: Allow dynamodb:DeleteItem on ${TABLE} (no statement of role M's 2 Allow statements matches)`,
    );
  });

  test('GIVEN repeated evaluations WHEN cached THEN a decision is reused until 10,001 are held, then the cache starts over', () => {
    // GIVEN
    const p = new PolicyEvaluator('role Q', [{ name: 'P', document: { Statement: { Effect: 'Allow', Action: 'sqs:*', Resource: '*' } } }]);
    const first = p.evaluate('sqs:SendMessage', 'q0');
    // WHEN another decision is made THEN the first is still the cached one
    p.evaluate('sqs:SendMessage', 'q1');
    expect(p.evaluate('sqs:SendMessage', 'q0')).toBe(first);
    // WHEN 10,001 distinct decisions are held THEN the first is still cached
    for (let i = 2; i <= 10_000; i++) p.evaluate('sqs:SendMessage', `q${i}`);
    expect(p.evaluate('sqs:SendMessage', 'q0')).toBe(first);
    // WHEN one more is made THEN the cache was cleared first: the first decision is made again (equal, not the same)
    p.evaluate('sqs:SendMessage', 'q10001');
    const again = p.evaluate('sqs:SendMessage', 'q0');
    expect(again).toEqual(first);
    expect(again).not.toBe(first);
  });

  test('GIVEN managed policy ARNs of other partitions or with a prefix WHEN looked up THEN partitions are known, a prefixed ARN is not', () => {
    expect(managedPolicyDocument('arn:aws-cn:iam::aws:policy/AmazonSQSFullAccess')).toEqual({ Statement: [{ Effect: 'Allow', Action: ['sqs:*'], Resource: '*' }] });
    expect(managedPolicyDocument('arn:aws-us-gov:iam::aws:policy/AmazonSQSFullAccess')).toBeDefined();
    expect(managedPolicyDocument('x-arn:aws:iam::aws:policy/AmazonSQSFullAccess')).toBeUndefined();
  });
});
