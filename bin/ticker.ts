#!/usr/bin/env node
// The ticker example app: `npx cdk synth --app "npx ts-node --prefer-ts-exts bin/ticker.ts"`
// (run `npm run build:handlers` first: the publisher and the gateway handlers are prebuilt bundles).
import { App } from 'aws-cdk-lib';
import { TickerStack } from './ticker-stack';

// Validate the template against CloudFormation's rules at synth, as cdk.json does for the chat app.
const app = new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
new TickerStack(app, 'WsgateTicker', {
  description: 'wsgate example: a scheduled publisher sending ticks to a WebSocket room',
});
app.synth();
