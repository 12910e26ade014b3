import { Annotations, Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BundledHandler, bundledHandlerCode } from './bundled-handler';
import { acknowledgeHandlerFunctionFindings, acknowledgeTracingWildcard } from './nag-acknowledgements';

/** API Gateway gives up on an integration after 29 s (a hard limit of API Gateway, not raisable). */
const API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS = 29;

/** Settings shared by every Lambda function the constructs create. */
export interface HandlerFunctionOptions {
  /**
   * Memory of each bundled handler function, in MiB.
   *
   * @default 256 - enough for the bundled handlers; more memory also means more CPU
   */
  readonly memorySize?: number;

  /**
   * Timeout of each bundled handler function. API Gateway stops waiting after 29 seconds.
   *
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;

  /**
   * How long the handler functions' logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * X-Ray tracing of the handler functions.
   *
   * @default lambda.Tracing.ACTIVE - every invocation is sampled and traced
   */
  readonly tracing?: lambda.Tracing;
}

/** Properties of a {@link HandlerFunction}. */
export interface HandlerFunctionProps extends HandlerFunctionOptions {
  /** Which bundled handler runs. */
  readonly handler: BundledHandler;
  /** Environment variables, named as the runtime reads them. */
  readonly environment: { [name: string]: string };
  /** Invoked by an SQS event source mapping instead of API Gateway (no integration timeout applies). @default false */
  readonly invokedByQueue?: boolean;
}

/**
 * A bundled handler as a Lambda function: Node.js 22 on arm64, its own log group with retention
 * and its own role that may write only to that log group (no managed policy).
 * @internal
 */
export class HandlerFunction extends Construct {
  public readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const timeout = props.timeout ?? Duration.seconds(10);
    if (!props.invokedByQueue && !Token.isUnresolved(timeout.toSeconds()) && timeout.toSeconds() > API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS) {
      Annotations.of(this).addWarningV2(
        'wsgate:handlerTimeoutAboveIntegrationTimeout',
        `The ${props.handler.name} handler's timeout (${timeout.toSeconds()} s) exceeds API Gateway's integration ` +
          `timeout of ${API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS} s: API Gateway stops waiting first. ` +
          'Lower the timeout, or acknowledge this warning if the handler must finish its work anyway.',
      );
    }
    const tracing = props.tracing ?? lambda.Tracing.ACTIVE;
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `wsgate ${props.handler.name} handler`,
    });
    logGroup.grantWrite(role);
    this.function = new lambda.Function(this, 'Resource', {
      code: bundledHandlerCode(props.handler),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout,
      environment: props.environment,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing,
      role,
    });
    acknowledgeHandlerFunctionFindings(this, props.invokedByQueue ?? false);
    if (tracing === lambda.Tracing.ACTIVE) acknowledgeTracingWildcard(this);
    // The role's policy must exist before the function can log its first invocation.
    this.function.node.addDependency(role);
  }
}
