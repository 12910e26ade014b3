/**
 * The emulator's view of a cloud assembly, and the seams between its parts.
 *
 * `local/assembly/` turns `cdk.out` into an `AssemblyModel` (intrinsics resolved to local values);
 * `local/runtime/` runs Lambda functions from their assets (`FunctionInvoker`);
 * `local/gateway/` serves the WebSocket and `@connections` endpoints from the model.
 * Nothing here imports `lib/` or `lambda/`: any CDK app's WebSocket API can be run.
 */

/** A Lambda function of the template, with every reference resolved to a local value. */
export interface FunctionModel {
  /** `StackName/LogicalId`, unique across the assembly. */
  readonly id: string;
  readonly stackName: string;
  readonly logicalId: string;
  /** Physical name the emulator gave it (what `Ref` resolved to). */
  readonly functionName: string;
  /** Construct path without the trailing `/Resource` (e.g. `Ticker/Publisher`). @default - unknown (no metadata) */
  readonly constructPath?: string;
  /** Handler string, e.g. `index.handler` or `src/app.main`. */
  readonly handler: string;
  /** e.g. `nodejs22.x`. Non-Node runtimes are reported as unsupported when invoked. */
  readonly runtime: string;
  /** Absolute path of the unpacked asset folder in the assembly. */
  readonly codeDir: string;
  /** Environment variables, resolved (table names, callback URL, secret ARNs...). */
  readonly environment: Record<string, string>;
  /** Seconds (CloudFormation default 3). */
  readonly timeoutSeconds: number;
  /** MB (CloudFormation default 128). */
  readonly memorySize: number;
  /**
   * ReservedConcurrentExecutions: at most this many invocations at once, one more is throttled
   * (TooManyRequestsException). @default - not reserved (the emulator's local instance bound applies; invocations wait)
   */
  readonly reservedConcurrency?: number;
  /** Region and account of its stack (AWS_REGION of the function). @default the invoker's */
  readonly region?: string;
  readonly accountId?: string;
  /** Why the emulator cannot run it (non-Node runtime, missing asset, unresolvable environment); invoking it fails. */
  readonly unsupported?: string;
  /** Its execution role, when the role is a resource of the assembly (local IAM checks its calls). @default - not checked */
  readonly role?: RoleModel;
}

/** An execution role of the template and the policies attached to it, intrinsics resolved. */
export interface RoleModel {
  /** `StackName/LogicalId`. */
  readonly id: string;
  readonly roleName: string;
  readonly arn: string;
  /** Inline policies, AWS::IAM::Policy and customer managed policies of the template attached to it. */
  readonly policies: ReadonlyArray<{ readonly name: string; readonly document: unknown }>;
  /** Managed policy ARNs that are not resources of the template (AWS managed policies). */
  readonly managedPolicyArns: readonly string[];
  /** Statements that could not be resolved (skipped: they grant nothing locally). */
  readonly warnings: readonly string[];
  /**
   * The role's PermissionsBoundary: a customer managed policy of the template (`document`, intrinsics resolved) or
   * a managed policy ARN (`arn`). An action is allowed only when the role's policies and the boundary both allow it.
   * @default - no boundary
   */
  readonly permissionsBoundary?: { readonly name: string; readonly document?: unknown; readonly arn?: string };
}

/** Authorizer attached to a `$connect` route (only REQUEST Lambda authorizers exist for WebSocket). */
export interface AuthorizerModel {
  readonly authorizerId: string;
  readonly name: string;
  /** `FunctionModel.id` of the authorizer function. */
  readonly functionId: string;
  /** e.g. `['route.request.querystring.token']`. */
  readonly identitySource: string[];
}

export interface RouteModel {
  readonly routeId: string;
  readonly routeKey: string;
  /** `FunctionModel.id` of the AWS_PROXY Lambda integration, or undefined when the route has no integration. */
  readonly functionId?: string;
  /** The integration's TimeoutInMillis (50–29000). @default - 29000, API Gateway's integration limit */
  readonly integrationTimeoutMs?: number;
  /** NONE | CUSTOM | AWS_IAM */
  readonly authorizationType: string;
  readonly authorizer?: AuthorizerModel;
  readonly apiKeyRequired: boolean;
  /** True when the route has RouteResponseSelectionExpression and a `$default` route response (two-way). */
  readonly hasRouteResponse: boolean;
  /** Why the emulator cannot run this route (non-Lambda integration, missing function or authorizer). */
  readonly unsupported?: string;
  /** The route's non-Lambda integration (MOCK, HTTP_PROXY, HTTP, AWS service). @default - Lambda proxy or none */
  readonly integration?: IntegrationModel;
  /** ModelSelectionExpression + RequestModels: the body is validated before the integration runs. @default - not validated */
  readonly validation?: RequestValidationModel;
}

/** A non-Lambda integration (AWS::ApiGatewayV2::Integration) with its integration responses, intrinsics resolved. */
export interface IntegrationModel {
  /** `Stack/LogicalId` of the integration, for messages. */
  readonly id: string;
  /** MOCK | HTTP_PROXY | HTTP | AWS */
  readonly type: string;
  /** IntegrationUri (a URL for HTTP types, `arn:aws:apigateway:{region}:{service}:{path|action}/...` for AWS). @default - none (MOCK) */
  readonly uri?: string;
  /** IntegrationMethod. @default 'POST' */
  readonly method?: string;
  /** CredentialsArn's role, when it is a role of the template (its policies are checked by local IAM). @default - not checked */
  readonly credentialsRole?: RoleModel;
  /** RequestTemplates by template key. */
  readonly requestTemplates: Record<string, string>;
  /** TemplateSelectionExpression. @default - '$default' */
  readonly templateSelectionExpression?: string;
  /** WHEN_NO_MATCH | WHEN_NO_TEMPLATES | NEVER (API Gateway's default is WHEN_NO_MATCH). */
  readonly passthroughBehavior: string;
  /** RequestParameters (`integration.request.header.X` → `'static'` or `context.X` / `stageVariables.X`). */
  readonly requestParameters: Record<string, string>;
  /** ContentHandlingStrategy. @default - text passed as is */
  readonly contentHandling?: string;
  /** AWS::ApiGatewayV2::IntegrationResponse resources of this integration. */
  readonly responses: IntegrationResponseModel[];
  /** TimeoutInMillis. @default - 29000 */
  readonly timeoutMs?: number;
}

export interface IntegrationResponseModel {
  /** IntegrationResponseKey: `$default`, a status code, or a `/regex/` matched against the status code. */
  readonly key: string;
  /** ResponseTemplates by template key. */
  readonly templates: Record<string, string>;
  /** TemplateSelectionExpression. @default - '$default' */
  readonly templateSelectionExpression?: string;
}

/** Route RequestModels (key → model) chosen by its ModelSelectionExpression. */
export interface RequestValidationModel {
  readonly modelSelectionExpression: string;
  /** Model key (`$default`, or what the expression evaluates to) → the model. */
  readonly models: Record<string, { readonly name: string; readonly schema: unknown }>;
}

export interface StageModel {
  readonly stageName: string;
  readonly stageVariables: Record<string, string>;
  /** DefaultRouteSettings / RouteSettings throttling of the stage. @default - not throttled */
  readonly throttling?: StageThrottling;
}

/** Token-bucket limits (requests per second, bucket size), as API Gateway applies them per stage and route. */
export interface ThrottleModel {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export interface StageThrottling {
  /** DefaultRouteSettings. @default - no stage-wide limit */
  readonly defaultRoute?: ThrottleModel;
  /** RouteSettings by route key. @default - none */
  readonly routes?: Record<string, ThrottleModel>;
}

export interface WebSocketApiModel {
  readonly stackName: string;
  readonly logicalId: string;
  /** The API id the emulator assigned (10 lowercase alphanumerics, like API Gateway's). */
  readonly apiId: string;
  readonly name: string;
  readonly routeSelectionExpression: string;
  readonly routes: RouteModel[];
  readonly stages: StageModel[];
  readonly region: string;
  readonly accountId: string;
  /** Stage name → API key values of the usage plans on that stage (`x-api-key` on `$connect`). @default - none */
  readonly apiKeys?: Record<string, string[]>;
}

export interface TableModel {
  readonly stackName: string;
  readonly logicalId: string;
  /** Physical name the emulator gave it (what `Ref` resolved to). */
  readonly tableName: string;
  /** CreateTable input (KeySchema, AttributeDefinitions, GlobalSecondaryIndexes, BillingMode...). */
  readonly createTableInput: Record<string, unknown>;
  /** TTL attribute name, if any. */
  readonly ttlAttribute?: string;
}

/** An AWS::SQS::Queue of the template (KMS settings are not emulated). */
export interface QueueModel {
  /** `StackName/LogicalId`. */
  readonly id: string;
  readonly stackName: string;
  readonly logicalId: string;
  readonly queueName: string;
  /** What `Ref` resolved to: `https://sqs.{region}.amazonaws.com/{account}/{name}`. */
  readonly queueUrl: string;
  readonly arn: string;
  /** Seconds (CloudFormation default 30). */
  readonly visibilityTimeoutSeconds: number;
  /** Seconds (default 345600, 4 days). */
  readonly messageRetentionSeconds: number;
  /** Bytes (default 262144). */
  readonly maximumMessageSize: number;
  readonly delaySeconds: number;
  readonly receiveMessageWaitTimeSeconds: number;
  /** RedrivePolicy. @default - no dead-letter queue */
  readonly redrive?: { readonly deadLetterTargetArn: string; readonly maxReceiveCount: number };
}

/** An AWS::Lambda::EventSourceMapping with an SQS source: the emulator polls the queue and invokes the function. */
export interface EventSourceMappingModel {
  /** `StackName/LogicalId`. */
  readonly id: string;
  readonly stackName: string;
  readonly logicalId: string;
  /** `FunctionModel.id` of the function it invokes. */
  readonly functionId: string;
  readonly queueArn: string;
  /** Records per invocation (default 10). */
  readonly batchSize: number;
  /** MaximumBatchingWindowInSeconds (default 0). */
  readonly maximumBatchingWindowSeconds: number;
  readonly enabled: boolean;
  /** FunctionResponseTypes includes ReportBatchItemFailures. */
  readonly reportBatchItemFailures: boolean;
  /** ScalingConfig.MaximumConcurrency. @default - the emulator's local default (5) */
  readonly maximumConcurrency?: number;
}

export interface AssemblyModel {
  readonly apis: WebSocketApiModel[];
  readonly functions: Record<string, FunctionModel>;
  readonly tables: TableModel[];
  /** Logical ids (`Stack/LogicalId`) of AWS::SecretsManager::Secret resources and their resolved ARNs. */
  readonly secrets: Record<string, string>;
  /** AWS::SQS::Queue resources of every stack. @default - none */
  readonly queues?: QueueModel[];
  /** SQS event source mappings of the chosen stacks. @default - none */
  readonly eventSourceMappings?: EventSourceMappingModel[];
  /** What the emulator cannot run or does not check, one message per problem, naming stack and resource. */
  readonly warnings?: readonly string[];
}

/** What a Lambda invocation produced. Exactly one of result / error / timedOut describes the outcome. */
export interface InvocationOutcome {
  /** The value the handler returned (or passed to its callback). */
  readonly result?: unknown;
  /** The handler threw, rejected, called back with an error, or crashed its process. */
  readonly error?: { readonly errorType: string; readonly errorMessage: string };
  /** The function ran past its timeout and was stopped. */
  readonly timedOut?: boolean;
  readonly durationMs: number;
}

export interface FunctionInvoker {
  invoke(functionId: string, event: unknown): Promise<InvocationOutcome>;
  /** Stops every function process. */
  close(): Promise<void>;
}
