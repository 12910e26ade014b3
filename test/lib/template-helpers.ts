import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { WebSocketGateway, WebSocketGatewayProps } from '../../lib';

/**
 * Every test app validates its templates against CloudFormation's rules, as cdk.json does,
 * and (construct library strict mode) fails synth on warnings too.
 */
export const VALIDATION_CONTEXT = {
  '@aws-cdk/core:validateAgainstDefaultRules': true,
  '@aws-cdk/core:strictCfnValidateErrors': true,
};

/** A stack in an app that validates its template at synth. */
export function newValidatedStack(id = 'TestStack'): Stack {
  const app = new App({ context: VALIDATION_CONTEXT });
  return new Stack(app, id);
}

const ASSET_HASH = /[0-9a-f]{64}/g;

/**
 * The template as JSON with every asset hash replaced by a placeholder, so a handler edit
 * changes no snapshot (the S3 keys are `<hash>.zip`).
 */
export function stableTemplateJson(template: Template): unknown {
  return JSON.parse(JSON.stringify(template.toJSON()).replace(ASSET_HASH, '[ASSET-HASH]'));
}

/** Every IAM policy statement of the template: role policies, inline policies and managed policies. */
export function allPolicyStatements(template: Template): Array<Record<string, unknown>> {
  const statements: Array<Record<string, unknown>> = [];
  const collect = (document: unknown): void => {
    const list = (document as { Statement?: unknown } | undefined)?.Statement;
    if (Array.isArray(list)) statements.push(...(list as Array<Record<string, unknown>>));
  };
  for (const resource of Object.values(template.toJSON().Resources ?? {}) as Array<{ Type: string; Properties?: any }>) {
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      collect(resource.Properties?.PolicyDocument);
    }
    if (resource.Type === 'AWS::IAM::Role') {
      for (const policy of resource.Properties?.Policies ?? []) collect(policy.PolicyDocument);
    }
  }
  return statements;
}

/** The actions of a statement as a list. */
export function actionsOf(statement: Record<string, unknown>): string[] {
  const action = statement.Action;
  return Array.isArray(action) ? [...(action as string[])] : [action as string];
}

/** Issuer and audience every test gateway uses. */
export const AUTH = { issuer: 'https://issuer.example', audience: 'test-audience' };

/** A gateway with id 'Gateway' in `stack`, with the test issuer/audience and `props`. */
export function gatewayIn(stack: Stack, props: Partial<WebSocketGatewayProps> = {}): WebSocketGateway {
  return new WebSocketGateway(stack, 'Gateway', { ...AUTH, ...props });
}

/** A small user function with inline code (no asset, no bundling). */
export function userFunction(stack: Stack, id = 'UserFunction'): lambda.Function {
  return new lambda.Function(stack, id, {
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 });'),
    handler: 'index.handler',
    runtime: lambda.Runtime.NODEJS_22_X,
  });
}

/** The literal text of an ARN built with Fn::Join, tokens shown as `{token}`. */
export function arnText(value: any): string {
  if (typeof value === 'string') return value;
  const join = value?.['Fn::Join'];
  return join ? join[1].map((p: unknown) => (typeof p === 'string' ? p : '{token}')).join(join[0]) : '{token}';
}

/** The SourceArn of every Lambda permission, as text. */
export function permissionScopes(template: Template): string[] {
  return Object.values(template.findResources('AWS::Lambda::Permission')).map((p: any) => arnText(p.Properties.SourceArn));
}

/** The policy statements attached to one role (its default policy and inline policies). */
export function statementsOfRole(stack: Stack, template: Template, role: iam.IRole): Array<Record<string, any>> {
  const roleId = stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
  return Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}
