/**
 * JwtAuthorizer on its own (its function, its key, its token source) and as the gateway's `$connect`
 * authorizer; the synth-time checks of its props.
 */
import { Duration, Lazy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { JwtAuthorizer, TokenSource } from '../../lib';
import { actionsOf, allPolicyStatements, arnText, AUTH, gatewayIn, newValidatedStack } from './template-helpers';

describe('JwtAuthorizer', () => {
  test('GIVEN only issuer and audience WHEN synthesized THEN a 64-character key is generated and only the authorizer may read it', () => {
    // GIVEN
    const stack = newValidatedStack();
    // WHEN
    const authorizer = new JwtAuthorizer(stack, 'Auth', AUTH);
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
    });
    const secretId = stack.getLogicalId(authorizer.signingSecret!.node.defaultChild as secretsmanager.CfnSecret);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Environment: {
        Variables: {
          TOKEN_SOURCE: 'querystring:token',
          JWT_ISSUER: AUTH.issuer,
          JWT_AUDIENCE: AUTH.audience,
          JWT_SECRET_ARN: { Ref: secretId },
        },
      },
    });
    const secretReads = allPolicyStatements(template).filter((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')));
    expect(secretReads).toHaveLength(1);
    expect(secretReads[0].Resource).toEqual({ Ref: secretId });
    expect(authorizer.tokenSource.environmentValue).toBe('querystring:token');
  });

  test('GIVEN TokenSource.header(Authorization) WHEN used by a gateway THEN the $connect authorizer reads that header', () => {
    const stack = newValidatedStack();
    gatewayIn(stack, { tokenSource: TokenSource.header('Authorization') });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      IdentitySource: ['route.request.header.Authorization'],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ TOKEN_SOURCE: 'header:Authorization' }) },
    });
  });

  test('GIVEN a token source name with a space WHEN made THEN it throws', () => {
    expect(() => TokenSource.queryString('my token')).toThrow(/Invalid token source name/);
  });

  test('GIVEN jwksUrl WHEN synthesized THEN the authorizer gets JWKS_URL and no secret exists', () => {
    const stack = newValidatedStack();
    const authorizer = new JwtAuthorizer(stack, 'Auth', { ...AUTH, jwksUrl: 'https://issuer.example/.well-known/jwks.json' });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          TOKEN_SOURCE: 'querystring:token',
          JWT_ISSUER: AUTH.issuer,
          JWT_AUDIENCE: AUTH.audience,
          JWKS_URL: 'https://issuer.example/.well-known/jwks.json',
        },
      },
    });
    expect(authorizer.signingSecret).toBeUndefined();
    expect(allPolicyStatements(template).flatMap(actionsOf).filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
  });

  test('GIVEN an existing signingSecret WHEN synthesized THEN no secret is created and the authorizer reads the given one', () => {
    const stack = newValidatedStack();
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Key', 'my-signing-key');
    const gateway = gatewayIn(stack, { signingSecret: secret });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(gateway.signingSecret).toBe(secret);
    const secretStatements = allPolicyStatements(template).filter((s) => actionsOf(s).includes('secretsmanager:GetSecretValue'));
    expect(secretStatements).toHaveLength(1);
    expect(arnText(secretStatements[0].Resource)).toMatch(/:secret:my-signing-key-\?\?\?\?\?\?$/);
  });

  test('GIVEN memorySize, timeout and tracing DISABLED WHEN synthesized THEN the authorizer function uses them', () => {
    const stack = newValidatedStack();
    new JwtAuthorizer(stack, 'Auth', { ...AUTH, memorySize: 128, timeout: Duration.seconds(5), tracing: lambda.Tracing.DISABLED });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 128, Timeout: 5, TracingConfig: Match.absent() });
    expect(allPolicyStatements(template).flatMap(actionsOf).filter((a) => a.startsWith('xray:'))).toEqual([]);
  });

  test('GIVEN both jwksUrl and signingSecret WHEN constructed THEN it throws that they conflict', () => {
    const stack = newValidatedStack();
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Key', 'my-signing-key');
    expect(() => gatewayIn(stack, { jwksUrl: 'https://issuer.example/jwks', signingSecret: secret })).toThrow(/Conflicting authorizer keys/);
  });

  test.each([
    [{ jwksUrl: 'http://issuer.example/jwks' }, /Invalid jwksUrl .* https:\/\//],
    [{ issuer: ' ' }, /Invalid authorizer issuer/],
    [{ audience: '' }, /Invalid authorizer audience/],
  ])('GIVEN %j WHEN constructed THEN it throws %s', (props, message) => {
    const stack = newValidatedStack();
    expect(() => new JwtAuthorizer(stack, 'Auth', { ...AUTH, ...props })).toThrow(message);
  });

  test('GIVEN issuer, audience and jwksUrl as tokens WHEN constructed THEN they are not checked', () => {
    const stack = newValidatedStack();
    const late = (value: string) => Lazy.string({ produce: () => value });
    expect(() => new JwtAuthorizer(stack, 'Auth', { issuer: late(''), audience: late(''), jwksUrl: late('http://x') })).not.toThrow();
  });
});
