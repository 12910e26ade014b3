/**
 * local/services/secrets-service.ts under local IAM: GetSecretValue signed with a function role's credentials is
 * answered when the role allows secretsmanager:GetSecretValue on the secret's ARN, refused with Secrets Manager's
 * AccessDeniedException (HTTP 400, through the real SDK) when it does not; unsigned requests are refused before
 * the request is read.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { IamAuthority } from '../../local/iam/credentials';
import type { FunctionModel } from '../../local/model';
import { startSecretsService, type SecretsService } from '../../local/services/secrets-service';

const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:Signing-AbCdEf';
const OTHER = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:Other-GhIjKl';

const fn = {
  id: 'S/Auth', stackName: 'S', logicalId: 'Auth', functionName: 'S-Auth-1', handler: 'index.handler', runtime: 'nodejs22.x',
  codeDir: '/nonexistent', environment: {}, timeoutSeconds: 3, memorySize: 128, accountId: '123456789012',
  role: {
    id: 'S/AuthRole', roleName: 'S-AuthRole-1', arn: 'arn:aws:iam::123456789012:role/S-AuthRole-1', managedPolicyArns: [], warnings: [],
    policies: [{ name: 'S/AuthPolicy', document: { Statement: [{ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: SECRET }] } }],
  },
} as FunctionModel;

let service: SecretsService;
let iam: IamAuthority;

beforeAll(async () => {
  iam = new IamAuthority({ functions: { [fn.id]: fn }, accountId: '123456789012' });
  service = await startSecretsService({ secrets: { 'S/Signing': SECRET, 'S/Other': OTHER }, secretValue: 'local-key', iam });
});
afterAll(() => service?.close());

test('GIVEN a role granted one secret WHEN it reads that one and another THEN the first answers, the second is AccessDeniedException naming action and resource', async () => {
  const env = iam.credentialsFor(fn.id)!;
  const client = new SecretsManagerClient({
    endpoint: service.endpoint, region: 'us-east-1', maxAttempts: 1,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN },
  });
  expect((await client.send(new GetSecretValueCommand({ SecretId: SECRET }))).SecretString).toBe('local-key');
  await expect(client.send(new GetSecretValueCommand({ SecretId: 'Other' }))).rejects.toMatchObject({
    name: 'AccessDeniedException',
    $metadata: { httpStatusCode: 400 },
    message: `User: arn:aws:sts::123456789012:assumed-role/S-AuthRole-1/S-Auth-1 is not authorized to perform: secretsmanager:GetSecretValue on resource: ${OTHER} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
  });
  client.destroy();
});

test('GIVEN an unsigned request, even one with a bad body WHEN sent THEN 400 MissingAuthenticationTokenException', async () => {
  const response = await fetch(service.endpoint, { method: 'POST', headers: { 'x-amz-target': 'secretsmanager.GetSecretValue' }, body: 'not json' });
  expect(response.status).toBe(400);
  expect(await response.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });
});
