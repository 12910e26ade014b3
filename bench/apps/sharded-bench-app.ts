/**
 * Benchmark-only CDK app for the sharded-delivery benchmark (bench/fanout/sharded-suite.ts): the example chat's
 * gateway with sharded delivery on at its defaults (audiences above 1,000 are enqueued in shards of 1,000, 10
 * workers at most), and two send routes:
 * - `sendmessage`: the bundled handler, sharded (the `delivery` prop variant);
 * - `directsend`: the same bundle (assets/handlers/sendmessage) as a plain `lambda.Function` with the bundled
 *   handler's memory and timeout, whose DELIVERY_QUEUE_URL is removed from the template, so it posts to every
 *   recipient itself in one invocation (the single-invocation variant).
 * Issuer and audience are the example's, so the emulator's dev tokens are accepted.
 */
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { BundledHandler, GatewayPermission, RouteHandler, WebSocketGateway } from '../../lib';

const root = path.resolve(__dirname, '..', '..');
const assetsDir = process.env.BENCH_HANDLER_ASSETS ?? path.join(root, 'assets', 'handlers');

const app = new App();
const stack = new Stack(app, 'WsgateBenchSharded');
const gateway = new WebSocketGateway(stack, 'Chat', {
  issuer: 'wsgate-example',
  audience: 'wsgate-chat',
  delivery: { alarms: false },
});
gateway.addRoute('join', { handler: RouteHandler.bundled(BundledHandler.JOIN) });
gateway.addRoute('sendmessage', { handler: RouteHandler.bundled(BundledHandler.SEND_MESSAGE) });

const direct = new lambda.Function(stack, 'DirectSendHandler', {
  runtime: lambda.Runtime.NODEJS_22_X,
  architecture: lambda.Architecture.ARM_64,
  memorySize: 256,
  timeout: Duration.seconds(10),
  code: lambda.Code.fromAsset(path.join(assetsDir, 'sendmessage')),
  handler: 'index.handler',
});
gateway.addRoute('directsend', {
  handler: RouteHandler.fromFunction(direct, {
    permissions: [GatewayPermission.READ_CONNECTIONS, GatewayPermission.REMOVE_CONNECTIONS, GatewayPermission.POST_TO_CONNECTIONS],
  }),
});
// Without a queue URL the bundled sendmessage never enqueues: every send is one invocation, as without `delivery`.
(direct.node.defaultChild as lambda.CfnFunction).addPropertyDeletionOverride('Environment.Variables.DELIVERY_QUEUE_URL');
app.synth();
