/**
 * Lambda entry point of the `$connect` REQUEST authorizer (spec §2.2, CONTRIBUTING.md "Handler assets").
 * Environment: TOKEN_SOURCE, JWT_ISSUER, JWT_AUDIENCE, and exactly one of JWKS_URL / JWT_SECRET_ARN.
 *
 * The Secrets Manager client and the key source live at module scope, so warm invocations reuse the
 * connection, the cached HS256 secret and the cached JWKS. The configuration is read on the first
 * invocation; if it is invalid every invocation fails with an error naming the variable (→ 500).
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { readAuthorizerConfig } from '../auth/config';
import { createAuthorizer, type ConnectAuthorizer } from '../auth/create-authorizer';
import { jwksKeySource } from '../auth/jwks-key-source';
import { secretKeySource } from '../auth/secret-key-source';
import type { ConnectAuthorizerEvent } from '../auth/token-source';

const secretsManager = new SecretsManagerClient({});
let authorizer: ConnectAuthorizer | undefined;

function build(): ConnectAuthorizer {
  const config = readAuthorizerConfig(process.env);
  const keys =
    config.keySource.kind === 'jwks'
      ? jwksKeySource(config.keySource.url)
      : secretKeySource({ secretArn: config.keySource.secretArn, client: secretsManager });
  return createAuthorizer({ config, keys });
}

export async function handler(event: ConnectAuthorizerEvent) {
  authorizer ??= build();
  return authorizer(event);
}
