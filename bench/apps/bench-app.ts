/**
 * Benchmark-only CDK app: the example chat stack (bin/chat-stack.ts) plus two routes used only by the benchmarks:
 * - `naivesend`: the common-style baseline of `sendmessage` (bench/fanout/naive-handler.ts, bundled to
 *   BENCH_NAIVE_ASSET before synth), with the same table, callback URL, memory and timeout;
 * - `echo`: a two-way route whose handler returns the frame as the route response (bench/echo/handler).
 */
import * as path from 'path';
import { App, Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ChatStack } from '../../bin/chat-stack';
import { RouteHandler } from '../../lib';

const naiveAsset = process.env.BENCH_NAIVE_ASSET;
const echoAsset = process.env.BENCH_ECHO_ASSET;
if (!naiveAsset || !echoAsset) throw new Error('bench-app: set BENCH_NAIVE_ASSET and BENCH_ECHO_ASSET to the handler folders');

const app = new App();
const stack = new ChatStack(app, 'WsgateBench');
const gateway = stack.gateway;
const common = { runtime: lambda.Runtime.NODEJS_22_X, architecture: lambda.Architecture.ARM_64, memorySize: 256, timeout: Duration.seconds(10) };

const naive = new lambda.Function(stack, 'NaiveSendHandler', {
  ...common,
  code: lambda.Code.fromAsset(path.resolve(naiveAsset)),
  handler: 'index.handler',
  environment: { CONNECTIONS_TABLE: gateway.table.tableName, CALLBACK_URL: gateway.callbackUrl },
});
gateway.table.grantReadConnections(naive);
gateway.grantPostToConnections(naive);
gateway.addRoute('naivesend', { handler: RouteHandler.fromFunction(naive) });

const echo = new lambda.Function(stack, 'EchoHandler', {
  ...common,
  code: lambda.Code.fromAsset(path.resolve(echoAsset)),
  handler: 'index.handler',
});
gateway.addRoute('echo', { handler: RouteHandler.fromFunction(echo), returnResponse: true });
app.synth();
