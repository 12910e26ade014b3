import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { BundledHandler, RouteHandler, WebSocketGateway } from '../lib';

/** Issuer and audience of the example's tokens; `npm run token` signs with the same values. */
export const CHAT_TOKEN_ISSUER = 'wsgate-example';
export const CHAT_TOKEN_AUDIENCE = 'wsgate-chat';

/**
 * The example chat (design.md "Example app protocol"): join / leave / sendmessage routes on a
 * JWT-authorized WebSocket API, with a generated HS256 signing key.
 */
export class ChatStack extends Stack {
  public readonly gateway: WebSocketGateway;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.gateway = new WebSocketGateway(this, 'Chat', {
      issuer: CHAT_TOKEN_ISSUER,
      audience: CHAT_TOKEN_AUDIENCE,
    });
    this.gateway.addRoute('join', { handler: RouteHandler.bundled(BundledHandler.JOIN) });
    this.gateway.addRoute('leave', { handler: RouteHandler.bundled(BundledHandler.LEAVE) });
    this.gateway.addRoute('sendmessage', { handler: RouteHandler.bundled(BundledHandler.SEND_MESSAGE) });

    new CfnOutput(this, 'WebSocketUrl', {
      description: 'Where chat clients connect (add ?token=<JWT>)',
      value: this.gateway.webSocketUrl,
    });
    new CfnOutput(this, 'CallbackUrl', {
      description: 'The @connections endpoint of the stage',
      value: this.gateway.callbackUrl,
    });
    new CfnOutput(this, 'SigningSecretArn', {
      description: 'Secrets Manager secret holding the HS256 key that signs connection tokens',
      value: this.gateway.signingSecret!.secretArn,
    });
  }
}
