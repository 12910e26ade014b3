/**
 * How API Gateway authorizes a client's `$connect` (the WebSocket upgrade request).
 */
export class ConnectAuthorization {
  /**
   * A JWT in the request, checked by the bundled Lambda REQUEST authorizer against `issuer`, `audience` and
   * `jwksUrl` or `signingSecret`, read from `tokenSource`. The token's `sub` becomes the connection's user.
   */
  public static jwt(): ConnectAuthorization {
    return new ConnectAuthorization('CUSTOM');
  }

  /**
   * AWS IAM: the client signs the upgrade request with Signature Version 4 (service `execute-api`, in the
   * `Authorization` header or as a presigned query string), and API Gateway lets it connect when its identity's
   * policies allow `execute-api:Invoke` on the stage's `$connect` route (see `WebSocketGateway.grantConnect`). No
   * authorizer function runs; the bundled `$connect` handler records the signer's ARN
   * (`requestContext.identity.userArn`) as the connection's user. For servers and backends that hold AWS
   * credentials, not for browsers.
   */
  public static iam(): ConnectAuthorization {
    return new ConnectAuthorization('AWS_IAM');
  }

  /** The route's `AuthorizationType` in the template: `CUSTOM` (the JWT authorizer) or `AWS_IAM`. */
  public readonly authorizationType: string;

  private constructor(authorizationType: string) {
    this.authorizationType = authorizationType;
  }
}
