import * as fs from 'fs';
import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * The Lambda handlers that ship with wsgate, bundled by `npm run build` into
 * `assets/handlers/<name>/index.js` (see CONTRIBUTING.md "Handler assets").
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

  /** Folder name under `assets/handlers/`, e.g. `join`. */
  public readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }
}

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
