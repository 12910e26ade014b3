import { tokenSourceValue } from '../contract/gateway-contract';
/**
 * Where the `$connect` authorizer reads the JWT from.
 *
 * Browsers cannot set headers on a WebSocket, so the query string is the default.
 * API Gateway answers 401 without calling the authorizer when the source is missing.
 */
export class TokenSource {
  /** The token is the value of the query string parameter `name`, e.g. `wss://…/prod?token=…`. */
  public static queryString(name: string): TokenSource {
    TokenSource.checkName(name);
    return new TokenSource(`route.request.querystring.${name}`, tokenSourceValue('querystring', name));
  }

  /** The token is the value of the header `name`; a `Bearer ` prefix is stripped. */
  public static header(name: string): TokenSource {
    TokenSource.checkName(name);
    return new TokenSource(`route.request.header.${name}`, tokenSourceValue('header', name));
  }

  private static checkName(name: string): void {
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) {
      throw new Error(
        `Invalid token source name '${name}': a header or query string name must be non-empty ` +
          'and contain no spaces, separators or control characters.',
      );
    }
  }

  /** The authorizer identity source, e.g. `route.request.querystring.token`. */
  public readonly identitySource: string;
  /** The `TOKEN_SOURCE` value for the authorizer handler, e.g. `querystring:token`. */
  public readonly environmentValue: string;

  private constructor(identitySource: string, environmentValue: string) {
    this.identitySource = identitySource;
    this.environmentValue = environmentValue;
  }
}
