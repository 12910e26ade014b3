import * as lambda from 'aws-cdk-lib/aws-lambda';
import { BundledHandler } from './bundled-handler';
import { GatewayPermission } from './gateway-permission';

/** How the gateway wires your own function into a route. */
export interface RouteHandlerOptions {
  /**
   * What the function does with the gateway's connections through `wsgate/runtime`. The gateway grants
   * exactly these permissions, scoped to its connections table and its stage, to the function's role.
   *
   * @default - none: the function may be invoked for its route but may not read or write connections,
   * rooms or post to clients (grant more later with `gateway.grant(fn, ...)`)
   */
  readonly permissions?: GatewayPermission[];
}

/**
 * What runs when a route is selected: your own Lambda function or one of the bundled handlers.
 * Used by `WebSocketGateway.addRoute` and by the `connectHandler`, `disconnectHandler` and
 * `defaultHandler` props.
 */
export class RouteHandler {
  /**
   * Your own function. The gateway allows API Gateway to invoke it for its route only, sets the
   * environment variables `wsgate/runtime` reads (connections table, room index, callback URL,
   * connection TTL, fan-out concurrency) when it is a `lambda.Function`, and grants it `permissions`.
   */
  public static fromFunction(fn: lambda.IFunction, options: RouteHandlerOptions = {}): RouteHandler {
    return new RouteHandler(fn, undefined, [...(options.permissions ?? [])]);
  }

  /**
   * A bundled handler. The construct creates its function (once per API, however many routes use it)
   * with its environment and least-privilege grants. The `$connect` and `$disconnect` handlers serve
   * only their own route (`connectHandler`, `disconnectHandler`); the others serve custom routes and
   * `$default`.
   */
  public static bundled(handler: BundledHandler): RouteHandler {
    return new RouteHandler(undefined, handler, []);
  }

  /** The user's function, when made with `fromFunction`. */
  public readonly userFunction?: lambda.IFunction;
  /** The bundled handler, when made with `bundled`. */
  public readonly bundledHandler?: BundledHandler;
  /** The permissions granted to the user's function; empty for a bundled handler (it has its own). */
  public readonly permissions: GatewayPermission[];

  private constructor(fn: lambda.IFunction | undefined, bundledHandler: BundledHandler | undefined, permissions: GatewayPermission[]) {
    this.userFunction = fn;
    this.bundledHandler = bundledHandler;
    this.permissions = permissions;
  }
}
