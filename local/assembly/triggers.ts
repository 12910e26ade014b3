/**
 * What would trigger a function on AWS but is not run by the emulator (EventBridge rules and schedules; SQS
 * event source mappings are run, see queues.ts), each reported once as a warning that names the function and how to invoke it by hand.
 */
import { FunctionModel } from '../model';
import { where } from './errors';
import { StackResolver } from './intrinsics';

/** The logical id of the function a target value points at (`Fn::GetAtt [Fn, Arn]`, `Ref Fn`), if it is one. */
function targetFunction(value: unknown, functions: ReadonlyMap<string, FunctionModel>): FunctionModel | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const getAtt = v['Fn::GetAtt'];
  const logicalId = Array.isArray(getAtt)
    ? getAtt[0]
    : typeof getAtt === 'string'
      ? getAtt.split('.')[0]
      : typeof v.Ref === 'string'
        ? v.Ref
        : undefined;
  return typeof logicalId === 'string' ? functions.get(logicalId) : undefined;
}

function invokeHint(fn: FunctionModel): string {
  const name = fn.constructPath ?? fn.logicalId;
  return `\`wsgate invoke ${name}\` (POST /_wsgate/functions/${encodeURIComponent(name)}/invoke)`;
}

/** One warning per (trigger, function) pair of this stack. */
export function triggerWarnings(stackName: string, resolver: StackResolver, functions: readonly FunctionModel[]): string[] {
  const byLogicalId = new Map(functions.filter((f) => f.stackName === stackName).map((f) => [f.logicalId, f]));
  const out: string[] = [];
  for (const [logicalId, resource] of Object.entries(resolver.resources)) {
    if (!resolver.isDeployed(logicalId)) continue;
    const props = resource.Properties ?? {};
    const label = where(stackName, logicalId);
    if (resource.Type === 'AWS::Events::Rule') {
      const what = typeof props.ScheduleExpression === 'string' ? `schedule ${props.ScheduleExpression}` : 'event pattern';
      for (const target of Array.isArray(props.Targets) ? props.Targets : []) {
        const fn = targetFunction((target as Record<string, unknown>)?.Arn, byLogicalId);
        if (fn) out.push(`${label}: the EventBridge rule (${what}) is not run by the emulator; invoke ${fn.id} yourself: ${invokeHint(fn)}`);
      }
    } else if (resource.Type === 'AWS::Scheduler::Schedule') {
      const fn = targetFunction((props.Target as Record<string, unknown> | undefined)?.Arn, byLogicalId);
      if (fn) out.push(`${label}: the EventBridge Scheduler schedule is not run by the emulator; invoke ${fn.id} yourself: ${invokeHint(fn)}`);
    }
    // AWS::Lambda::EventSourceMapping: SQS sources are run (assembly/queues.ts), which also warns about the others.
  }
  return out;
}
