/**
 * Local IAM for a function's DynamoDB calls, checked inside the function's own process: worker.cjs starts this
 * before the handler loads, on a loopback port of that process, and points AWS_ENDPOINT_URL_DYNAMODB at it.
 *
 * The checks are the emulator's (dynamo-iam-proxy.ts: SigV4 verification, the role's policies and permissions
 * boundary, DynamoDB's error shapes), for the one identity the function was given; an allowed call goes straight
 * to the local DynamoDB. A request signed with any other key (or not signed) goes on, unchanged, to the emulator's
 * proxy, which knows every local identity. Requests made with Node's `http` module do not even cross that loopback
 * port when they are allowed: a hook on `http.request` (dynamo-request-hook.ts) sends them to DynamoDB directly.
 * Without this, each DynamoDB call crossed into the emulator's process and back before reaching DynamoDB: two
 * process hops per call (docs/emulator-performance.md).
 *
 * Its configuration arrives as JSON in WSGATE_DYNAMO_GUARD (`DynamoGuardConfig`), which the worker removes from the
 * environment before the handler loads.
 */
import { authorizeRequest, identityFromConfig, type IdentityConfig } from '../iam/credentials';
import type { SignableRequest } from '../iam/sigv4';
import { authorizeDynamoRequest, startDynamoIamProxy } from '../services/dynamo-iam-proxy';
import { hookDynamoRequests } from './dynamo-request-hook';

/** The environment variable carrying the JSON configuration. */
export const DYNAMO_GUARD_VARIABLE = 'WSGATE_DYNAMO_GUARD';
/** The environment variable naming the module worker.cjs loads to start the guard (this file, compiled). */
export const DYNAMO_GUARD_MODULE_VARIABLE = 'WSGATE_DYNAMO_GUARD_MODULE';

export interface DynamoGuardConfig {
  /** The local DynamoDB, e.g. `http://127.0.0.1:8000`. */
  readonly target: string;
  /** The emulator's DynamoDB proxy: where requests signed with other keys go. */
  readonly proxy: string;
  /** The function's credentials, identity and policies. */
  readonly identity: IdentityConfig;
}

export interface RunningGuard {
  /** `http://127.0.0.1:PORT` in this process. */
  readonly endpoint: string;
  close(): Promise<void>;
}

/** Parses and checks the JSON of WSGATE_DYNAMO_GUARD; throws a one-line reason when it is not a configuration. */
export function parseGuardConfig(text: string): DynamoGuardConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${DYNAMO_GUARD_VARIABLE} is not JSON: ${(e as Error).message}`);
  }
  const config = value as Partial<DynamoGuardConfig> | null;
  const identity = config?.identity as Partial<IdentityConfig> | undefined;
  const missing = [
    typeof config?.target === 'string' ? undefined : 'target',
    typeof config?.proxy === 'string' ? undefined : 'proxy',
    typeof identity?.accessKeyId === 'string' ? undefined : 'identity.accessKeyId',
    typeof identity?.secretAccessKey === 'string' ? undefined : 'identity.secretAccessKey',
  ].filter((m): m is string => m !== undefined);
  if (missing.length > 0) throw new Error(`${DYNAMO_GUARD_VARIABLE} lacks ${missing.join(', ')}`);
  return config as DynamoGuardConfig;
}

/**
 * Starts the guard (its loopback server, and the hook on this process's `http.request`); `log` gets the refusal lines
 * the emulator's proxy would log (worker.cjs sends them to it).
 */
export async function startDynamoGuard(config: DynamoGuardConfig, log: (line: string) => void): Promise<RunningGuard> {
  const identity = identityFromConfig(config.identity);
  const lookup = (key: string) => (key === identity.accessKeyId ? identity : undefined);
  const server = await startDynamoIamProxy({
    target: config.target,
    iam: { authorize: (request, service, action, resources) => authorizeRequest(lookup, request, service, action, resources, log) },
    otherKeys: { endpoint: config.proxy, holds: (key) => key === identity.accessKeyId },
    log,
  });
  // The same decision, silent: what it does not allow (a refusal, and any other key, which `lookup` does not know)
  // goes to the server above, which decides again and logs, or passes it to the emulator's proxy.
  const quiet = { authorize: (request: SignableRequest, service: string, action: Parameters<typeof authorizeRequest>[3]) =>
    authorizeRequest(lookup, request, service, action, undefined, () => undefined) };
  const hook = hookDynamoRequests(server.endpoint, config.target, (request) => authorizeDynamoRequest(quiet, request).ok);
  return {
    endpoint: server.endpoint,
    close: () => {
      hook.uninstall();
      return server.close();
    },
  };
}
