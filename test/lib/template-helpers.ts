import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

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
