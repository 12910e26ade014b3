import { Token } from 'aws-cdk-lib';
import * as authorizers from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { BundledHandler } from './bundled-handler';
import { HandlerFunction, HandlerFunctionOptions } from './handler-function';
import { acknowledgeSigningSecretRotation } from './nag-acknowledgements';
import { TokenSource } from './token-source';

/** Where the `$connect` authorizer reads tokens and which keys verify them: an OIDC issuer's JWKS, or an HS256 key. */
export interface JwtVerificationOptions {
  /**
   * JWKS URL of an OIDC issuer (Cognito, Auth0, …); tokens are verified with its public keys.
   * Give either this or `signingSecret`, not both.
   *
   * @default - tokens are verified with an HS256 key from Secrets Manager (see `signingSecret`)
   */
  readonly jwksUrl?: string;

  /**
   * Secrets Manager secret whose SecretString is the HS256 signing key.
   * Give either this or `jwksUrl`, not both.
   *
   * @default - without `jwksUrl`, a secret holding a generated 64-character key is created
   */
  readonly signingSecret?: secretsmanager.ISecret;

  /**
   * Where clients put the token.
   *
   * @default TokenSource.queryString('token') - browsers cannot set WebSocket headers
   */
  readonly tokenSource?: TokenSource;
}

/** How the `$connect` authorizer verifies tokens: against an OIDC issuer's JWKS, or with an HS256 key. */
export interface JwtAuthorizerOptions extends JwtVerificationOptions {
  /** The required `iss` claim. */
  readonly issuer: string;

  /** The required `aud` claim. */
  readonly audience: string;
}

/** Properties of a {@link JwtAuthorizer}. */
export interface JwtAuthorizerProps extends JwtAuthorizerOptions, HandlerFunctionOptions {}

/**
 * The bundled JWT REQUEST authorizer for `$connect`: its function, its signing key and the
 * route authorizer to attach to the `$connect` route.
 */
export class JwtAuthorizer extends Construct {
  /** The authorizer function. */
  public readonly authorizerFunction: lambda.IFunction;
  /** The HS256 signing key secret (given or generated); undefined when tokens are checked against a JWKS URL. */
  public readonly signingSecret?: secretsmanager.ISecret;
  /** The authorizer to attach to a `$connect` route. */
  public readonly routeAuthorizer: authorizers.WebSocketLambdaAuthorizer;
  /** Where clients put the token. */
  public readonly tokenSource: TokenSource;

  constructor(scope: Construct, id: string, props: JwtAuthorizerProps) {
    super(scope, id);
    validateAuthorizerProps(props);
    this.tokenSource = props.tokenSource ?? TokenSource.queryString('token');

    const keyEnvironment: { [name: string]: string } = {};
    if (props.jwksUrl !== undefined) {
      keyEnvironment.JWKS_URL = props.jwksUrl;
    } else {
      this.signingSecret = props.signingSecret ?? this.generateSigningSecret();
      keyEnvironment.JWT_SECRET_ARN = this.signingSecret.secretArn;
    }

    const handler = new HandlerFunction(this, 'Function', {
      handler: BundledHandler.AUTHORIZER,
      memorySize: props.memorySize,
      timeout: props.timeout,
      logRetention: props.logRetention,
      tracing: props.tracing,
      environment: {
        TOKEN_SOURCE: this.tokenSource.environmentValue,
        JWT_ISSUER: props.issuer,
        JWT_AUDIENCE: props.audience,
        ...keyEnvironment,
      },
    });
    this.authorizerFunction = handler.function;
    this.signingSecret?.grantRead(this.authorizerFunction);

    this.routeAuthorizer = new authorizers.WebSocketLambdaAuthorizer('Authorizer', this.authorizerFunction, {
      identitySource: [this.tokenSource.identitySource],
    });
  }

  private generateSigningSecret(): secretsmanager.ISecret {
    const secret = new secretsmanager.Secret(this, 'SigningSecret', {
      description: 'wsgate: HS256 key that signs and verifies WebSocket connection tokens',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    acknowledgeSigningSecretRotation(secret);
    return secret;
  }
}

function validateAuthorizerProps(props: JwtAuthorizerOptions): void {
  if (props.jwksUrl !== undefined && props.signingSecret !== undefined) {
    throw new Error(
      'Conflicting authorizer keys: give either jwksUrl (OIDC public keys) or signingSecret (HS256 key), not both.',
    );
  }
  for (const [name, value] of [['issuer', props.issuer], ['audience', props.audience]]) {
    if (!Token.isUnresolved(value) && value.trim() === '') {
      throw new Error(`Invalid authorizer ${name}: it must not be empty, tokens are checked against it.`);
    }
  }
  if (props.jwksUrl !== undefined && !Token.isUnresolved(props.jwksUrl) && !/^https:\/\/[^\s]+$/.test(props.jwksUrl)) {
    throw new Error(`Invalid jwksUrl '${props.jwksUrl}': it must be an https:// URL.`);
  }
}
