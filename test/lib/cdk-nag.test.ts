/**
 * cdk-nag v3 (AwsSolutions + Serverless packs) over the example app: zero unacknowledged findings.
 * The acknowledgements live next to the code they concern (lib/nag-acknowledgements.ts), each with
 * its reason; everything else was fixed (own roles without managed policies, tracing, log retention,
 * JSON access logs, throttling, PITR).
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { ChatStack } from '../../bin/chat-stack';
import { TickerStack } from '../../bin/ticker-stack';
import { BundledHandler, ConnectAuthorization, GatewayDashboard, RouteHandler, WebSocketGateway } from '../../lib';
import { VALIDATION_CONTEXT } from './template-helpers';

function appWithNagPacks(): App {
  const app = new App({ context: VALIDATION_CONTEXT });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return app;
}

describe('cdk-nag AwsSolutions and Serverless packs', () => {
  test('GIVEN the example chat app WHEN synthesized with both packs THEN the report has no finding', () => {
    const app = appWithNagPacks();
    new ChatStack(app, 'WsgateChat');
    const assembly = app.synth();
    const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
    const violations = (report.pluginReports ?? []).flatMap((r: { violations?: unknown[] }) => r.violations ?? []);
    expect(violations).toEqual([]);
  });

  test('GIVEN the ticker example app WHEN synthesized with both packs THEN the report has no finding', () => {
    const app = appWithNagPacks();
    new TickerStack(app, 'WsgateTicker');
    const assembly = app.synth();
    const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
    const violations = (report.pluginReports ?? []).flatMap((r: { violations?: unknown[] }) => r.violations ?? []);
    expect(violations).toEqual([]);
  });

  test('GIVEN a gateway with sharded delivery, alarms to a topic and the dashboard WHEN synthesized with both packs THEN the report has no finding', () => {
    const app = appWithNagPacks();
    const stack = new Stack(app, 'WsgateSharded');
    const gateway = new WebSocketGateway(stack, 'Gateway', {
      issuer: 'https://issuer.example',
      audience: 'test-audience',
      delivery: { alarmTopic: new sns.Topic(stack, 'Alarms', { enforceSSL: true, masterKey: kms.Alias.fromAliasName(stack, 'SnsKey', 'alias/aws/sns') }) },
    });
    gateway.addRoute('sendmessage', { handler: RouteHandler.bundled(BundledHandler.SEND_MESSAGE) });
    new GatewayDashboard(stack, 'Dashboard', { gateway });
    const assembly = app.synth();
    const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
    const violations = (report.pluginReports ?? []).flatMap((r: { violations?: unknown[] }) => r.violations ?? []);
    expect(violations).toEqual([]);
  });

  test('GIVEN a gateway with IAM authorization on $connect and a role granted grantConnect WHEN synthesized with both packs THEN the report has no finding', () => {
    const app = appWithNagPacks();
    const stack = new Stack(app, 'WsgateIam');
    const gateway = new WebSocketGateway(stack, 'Gateway', { connectAuthorization: ConnectAuthorization.iam() });
    gateway.grantConnect(new iam.Role(stack, 'Backend', { assumedBy: new iam.AccountRootPrincipal() }));
    const assembly = app.synth();
    const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
    const violations = (report.pluginReports ?? []).flatMap((r: { violations?: unknown[] }) => r.violations ?? []);
    expect(violations).toEqual([]);
  });

  test('GIVEN a user function without tracing on a custom route WHEN synthesized THEN the packs do report it (they ran)', () => {
    const app = appWithNagPacks();
    const stack = new ChatStack(app, 'WsgateChat');
    const own = new lambda.Function(stack, 'Own', {
      code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 });'),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_22_X,
    });
    stack.gateway.addRoute('own', { handler: RouteHandler.fromFunction(own) });
    // Only the user's function is reported: the gateway's acknowledgements do not leak onto it.
    let message = '';
    try {
      app.synth();
    } catch (error) {
      message = String(error);
    }
    expect(message).toMatch(/AwsSolutions-L1[\s\S]*WsgateChat\/Own\/|WsgateChat\/Own\/[\s\S]*AwsSolutions-L1/);
    expect(message).toMatch(/Serverless-LambdaDLQ/);
    expect(message).not.toMatch(/WsgateChat\/Chat\//);
  });
});
