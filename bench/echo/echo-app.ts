/**
 * Benchmark-only CDK app for the echo enforcement comparison: a WebSocketGateway with the bundled JWT authorizer,
 * `$connect`, `$disconnect` and `$default`, and the `echo` two-way route (bench/echo/handler), whose stage
 * throttling is set far above what the run sends (100,000 rps, burst 5,000), so that with enforcement on every
 * message goes through the stage's token bucket without ever being throttled.
 * env: CDK_OUTDIR, BENCH_ECHO_ASSET (the echo handler folder), BENCH_ISSUER / BENCH_AUDIENCE (what dev tokens carry).
 */
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { RouteHandler, WebSocketGateway } from '../../lib';

const { BENCH_ECHO_ASSET: echoAsset, BENCH_ISSUER: issuer, BENCH_AUDIENCE: audience } = process.env;
if (!echoAsset || !issuer || !audience) throw new Error('echo-app: set BENCH_ECHO_ASSET, BENCH_ISSUER and BENCH_AUDIENCE');

const app = new App();
const stack = new Stack(app, 'WsgateEchoEnforcement');
const gateway = new WebSocketGateway(stack, 'Gateway', { issuer, audience, throttlingRateLimit: 100_000, throttlingBurstLimit: 5_000 });
const echo = new lambda.Function(stack, 'EchoHandler', {
  runtime: lambda.Runtime.NODEJS_22_X,
  architecture: lambda.Architecture.ARM_64,
  memorySize: 256,
  timeout: Duration.seconds(10),
  code: lambda.Code.fromAsset(path.resolve(echoAsset)),
  handler: 'index.handler',
});
gateway.addRoute('echo', { handler: RouteHandler.fromFunction(echo), returnResponse: true });
app.synth();
