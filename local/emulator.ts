/**
 * `startEmulator`: runs every WebSocket API of a cloud assembly on this machine. Loads the assembly, starts (or
 * uses) DynamoDB and creates the template's tables, answers Secrets Manager with the local key, makes a certificate
 * for the API hosts, then starts the function invoker and the gateway on one 127.0.0.1 port. Every function of the
 * assembly can be invoked, routed or not, through `/_wsgate/functions/{name}/invoke` (gateway/function-endpoints.ts).
 */
import { loadAssembly } from './assembly/load';
import { readStacks } from './assembly/manifest';
import type { StackArtifact } from './assembly/template';
import { DEVELOPER_CREDENTIALS, IamAuthority } from './iam/credentials';
import { LOCAL_SECRET_DEFAULT } from './dev-token';
import { devEndpoints, APP_PATH, TOKEN_PATH } from './gateway/dev-endpoints';
import { functionEndpoints, FUNCTIONS_PATH } from './gateway/function-endpoints';
import { PORT_DEFAULT, startGateway, type ExtraHttpHandler, type Gateway, type StageEndpoint } from './gateway/gateway';
import type { AssemblyModel, FunctionInvoker, InvocationOutcome } from './model';
import { createInvoker } from './runtime/invoker';
import { pythonWarnings } from './runtime/python/python-worker';
import type { LogSink } from './runtime/instance';
import { createCertificate } from './services/certificate';
import { startDynamoIamProxy } from './services/dynamo-iam-proxy';
import { jwksEndpoint, LOCAL_ISSUER_KEY_FILE_DEFAULT, loadOrCreateIssuerKeys, redirectableJwksUrls } from './services/jwks';
import { createTables, startLocalDynamo } from './services/local-dynamo';
import { startSecretsService } from './services/secrets-service';
import { startSqsService } from './services/sqs-service';
import { startSqsEventSources } from './runtime/sqs-event-source';
import { dynamoGuardModule } from './runtime/dynamo-guard-module';

export interface EmulatorOptions {
  /** The cloud assembly folder (`cdk.out`). */
  readonly assemblyDir: string;
  /** @default 3001; 0 picks a free port */
  readonly port?: number;
  /** Only this stack. @default every stack */
  readonly stack?: string;
  /** @default the stack's region, else us-east-1 */
  readonly region?: string;
  /** @default the stack's account, else 123456789012 */
  readonly accountId?: string;
  /** An external DynamoDB-compatible endpoint (e.g. DynamoDB Local). @default - an embedded dynalite */
  readonly dynamodbEndpoint?: string;
  /** @default 600000 (10 minutes) */
  readonly idleTimeoutMs?: number;
  /** @default 7200000 (2 hours) */
  readonly maxDurationMs?: number;
  /** Budget of a new function instance's init phase (start + module load), separate from its timeout. @default 10000 (Lambda's) */
  readonly initTimeoutMs?: number;
  /** A function instance idle this long is stopped; the next invocation starts a new one. @default 300000 (5 minutes) */
  readonly instanceIdleMs?: number;
  /**
   * A function instance idle this long is stopped when another instance of the function stays alive (a burst's extra
   * processes go, one warm instance stays for `instanceIdleMs`). @default 10000, or instanceIdleMs when shorter
   */
  readonly surplusInstanceIdleMs?: number;
  /**
   * Instances per function when the template sets no ReservedConcurrentExecutions (further invocations wait for one);
   * with it, the reserved concurrency bounds invocations and one over it is throttled. @default 1 per CPU core, from 2 to 10
   */
  readonly maxInstancesPerFunction?: number;
  /** How long an invocation waits for a busy function instance before a new one starts for it. @default 50 */
  readonly scaleUpDelayMs?: number;
  /**
   * Function processes reach the emulator's hosts (`@connections`, JWKS) over TLS with the emulator's certificate.
   * @default false: over plain TCP to the same port (the requests are the same; the loopback hop skips the handshake)
   */
  readonly functionsUseTls?: boolean;
  /**
   * With local IAM, where a Node.js function's DynamoDB calls are checked: `'function'` inside the function's own
   * process (local/runtime/dynamo-guard.ts: the same checks and answers, then straight to DynamoDB, no hop through the
   * emulator's process); `'proxy'` in the emulator's DynamoDB proxy. Python functions and requests signed with other
   * keys always go through the proxy.
   * @default 'function'
   */
  readonly dynamoChecks?: 'function' | 'proxy';
  /** Folder served at /_wsgate/app/. @default - not served */
  readonly staticDir?: string;
  /** What Secrets Manager answers for every secret, and the dev tokens' key. @default LOCAL_SECRET_DEFAULT */
  readonly localSecret?: string;
  /** Gateway messages (failed handlers, refused handshakes). @default - dropped */
  readonly log?: (line: string) => void;
  /** Function output. @default each line to stderr, prefixed with the function id */
  readonly functionLog?: LogSink;
  /**
   * Where the local identity provider keeps its key pairs. Used when an authorizer has a `JWKS_URL`: the emulator
   * answers that URL with these keys' public halves and `/_wsgate/token` signs RS256/ES256 tokens with them.
   * @default '.wsgate/local-issuer-keys.json' under the working directory (created when missing)
   */
  readonly issuerKeyFile?: string;
  /**
   * Local IAM: functions get credentials bound to their execution role, and every call they make to DynamoDB,
   * Secrets Manager and `@connections` is SigV4-verified and checked against that role's policies; `@connections`
   * refuses unsigned requests (sign with DEVELOPER_CREDENTIALS from scripts). false: nothing is checked.
   * @default true
   */
  readonly iam?: boolean;
  /**
   * Stage throttling (DefaultRouteSettings / RouteSettings token buckets): a message over the limit gets the
   * `Too Many Requests` frame. false: no limit (benchmarks and load tests measuring the emulator itself).
   * @default true
   */
  readonly throttle?: boolean;
  /**
   * AWS's `@connections` latency, simulated: every `@connections` request (POST, GET, DELETE) waits this long
   * before it is answered (a post from Lambda to API Gateway takes tens of milliseconds on AWS).
   * Independent of `throttle`. @default 0 (answered at once)
   */
  readonly connectionsLatencyMs?: number;
  /**
   * The account's request rate as it applies to `@connections`: one token bucket shared by every API and stage;
   * a request over it is answered 429 `LimitExceededException` (the SDK's typed exception). AWS's default is
   * 10,000 requests per second per account and Region, shared with the APIs' own traffic.
   * Independent of `throttle`. @default - no limit
   */
  readonly connectionsRatePerSecond?: number;
  /**
   * Bucket size of `connectionsRatePerSecond`. @default half the rate, at least 1 (AWS pairs 10,000 requests per
   * second with a burst of 5,000, and 2,500 with 1,250)
   */
  readonly connectionsBurst?: number;
}

/** The `@connections` bottleneck options, checked; undefined when neither latency nor rate is set. */
export function connectionsBottleneckOf(options: Pick<EmulatorOptions, 'connectionsLatencyMs' | 'connectionsRatePerSecond' | 'connectionsBurst'>):
  { latencyMs: number; rate?: { rateLimit: number; burstLimit: number } } | undefined {
  const { connectionsLatencyMs: latency, connectionsRatePerSecond: rate, connectionsBurst: burst } = options;
  if (latency !== undefined && !(Number.isFinite(latency) && latency >= 0)) throw new Error(`connectionsLatencyMs must be a number of milliseconds >= 0, got ${latency}`);
  if (rate !== undefined && !(Number.isFinite(rate) && rate > 0)) throw new Error(`connectionsRatePerSecond must be a number > 0, got ${rate}`);
  if (burst !== undefined && rate === undefined) throw new Error('connectionsBurst needs connectionsRatePerSecond (the bucket it sizes)');
  if (burst !== undefined && !(Number.isFinite(burst) && burst >= 1)) throw new Error(`connectionsBurst must be a number >= 1, got ${burst}`);
  if (!latency && rate === undefined) return undefined;
  return {
    latencyMs: latency ?? 0,
    ...(rate !== undefined ? { rate: { rateLimit: rate, burstLimit: burst ?? Math.max(1, Math.floor(rate / 2)) } } : {}),
  };
}

export interface RunningEmulator {
  readonly port: number;
  readonly endpoints: StageEndpoint[];
  /** The local DynamoDB itself (not IAM-checked: for tests and tools that inspect the tables). */
  readonly dynamodbEndpoint: string;
  /**
   * The local SQS (the template's queues), for an SQSClient's `endpoint` in tests and tools. Functions reach the
   * same queues through the queue URLs of the template. IAM-checked like the functions' calls when local IAM is on
   * (sign with `developerCredentials`).
   */
  readonly sqsEndpoint: string;
  /** The key scripts sign `@connections` calls with when local IAM is on (its policy allows everything). @default - undefined with iam: false */
  readonly developerCredentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly tokenUrl: string;
  /** `http://127.0.0.1:PORT/_wsgate/functions`: GET lists the functions, POST `{url}/{name}/invoke` invokes one. */
  readonly functionsUrl: string;
  /** @default - undefined when no static folder was given */
  readonly appUrl?: string;
  /** What the emulator cannot run or does not check, naming the resource. */
  readonly warnings: readonly string[];
  /** JWKS URLs of the app's authorizers that the emulator answers itself (with its local issuer's keys). */
  readonly jwksUrls: readonly string[];
  /** The assembly being served (the last one `reload` accepted). */
  readonly model: AssemblyModel;
  /**
   * Re-reads the cloud assembly (after a new `cdk synth`) and swaps the code and configuration of the functions
   * that changed, keeping open connections and table data. A change of routes, stages, authorizers or tables
   * cannot be swapped: it is listed in `needsRestart` and nothing is swapped. An assembly that cannot be read is
   * `error`; the emulator keeps serving the last good version either way.
   */
  reload(): Promise<ReloadResult>;
  close(): Promise<void>;
}

export interface ReloadResult {
  /** Ids (`Stack/LogicalId`) of the functions whose code or configuration was swapped. */
  readonly swapped: readonly string[];
  /** What changed that only a restart of the emulator applies. */
  readonly needsRestart: readonly string[];
  /** Why the new assembly was not loaded. @default - it was */
  readonly error?: string;
}

/** What the gateway serves, as comparable text: a change here is not hot-swappable. */
function servedShape(model: AssemblyModel): Map<string, string> {
  const out = new Map<string, string>();
  for (const api of model.apis) {
    out.set(`API ${api.stackName}/${api.logicalId}`, JSON.stringify({ ...api, routes: undefined, stages: api.stages, selection: api.routeSelectionExpression }));
    for (const route of api.routes) out.set(`route ${route.routeKey} of ${api.stackName}/${api.logicalId}`, JSON.stringify(route));
  }
  for (const table of model.tables) out.set(`table ${table.stackName}/${table.logicalId}`, JSON.stringify(table));
  for (const queue of model.queues ?? []) out.set(`queue ${queue.id}`, JSON.stringify(queue));
  for (const mapping of model.eventSourceMappings ?? []) out.set(`event source mapping ${mapping.id}`, JSON.stringify(mapping));
  return out;
}

function shapeChanges(before: AssemblyModel, after: AssemblyModel): string[] {
  const a = servedShape(before);
  const b = servedShape(after);
  const out: string[] = [];
  for (const [key, value] of b) {
    if (!a.has(key)) out.push(`new ${key}`);
    else if (a.get(key) !== value) out.push(`changed ${key}`);
  }
  for (const key of a.keys()) if (!b.has(key)) out.push(`removed ${key}`);
  return out;
}

/** `iss` / `aud` of the first authorizer function with JWT_ISSUER / JWT_AUDIENCE in its environment. */
function tokenClaims(model: AssemblyModel): { issuer?: string; audience?: string; jwks?: boolean } {
  for (const api of model.apis) {
    for (const route of api.routes) {
      const fn = route.authorizer ? model.functions[route.authorizer.functionId] : undefined;
      if (fn && (fn.environment.JWT_ISSUER || fn.environment.JWT_AUDIENCE)) {
        return { issuer: fn.environment.JWT_ISSUER || undefined, audience: fn.environment.JWT_AUDIENCE || undefined, jwks: Boolean(fn.environment.JWKS_URL) };
      }
    }
  }
  return {};
}

/** Route keys (and `authorizer of $connect`) each function serves, for the function listing. */
function routesByFunction(model: AssemblyModel): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (functionId: string | undefined, what: string): void => {
    if (!functionId) return;
    const list = out.get(functionId) ?? [];
    if (!list.includes(what)) list.push(what);
    out.set(functionId, list);
  };
  for (const api of model.apis) {
    for (const route of api.routes) {
      add(route.functionId, route.routeKey);
      add(route.authorizer?.functionId, `authorizer of ${route.routeKey}`);
    }
  }
  return out;
}

/** The first handler that answers wins. */
function firstOf(...handlers: ExtraHttpHandler[]): ExtraHttpHandler {
  return async (req, res, url) => {
    for (const handler of handlers) if (await handler(req, res, url)) return true;
    return false;
  };
}

/** Forwards to the real invoker once it exists (it needs the gateway's port, known only after listening). */
class DeferredInvoker implements FunctionInvoker {
  private target?: FunctionInvoker;
  private readonly ready: Promise<FunctionInvoker>;
  private resolveReady!: (invoker: FunctionInvoker) => void;

  constructor() {
    this.ready = new Promise((resolve) => (this.resolveReady = resolve));
  }

  attach(invoker: FunctionInvoker): void {
    this.target = invoker;
    this.resolveReady(invoker);
  }

  /** New invocations go to `invoker`; the previous one is returned (to be closed by the caller). */
  swap(invoker: FunctionInvoker): FunctionInvoker | undefined {
    const previous = this.target;
    this.target = invoker;
    return previous;
  }

  async invoke(functionId: string, event: unknown): Promise<InvocationOutcome> {
    return (this.target ?? (await this.ready)).invoke(functionId, event);
  }

  async close(): Promise<void> {
    await this.target?.close();
  }
}

export async function startEmulator(options: EmulatorOptions): Promise<RunningEmulator> {
  const model = loadAssembly(options.assemblyDir, { stack: options.stack, region: options.region, accountId: options.accountId });
  if (model.apis.length === 0) {
    const rootOf = (s: StackArtifact): StackArtifact => (s.parent ? rootOf(s.parent.stack) : s);
    const stacks = readStacks(options.assemblyDir)
      .filter((s) => !options.stack || rootOf(s).stackName === options.stack)
      .map((s) => (s.parent ? `${s.stackName} (nested in ${s.parent.stack.stackName})` : s.stackName));
    throw new Error(
      `No WebSocket API in ${options.assemblyDir}${options.stack ? ` (stack ${options.stack})` : ''}: it has stacks ${stacks.join(', ') || '(none)'} ` +
        'but none holds an AWS::ApiGatewayV2::Api with ProtocolType WEBSOCKET. Choose the stack that defines the API with --stack, ' +
        'or point the emulator at the cloud assembly of the app that does.',
    );
  }
  const bottleneck = connectionsBottleneckOf(options);
  const stopOnFailure: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stopOnFailure.reverse()) await stop().catch(() => undefined);
  };
  try {
    const dynamo = await startLocalDynamo({ endpoint: options.dynamodbEndpoint });
    stopOnFailure.push(() => dynamo.close());
    await createTables(dynamo.endpoint, model.tables);
    const region = options.region ?? model.apis[0].region;
    const accountId = options.accountId ?? model.apis[0].accountId;
    const iam = options.iam === false ? undefined : new IamAuthority({ functions: model.functions, accountId, log: options.log });
    const dynamoProxy = iam ? await startDynamoIamProxy({ target: dynamo.endpoint, iam, log: options.log }) : undefined;
    if (dynamoProxy) stopOnFailure.push(() => dynamoProxy.close());
    const guardModule = iam && options.dynamoChecks !== 'proxy' ? dynamoGuardModule() : undefined;
    const secret = options.localSecret ?? LOCAL_SECRET_DEFAULT;
    const secrets = await startSecretsService({ secrets: model.secrets, secretValue: secret, iam, region, accountId });
    stopOnFailure.push(() => secrets.close());
    // The template's queues; functions reach them on this port too (their sqs.{region}.amazonaws.com is redirected).
    const sqs = await startSqsService({ queues: model.queues ?? [], iam, region, accountId, log: options.log });
    stopOnFailure.push(() => sqs.close());
    const regions = [...new Set(model.apis.map((a) => a.region))];
    // JWKS URLs of the authorizers are answered here too: their hosts are redirected like execute-api's.
    const jwksUrls = redirectableJwksUrls(Object.values(model.functions).map((f) => f.environment.JWKS_URL).filter((u): u is string => Boolean(u)));
    const issuerKeys = jwksUrls.length > 0 ? loadOrCreateIssuerKeys(options.issuerKeyFile ?? LOCAL_ISSUER_KEY_FILE_DEFAULT) : undefined;
    const gatewayHosts = [
      ...regions.flatMap((r) => [`*.execute-api.${r}.amazonaws.com`, `*.execute-api.${r}.amazonaws.com.cn`]),
      ...new Set(jwksUrls.map((u) => u.hostname)),
      ...new Set([...regions.map((r) => `sqs.${r}.amazonaws.com`), ...(model.queues ?? []).map((q) => new URL(q.queueUrl).hostname)]),
    ];
    const certificate = await createCertificate(gatewayHosts);
    const invoker = new DeferredInvoker();
    stopOnFailure.push(() => invoker.close());
    const { jwks, ...claims } = tokenClaims(model);
    const gateway: Gateway = await startGateway({
      apis: options.throttle === false ? model.apis.map((api) => ({ ...api, stages: api.stages.map(({ throttling: _t, ...stage }) => stage) })) : model.apis,
      invoker,
      port: options.port ?? PORT_DEFAULT,
      tls: { key: certificate.key, cert: certificate.cert },
      idleTimeoutMs: options.idleTimeoutMs,
      maxDurationMs: options.maxDurationMs,
      extraHttp: firstOf(
        async (req, res) => {
          if (!String(req.headers['x-amz-target'] ?? '').startsWith('AmazonSQS.')) return false;
          sqs.handle(req, res);
          return true;
        },
        ...(issuerKeys ? [jwksEndpoint(jwksUrls, issuerKeys)] : []),
        devEndpoints({ secret, ...claims, staticDir: options.staticDir, ...(issuerKeys && jwks ? { issuerKeys } : {}) }),
        functionEndpoints({ functions: model.functions, invoker, routes: routesByFunction(model), log: options.log }),
      ),
      log: options.log,
      iam,
      // The account's 500 new connections per second (API Gateway quota), unless throttling is off.
      ...(options.throttle === false ? {} : { newConnections: { rateLimit: 500, burstLimit: 500 } }),
      ...(bottleneck ? { connectionsBottleneck: bottleneck } : {}),
      // AWS service integrations (MOCK/HTTP need none) reach the local services; with local IAM, through its checks.
      services: { dynamodb: dynamoProxy?.endpoint ?? dynamo.endpoint, sqs: sqs.endpoint },
    });
    stopOnFailure.unshift(() => gateway.close());
    const invokerFor = (functions: AssemblyModel['functions']): FunctionInvoker =>
      createInvoker({
        functions,
        region,
        accountId,
        dynamodb: dynamoProxy?.endpoint ?? dynamo.endpoint,
        ...(iam ? { credentialsFor: (functionId: string) => iam.credentialsFor(functionId) } : {}),
        secretsManager: secrets.endpoint,
        gatewayHosts,
        gatewayPort: gateway.port,
        caFile: certificate.certFile,
        // The gateway's port serves plain HTTP too (shared-port-server.ts), JWKS hosts included: no TLS handshake per
        // function connection.
        gatewayPlainHttp: options.functionsUseTls !== true,
        ...(options.initTimeoutMs !== undefined ? { initTimeoutMs: options.initTimeoutMs } : {}),
        ...(options.instanceIdleMs !== undefined ? { instanceIdleMs: options.instanceIdleMs } : {}),
        ...(options.surplusInstanceIdleMs !== undefined ? { surplusInstanceIdleMs: options.surplusInstanceIdleMs } : {}),
        ...(options.maxInstancesPerFunction !== undefined ? { maxInstancesPerFunction: options.maxInstancesPerFunction } : {}),
        ...(options.scaleUpDelayMs !== undefined ? { scaleUpDelayMs: options.scaleUpDelayMs } : {}),
        ...(iam && guardModule ? { dynamoGuard: { module: guardModule, target: dynamo.endpoint, identityFor: (id: string) => iam.identityConfigFor(id) } } : {}),
        ...(options.log ? { serviceLog: options.log } : {}),
        log: options.functionLog,
      });
    invoker.attach(invokerFor(model.functions));
    // Lambda's SQS pollers, once functions can be invoked.
    const eventSources = startSqsEventSources({ mappings: model.eventSourceMappings ?? [], broker: sqs.broker, invoker, region, log: options.log });
    stopOnFailure.unshift(() => eventSources.close());
    let current = model;
    const base = `http://127.0.0.1:${gateway.port}`;
    let closed = false;
    return {
      port: gateway.port,
      endpoints: gateway.endpoints,
      dynamodbEndpoint: dynamo.endpoint,
      sqsEndpoint: sqs.endpoint,
      ...(iam ? { developerCredentials: DEVELOPER_CREDENTIALS } : {}),
      tokenUrl: `${base}${TOKEN_PATH}?user=NAME`,
      functionsUrl: `${base}${FUNCTIONS_PATH}`,
      jwksUrls: jwksUrls.map((u) => u.href),
      appUrl: options.staticDir ? `${base}${APP_PATH}` : undefined,
      warnings: [...(model.warnings ?? []), ...(iam?.warnings ?? []), ...pythonWarnings(model.functions)],
      get model(): AssemblyModel {
        return current;
      },
      async reload(): Promise<ReloadResult> {
        let next: AssemblyModel;
        try {
          next = loadAssembly(options.assemblyDir, { stack: options.stack, region: options.region, accountId: options.accountId });
        } catch (err) {
          return { swapped: [], needsRestart: [], error: (err as Error).message };
        }
        const needsRestart = shapeChanges(current, next);
        const changedFunctions = Object.keys(next.functions).filter((id) => JSON.stringify(next.functions[id]) !== JSON.stringify(current.functions[id]));
        const newFunctions = changedFunctions.filter((id) => !current.functions[id]);
        if (newFunctions.length > 0) needsRestart.push(...newFunctions.map((id) => `new function ${id}`));
        if (needsRestart.length > 0 || changedFunctions.length === 0 || closed) return { swapped: [], needsRestart };
        // Same routes and tables: new function processes from the new assets; the old ones stop once replaced.
        // Local IAM first, so the new processes are checked against the new policies (same keys).
        iam?.update(next.functions);
        const previous = invoker.swap(invokerFor(next.functions));
        current = next;
        await previous?.close();
        return { swapped: changedFunctions, needsRestart: [] };
      },
      async close(): Promise<void> {
        if (closed) return;
        closed = true;
        // The gateway first (its $disconnect calls still need the invoker), then the invoker, then the services.
        // The SQS pollers before all: no new invocation starts once closing.
        await eventSources.close();
        await gateway.close();
        await invoker.close();
        await sqs.close();
        await secrets.close();
        await dynamoProxy?.close();
        await dynamo.close();
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
