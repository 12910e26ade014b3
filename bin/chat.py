#!/usr/bin/env python3
"""The example chat (bin/chat.ts + bin/chat-stack.ts) built through wsgate's Python binding.

It synthesizes the same stack as the TypeScript example: join / leave / sendmessage routes on a
JWT-authorized WebSocket API with a generated HS256 signing key. test/python/test_chat_app.py
checks that both templates are equal, asset hashes included.

    pip install wsgate aws-cdk-lib constructs
    python bin/chat.py            # writes cdk.out/ (or $CDK_OUTDIR)
"""
from aws_cdk import App, CfnOutput, Stack
from constructs import Construct

from wsgate import BundledHandler, RouteHandler, WebSocketGateway

# Issuer and audience of the example's tokens; `npm run token` signs with the same values.
CHAT_TOKEN_ISSUER = "wsgate-example"
CHAT_TOKEN_AUDIENCE = "wsgate-chat"


class ChatStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.gateway = WebSocketGateway(
            self, "Chat", issuer=CHAT_TOKEN_ISSUER, audience=CHAT_TOKEN_AUDIENCE
        )
        self.gateway.add_route("join", handler=RouteHandler.bundled(BundledHandler.JOIN))
        self.gateway.add_route("leave", handler=RouteHandler.bundled(BundledHandler.LEAVE))
        self.gateway.add_route(
            "sendmessage", handler=RouteHandler.bundled(BundledHandler.SEND_MESSAGE)
        )

        CfnOutput(
            self,
            "WebSocketUrl",
            description="Where chat clients connect (add ?token=<JWT>)",
            value=self.gateway.web_socket_url,
        )
        CfnOutput(
            self,
            "CallbackUrl",
            description="The @connections endpoint of the stage",
            value=self.gateway.callback_url,
        )
        CfnOutput(
            self,
            "SigningSecretArn",
            description="Secrets Manager secret holding the HS256 key that signs connection tokens",
            value=self.gateway.signing_secret.secret_arn,
        )


def main() -> None:
    app = App()
    ChatStack(app, "WsgateChat", description="wsgate example: a JWT-authorized WebSocket chat")
    app.synth()


if __name__ == "__main__":
    main()
