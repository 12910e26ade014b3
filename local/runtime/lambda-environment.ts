/**
 * The environment a function process gets: its own resolved variables, the standard Lambda variables,
 * fake credentials and the emulator's endpoints — nothing from the emulator's own environment.
 */
import * as path from 'path';
import { FunctionModel } from '../model';

/** Fake credentials: the local services accept any, and real AWS would refuse them. */
export const LOCAL_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'AKIAWSGATELOCAL00000',
  AWS_SECRET_ACCESS_KEY: 'wsgate-local-fake-secret-access-key',
  AWS_SESSION_TOKEN: 'wsgate-local-fake-session-token',
};

export interface LocalEndpoints {
  /** e.g. `http://127.0.0.1:8000` → AWS_ENDPOINT_URL_DYNAMODB. */
  readonly dynamodb?: string;
  /** e.g. `http://127.0.0.1:8001` → AWS_ENDPOINT_URL_SECRETS_MANAGER. */
  readonly secretsManager?: string;
  /** Hosts (wildcards allowed) whose HTTPS connections go to the emulator on 127.0.0.1:`gatewayPort`. */
  readonly gatewayHosts?: readonly string[];
  readonly gatewayPort?: number;
  /** PEM file of the emulator's certificate → NODE_EXTRA_CA_CERTS. */
  readonly caFile?: string;
  /**
   * The gateway port also answers plain HTTP: redirected HTTPS connections become plain TCP to it (no TLS handshake
   * on the loopback hop; requests unchanged). @default false (TLS with the emulator's certificate)
   */
  readonly gatewayPlainHttp?: boolean;
  /**
   * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN bound to the function's execution role (local IAM).
   * @default LOCAL_CREDENTIALS for every function
   */
  readonly credentialsFor?: (functionId: string) => Record<string, string> | undefined;
}

/** The folder holding wsgate's `@aws-sdk/*` (hoisted or not), for NODE_PATH. */
export function sdkNodeModules(): string {
  const pkg = require.resolve('@aws-sdk/client-dynamodb/package.json');
  return path.resolve(path.dirname(pkg), '..', '..');
}

export function lambdaEnvironment(fn: FunctionModel, region: string, accountId: string, endpoints: LocalEndpoints): Record<string, string> {
  const env: Record<string, string> = {
    ...fn.environment,
    // Standard variables of the Lambda Node.js runtime (reserved: a function cannot override them).
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: '$LATEST-local',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
    LAMBDA_TASK_ROOT: fn.codeDir,
    LAMBDA_RUNTIME_DIR: path.dirname(__filename),
    _HANDLER: fn.handler,
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    PATH: '/usr/local/bin:/usr/bin:/bin',
    NODE_PATH: sdkNodeModules(),
    ...(endpoints.credentialsFor?.(fn.id) ?? LOCAL_CREDENTIALS),
    WSGATE_ACCOUNT_ID: accountId,
    // The emulator may run on an older Node.js than the function's runtime (nodejs22.x); the SDK's
    // "upgrade Node" warning would then fill every function's log with a line Lambda never prints.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  if (endpoints.dynamodb) env.AWS_ENDPOINT_URL_DYNAMODB = endpoints.dynamodb;
  if (endpoints.secretsManager) env.AWS_ENDPOINT_URL_SECRETS_MANAGER = endpoints.secretsManager;
  if (endpoints.caFile) env.NODE_EXTRA_CA_CERTS = endpoints.caFile;
  if (endpoints.gatewayHosts?.length && endpoints.gatewayPort) {
    env.WSGATE_REDIRECT_HOSTS = endpoints.gatewayHosts.join(',');
    env.WSGATE_REDIRECT_PORT = String(endpoints.gatewayPort);
    if (endpoints.gatewayPlainHttp) env.WSGATE_REDIRECT_PLAIN = '1';
  }
  return env;
}
