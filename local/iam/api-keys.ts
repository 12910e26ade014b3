/**
 * API keys of a WebSocket API, per stage, from the template: AWS::ApiGateway::UsagePlan resources whose ApiStages
 * name the API, their AWS::ApiGateway::UsagePlanKey links, and the AWS::ApiGateway::ApiKey values (a key without a
 * `Value` gets a local one, printed at start). A documented local key is accepted on every stage as well.
 */
import { AssemblyError, where } from '../assembly/errors';
import type { StackResolver } from '../assembly/intrinsics';

/** Accepted as `x-api-key` on every stage whose `$connect` requires an API key. */
export const LOCAL_API_KEY = 'wsgate-local-api-key-00000000000000000001';

const refOf = (value: unknown): string | undefined => {
  const ref = (value as { Ref?: unknown } | undefined)?.Ref;
  return typeof ref === 'string' ? ref : undefined;
};

/** Stage name → key values. `warnings` gets one line per key the emulator had to invent or could not read. */
export function readApiKeys(resolver: StackResolver, apiLogicalId: string, warnings: string[]): Record<string, string[]> {
  const resources = resolver.resources;
  const out: Record<string, string[]> = {};
  const keyValue = (keyId: string): string | undefined => {
    const key = resources[keyId];
    if (key?.Type !== 'AWS::ApiGateway::ApiKey' || !resolver.isDeployed(keyId)) return undefined;
    const props = key.Properties ?? {};
    if (props.Enabled === false || props.Enabled === 'false') return undefined;
    try {
      if (props.Value !== undefined) return resolver.resolveString(props.Value, keyId, 'Properties.Value');
    } catch (e) {
      if (!(e instanceof AssemblyError)) throw e;
      warnings.push(`${where(resolver.stackName, keyId)}: API key value not resolvable (${e.message}); a local value is used`);
    }
    return `wsgate-local-${keyId}`.padEnd(30, '0');
  };
  for (const [planId, plan] of Object.entries(resources)) {
    if (plan.Type !== 'AWS::ApiGateway::UsagePlan' || !resolver.isDeployed(planId)) continue;
    const apiStages = (plan.Properties?.ApiStages ?? []) as Array<{ ApiId?: unknown; Stage?: unknown }>;
    const stages: string[] = [];
    for (const [index, apiStage] of (Array.isArray(apiStages) ? apiStages : []).entries()) {
      if (refOf(apiStage.ApiId) !== apiLogicalId) continue;
      try {
        stages.push(resolver.resolveString(apiStage.Stage, planId, `Properties.ApiStages.${index}.Stage`));
      } catch (e) {
        if (!(e instanceof AssemblyError)) throw e;
        warnings.push(e.message);
      }
    }
    if (stages.length === 0) continue;
    for (const link of Object.values(resources)) {
      if (link.Type !== 'AWS::ApiGateway::UsagePlanKey' || refOf(link.Properties?.UsagePlanId) !== planId) continue;
      const keyId = refOf(link.Properties?.KeyId);
      const value = keyId ? keyValue(keyId) : undefined;
      if (!value) continue;
      for (const stage of stages) (out[stage] ??= []).includes(value) || out[stage].push(value);
    }
  }
  return out;
}
