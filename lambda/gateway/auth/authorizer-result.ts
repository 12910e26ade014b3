/**
 * The REQUEST authorizer's answer for an authenticated caller (spec §2.2): Allow `execute-api:Invoke` on
 * exactly the `$connect` methodArn of this request, `principalId` = token `sub`.
 *
 * `context` (becomes `requestContext.authorizer` in every later event of the connection, spec §2.2; only
 * string, number and boolean values are allowed):
 * - `userId` (string): the token's `sub`.
 * - `tokenExpiresAt` (number, epoch seconds): the token's `exp`. The connection outlives the token, since
 *   authorization runs only at connect; handlers may use this to ask a client to reconnect.
 *   [UNCONFIRMED] spec §2.2: whether Lambda-proxy events carry context values as native JSON types or as
 *   strings is not confirmed, so readers should accept `1795300000` and `"1795300000"` alike.
 * No other claim is passed: whatever a route needs beyond the user id belongs in the application's own data.
 */

export interface AuthorizerContext {
  readonly userId: string;
  readonly tokenExpiresAt: number;
  readonly [key: string]: string | number | boolean;
}

export interface AuthorizerResult {
  readonly principalId: string;
  readonly policyDocument: {
    readonly Version: '2012-10-17';
    readonly Statement: ReadonlyArray<{ readonly Action: 'execute-api:Invoke'; readonly Effect: 'Allow' | 'Deny'; readonly Resource: string }>;
  };
  readonly context: AuthorizerContext;
}

export function allowConnect(methodArn: string, subject: string, tokenExpiresAt: number): AuthorizerResult {
  return {
    principalId: subject,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: methodArn }],
    },
    context: { userId: subject, tokenExpiresAt },
  };
}
