import * as fs from 'fs';
import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ENV } from '../contract/gateway-contract';
import { GatewayPermission } from './gateway-permission';

/**
 * The Lambda handlers that ship with wsgate, prebuilt into the package (`assets/handlers/<name>/index.js`),
 * so synthesizing runs no bundler.
 *
 * Enum-like class: use the static members, e.g. `BundledHandler.JOIN`.
 */
export class BundledHandler {
  /** The `$connect` REQUEST authorizer: verifies the JWT. */
  public static readonly AUTHORIZER = new BundledHandler('authorizer');
  /** `$connect`: stores the connection item and negotiates the subprotocol. */
  public static readonly CONNECT = new BundledHandler('connect');
  /** `$disconnect`: deletes the connection item and its room memberships. */
  public static readonly DISCONNECT = new BundledHandler('disconnect');
  /** `$default`: answers with an error frame naming the actions that exist. */
  public static readonly DEFAULT = new BundledHandler('default');
  /** Example chat: join a room. */
  public static readonly JOIN = new BundledHandler('join');
  /** Example chat: leave a room. */
  public static readonly LEAVE = new BundledHandler('leave');
  /** Example chat: send a message to a room or to every connection. */
  public static readonly SEND_MESSAGE = new BundledHandler('sendmessage');
  /** Sharded delivery: posts one shard of a delivery job (an SQS message) to its recipients. */
  public static readonly DELIVERY_WORKER = new BundledHandler('delivery-worker');

  /** Folder name under `assets/handlers/`, e.g. `join`. */
  public readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }
}

/** A setting the gateway writes into a function's environment, named by its key in the contract's `ENV`. */
export type GatewaySetting = keyof typeof ENV;

/**
 * Everything the gateway needs to know about one bundled handler: the settings it reads from its environment
 * (in this order) and what it does with the connections (granted as least privilege).
 * @internal
 */
export interface BundledHandlerDescriptor {
  readonly environment: readonly GatewaySetting[];
  readonly permissions: readonly GatewayPermission[];
  /** With sharded delivery on, the handler also reads the delivery settings and may enqueue jobs. */
  readonly enqueuesDeliveryJobs?: boolean;
}

/**
 * The catalogue of bundled handlers: one descriptor per handler, beside the handlers themselves.
 * The authorizer's settings come from `JwtAuthorizer`, not from the gateway.
 */
const DESCRIPTORS = new Map<BundledHandler, BundledHandlerDescriptor>([
  [BundledHandler.AUTHORIZER, {
    environment: ['tokenSource', 'jwtIssuer', 'jwtAudience'],
    permissions: [],
  }],
  [BundledHandler.CONNECT, {
    environment: ['tableName', 'connectionTtlSeconds', 'subprotocols'],
    permissions: [GatewayPermission.RECORD_CONNECTIONS],
  }],
  [BundledHandler.DISCONNECT, {
    environment: ['tableName', 'roomIndex'],
    permissions: [GatewayPermission.REMOVE_CONNECTIONS],
  }],
  [BundledHandler.DEFAULT, {
    environment: ['tableName', 'callbackUrl', 'routeKeys'],
    permissions: [GatewayPermission.POST_TO_CONNECTIONS],
  }],
  [BundledHandler.JOIN, {
    environment: ['tableName', 'roomIndex', 'callbackUrl', 'connectionTtlSeconds'],
    permissions: [GatewayPermission.MANAGE_ROOMS, GatewayPermission.POST_TO_CONNECTIONS],
  }],
  [BundledHandler.LEAVE, {
    environment: ['tableName', 'roomIndex', 'callbackUrl'],
    permissions: [GatewayPermission.MANAGE_ROOMS, GatewayPermission.POST_TO_CONNECTIONS],
  }],
  [BundledHandler.SEND_MESSAGE, {
    environment: ['tableName', 'roomIndex', 'callbackUrl', 'fanoutConcurrency'],
    permissions: [GatewayPermission.READ_CONNECTIONS, GatewayPermission.POST_TO_CONNECTIONS],
    enqueuesDeliveryJobs: true,
  }],
  [BundledHandler.DELIVERY_WORKER, {
    environment: ['tableName', 'roomIndex', 'callbackUrl', 'fanoutConcurrency'],
    permissions: [GatewayPermission.READ_CONNECTIONS, GatewayPermission.POST_TO_CONNECTIONS],
  }],
]);

/** The descriptor of a bundled handler. @internal */
export function bundledHandlerDescriptor(handler: BundledHandler): BundledHandlerDescriptor {
  const descriptor = DESCRIPTORS.get(handler);
  if (!descriptor) throw new Error(`wsgate: the bundled '${handler.name}' handler has no descriptor.`);
  return descriptor;
}

/** Bundled handlers that serve a reserved route (or the delivery queue) and only that. */
export const RESERVED_ROUTE_HANDLERS: ReadonlyMap<BundledHandler, string> = new Map([
  [BundledHandler.AUTHORIZER, '$connect (as its authorizer)'],
  [BundledHandler.CONNECT, '$connect'],
  [BundledHandler.DISCONNECT, '$disconnect'],
  [BundledHandler.DELIVERY_WORKER, 'the delivery queue of sharded delivery (set the gateway\'s delivery prop)'],
]);

/** Root of the built handler bundles; the same from `lib/*.ts` and the compiled `lib/*.js`. */
const HANDLER_ASSETS_ROOT = path.join(__dirname, '..', 'assets', 'handlers');

/**
 * The folder holding a built handler bundle.
 * Throws an error that says how to fix it when the bundle has not been built.
 *
 * @param assetsRoot where the bundles live (tests pass a temporary folder)
 */
export function bundledHandlerDirectory(name: string, assetsRoot: string = HANDLER_ASSETS_ROOT): string {
  const directory = path.join(assetsRoot, name);
  if (!fs.existsSync(path.join(directory, 'index.js'))) {
    throw new Error(
      `wsgate: the bundled handler '${name}' was not found at ${directory}/index.js. ` +
        'Run `npm run build` in the wsgate package to bundle the Lambda handlers before synthesizing.',
    );
  }
  return directory;
}

/** Lambda code for a bundled handler, referenced by path: no bundling at synth. */
export function bundledHandlerCode(handler: BundledHandler): lambda.Code {
  return lambda.Code.fromAsset(bundledHandlerDirectory(handler.name));
}
