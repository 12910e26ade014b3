import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Acknowledgements of cdk-nag findings that cannot apply to what wsgate builds, each with its
 * reason. They use CDK's own `Validations` API, so wsgate does not depend on cdk-nag; a user
 * running the AwsSolutions or Serverless packs sees only findings about their own choices.
 * @internal
 */

/** Bundled handler functions: runtime pinned to the bundle target, invoked synchronously. */
export function acknowledgeHandlerFunctionFindings(fn: IConstruct, invokedByQueue = false): void {
  const runtimeReason =
    'The bundled handlers are built by esbuild for target node22; ' +
    'the runtime is pinned to nodejs22.x to match the bundle, and moves when the bundle target moves.';
  Validations.of(fn).acknowledge({ id: 'AwsSolutions-L1', reason: runtimeReason });
  Validations.of(fn).acknowledge({ id: 'Serverless-LambdaLatestVersion', reason: runtimeReason });
  Validations.of(fn).acknowledge({
    id: 'Serverless-LambdaDLQ',
    reason: invokedByQueue
      ? 'An SQS event source mapping invokes this function synchronously; a message that keeps failing moves to ' +
        "the delivery queue's own dead-letter queue (maxReceiveCount), a function DLQ would never be used."
      : 'API Gateway invokes this function synchronously (a route integration or the $connect authorizer); ' +
        'a dead-letter queue only receives failed asynchronous invocations, so it would never be used.',
  });
}

/** A handler that posts to clients: the connection id is the last path segment, known only at runtime. */
export function acknowledgeManageConnectionsWildcard(grantee: IConstruct, findingResource: string): void {
  Validations.of(grantee).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${findingResource}]`,
    reason:
      'execute-api:ManageConnections is scoped to this stage and to POST/@connections; the trailing * is the ' +
      'connection id, which exists only at runtime.',
  });
}

/** A route other than $connect: API Gateway WebSocket APIs authorize only at $connect. */
export function acknowledgeRouteWithoutAuthorizer(route: IConstruct): void {
  Validations.of(route).acknowledge({
    id: 'AwsSolutions-APIG4',
    reason:
      'A WebSocket API can authorize only its $connect route; the connection was ' +
      'authorized there by the JWT authorizer, and its identity reaches every later route.',
  });
}

/** The generated HS256 signing key. */
export function acknowledgeSigningSecretRotation(secret: IConstruct): void {
  Validations.of(secret).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason:
      'The secret is an HS256 key shared with the token issuer; rotating it without the issuer would reject ' +
      'every valid token. Pass signingSecret with your own rotation, or use jwksUrl, to rotate keys.',
  });
}

/** X-Ray accepts no resource-level permissions, so tracing needs `Resource: *` on its two write actions. */
export function acknowledgeTracingWildcard(fn: IConstruct): void {
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'Active tracing grants xray:PutTraceSegments and xray:PutTelemetryRecords, which support no ' +
      'resource-level permissions; the resource must be *. No other statement uses a * resource.',
  });
}

/** The delivery queue's event source: SQS has no on-failure destination; its dead-letter queue plays that role. */
export function acknowledgeQueueEventSourceDestination(eventSourceMapping: IConstruct): void {
  Validations.of(eventSourceMapping).acknowledge({
    id: 'Serverless-LambdaEventSourceMappingDestination',
    reason:
      'An SQS event source mapping accepts no on-failure destination; a shard message that keeps failing moves to ' +
      "the delivery queue's dead-letter queue after maxReceiveCount receives, and an alarm watches that queue.",
  });
}

/** The delivery dead-letter queue is the end of the line: a redrive policy of its own would drop messages. */
export function acknowledgeDeadLetterQueueRedrive(deadLetterQueue: IConstruct): void {
  Validations.of(deadLetterQueue).acknowledge({
    id: 'Serverless-SQSRedrivePolicy',
    reason:
      'This queue is the dead-letter queue of the delivery queue; its messages are kept 14 days for inspection and ' +
      'redrive, and an alarm fires on the first one.',
  });
}
