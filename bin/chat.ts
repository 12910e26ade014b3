#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { ChatStack } from './chat-stack';

const app = new App();
new ChatStack(app, 'WsgateChat', {
  description: 'wsgate example: a JWT-authorized WebSocket chat',
});
app.synth();
