/**
 * The peer suite's CDK app for `wsgate local`: the topology of AWS's simple-websockets-chat-app sample with plain
 * aws-cdk-lib constructs (no wsgate construct): a WebSocket API (route selection `$request.body.action`) with
 * $connect, $disconnect and `sendmessage` routes, one Lambda function each from bench/peer/handlers, a table keyed
 * by connectionId, and the grants the sample's template gives (table read/write, ManageConnections on the API).
 */
import * as path from 'path';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';

export const PEER_STACK = 'PeerChat';
export const PEER_STAGE = 'Prod';
export const PEER_HANDLERS = path.join(__dirname, 'handlers');

export function synthPeerApp(outdir: string): string {
  const app = new App({ outdir });
  const stack = new Stack(app, PEER_STACK, { env: { account: '123456789012', region: 'us-east-1' } });
  const table = new dynamodb.Table(stack, 'ConnectionsTable', {
    partitionKey: { name: 'connectionId', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const fn = (id: string, file: string) => {
    const f = new lambda.Function(stack, id, {
      runtime: lambda.Runtime.NODEJS_22_X,
      code: lambda.Code.fromAsset(PEER_HANDLERS),
      handler: `${file}.handler`,
      memorySize: 256,
      // The same on both sides (serverless.yml too): the sample's default 3 s is too short for N = 3,000 on a shared machine.
      timeout: Duration.seconds(30),
      environment: { TABLE_NAME: table.tableName },
    });
    table.grantReadWriteData(f);
    return f;
  };
  const onConnect = fn('OnConnectFunction', 'onconnect');
  const onDisconnect = fn('OnDisconnectFunction', 'ondisconnect');
  const sendMessage = fn('SendMessageFunction', 'sendmessage');
  const api = new apigwv2.WebSocketApi(stack, 'SimpleChatWebSocket', {
    routeSelectionExpression: '$request.body.action',
    connectRouteOptions: { integration: new WebSocketLambdaIntegration('ConnectInteg', onConnect) },
    disconnectRouteOptions: { integration: new WebSocketLambdaIntegration('DisconnectInteg', onDisconnect) },
  });
  api.addRoute('sendmessage', { integration: new WebSocketLambdaIntegration('SendInteg', sendMessage) });
  const stage = new apigwv2.WebSocketStage(stack, 'Stage', { webSocketApi: api, stageName: PEER_STAGE, autoDeploy: true });
  stage.grantManagementApiAccess(sendMessage);
  app.synth();
  return outdir;
}
