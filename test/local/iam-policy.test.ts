/**
 * local/iam/policy.ts: identity-policy evaluation as IAM does it (explicit Deny wins, then Allow, else implicit
 * deny), wildcards, NotAction / NotResource, conditions reported as not evaluated, the AWS managed policies it
 * knows, and refusals that name the missing statement and the nearest miss.
 */
import { managedPolicyDocument, PolicyEvaluator } from '../../local/iam/policy';

const TABLE = 'arn:aws:dynamodb:us-east-1:123456789012:table/Connections';

describe('PolicyEvaluator', () => {
  const evaluator = new PolicyEvaluator('role R', [
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
