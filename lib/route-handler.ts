import * as lambda from 'aws-cdk-lib/aws-lambda';
import { BundledHandler } from './bundled-handler';

/**
 * What runs when a custom route is selected: your own Lambda function or one of the bundled handlers.
 */
export class RouteHandler {
  /**
   * Your own function. The construct allows API Gateway to invoke it for this route only;
   * grant it what it needs yourself (e.g. `gateway.grantPostToConnections(fn)`).
   */
  public static fromFunction(fn: lambda.IFunction): RouteHandler {
    return new RouteHandler(fn, undefined);
  }

  /**
   * A bundled handler. The construct creates its function (once per API, however many routes use it)
   * with its environment and least-privilege grants.
   */
  public static bundled(handler: BundledHandler): RouteHandler {
    if ([BundledHandler.AUTHORIZER, BundledHandler.CONNECT, BundledHandler.DISCONNECT].includes(handler)) {
      throw new Error(
        `The bundled '${handler.name}' handler serves $connect/$disconnect, which the construct wires itself; ` +
          'it cannot be used for a custom route.',
      );
    }
    return new RouteHandler(undefined, handler);
  }

  /** The user's function, when made with `fromFunction`. */
  public readonly userFunction?: lambda.IFunction;
  /** The bundled handler, when made with `bundled`. */
  public readonly bundledHandler?: BundledHandler;

  private constructor(fn?: lambda.IFunction, bundledHandler?: BundledHandler) {
    this.userFunction = fn;
    this.bundledHandler = bundledHandler;
  }
}
