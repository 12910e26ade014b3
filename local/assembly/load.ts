/**
 * `loadAssembly(dir)`: reads a cloud assembly (`cdk.out`) into the emulator's `AssemblyModel`, every reference
 * resolved to a local value. Never imports `lib/` or `lambda/`: any CDK app's WebSocket API can be loaded.
 * What the emulator cannot run is listed in `warnings` and in the `unsupported` field of the function or route.
 */
import { AssemblyModel, FunctionModel } from '../model';
import { AssemblyError } from './errors';
import { readFunctions } from './functions';
import { StackResolver } from './intrinsics';
import { readStacks } from './manifest';
import { readEventSourceMappings, readQueues } from './queues';
import { readTables } from './tables';
import { triggerWarnings } from './triggers';
import { StackArtifact } from './template';
import { functionLookup, readWebSocketApis } from './websocket-apis';

export { AssemblyError } from './errors';

export const DEFAULT_REGION = 'us-east-1';
export const DEFAULT_ACCOUNT_ID = '123456789012';

export interface LoadAssemblyOptions {
  /** Only this stack (its stack name or artifact id). @default every stack of the assembly */
  readonly stack?: string;
  /** @default the stack's own region when the app pinned one, else 'us-east-1' */
  readonly region?: string;
  /** @default the stack's own account when the app pinned one, else '123456789012' */
  readonly accountId?: string;
}

export function loadAssembly(dir: string, options: LoadAssemblyOptions = {}): AssemblyModel {
  if (typeof dir !== 'string' || dir === '') throw new AssemblyError('loadAssembly: dir must be the path of a cloud assembly (cdk.out)');
  if (options.region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(options.region)) {
    throw new AssemblyError(`loadAssembly: region ${JSON.stringify(options.region)} is not a region name like us-east-1`);
  }
  if (options.accountId !== undefined && !/^\d{12}$/.test(options.accountId)) {
    throw new AssemblyError(`loadAssembly: accountId ${JSON.stringify(options.accountId)} is not 12 digits`);
  }
  const readStacksAll = readStacks(dir);
  const resolvers = new Map<StackArtifact, StackResolver>();
  const outputOf = (stack: StackArtifact, outputName: string): unknown => {
    const output = stack.template.Outputs?.[outputName];
    return output === undefined ? undefined : resolvers.get(stack)!.resolve(output.Value, outputName, `Outputs.${outputName}.Value`);
  };
  const importValue = (name: string): unknown => {
    for (const [stack, resolver] of resolvers) {
      for (const [outputId, output] of Object.entries(stack.template.Outputs ?? {})) {
        if (output.Export && resolver.resolve(output.Export.Name, outputId, 'Outputs.Export.Name') === name) {
          return resolver.resolve(output.Value, outputId, `Outputs.${outputId}.Value`);
        }
      }
    }
    return undefined;
  };
  const stackOutput = (stackName: string, outputName: string): unknown => {
    const stack = readStacksAll.find((s) => s.stackName === stackName && !s.parent);
    return stack ? outputOf(stack, outputName) : undefined;
  };
  const crossRegionExport = (name: string): unknown => {
    for (const [stack, resolver] of resolvers) {
      for (const [logicalId, resource] of Object.entries(stack.template.Resources ?? {})) {
        if (resource.Type !== 'Custom::CrossRegionExportWriter') continue;
        const exports = (resource.Properties?.WriterProps as { exports?: Record<string, unknown> } | undefined)?.exports ?? {};
        if (Object.prototype.hasOwnProperty.call(exports, name)) {
          return resolver.resolve(exports[name], logicalId, `Properties.WriterProps.exports.${name}`);
        }
      }
    }
    return undefined;
  };
  for (const stack of readStacksAll) {
    const parent = stack.parent;
    const parentResource = parent?.stack.template.Resources?.[parent.logicalId];
    resolvers.set(stack, new StackResolver(stack, {
      region: options.region ?? stack.envRegion ?? DEFAULT_REGION,
      accountId: options.accountId ?? stack.envAccount ?? DEFAULT_ACCOUNT_ID,
    }, {
      importValue,
      stackOutput,
      crossRegionExport,
      nestedOutput: (logicalId, outputName) => {
        const nested = readStacksAll.find((s) => s.parent?.stack === stack && s.parent.logicalId === logicalId);
        return nested ? outputOf(nested, outputName) : undefined;
      },
      ...(parent ? {
        parameter: (name: string) => {
          const passed = (parentResource?.Properties?.Parameters as Record<string, unknown> | undefined)?.[name];
          return passed === undefined ? undefined : resolvers.get(parent.stack)!.resolve(passed, parent.logicalId, `Properties.Parameters.${name}`);
        },
      } : {}),
    }));
  }
  // A nested stack whose AWS::CloudFormation::Stack resource has a false condition is not deployed.
  const deployed = (stack: StackArtifact): boolean =>
    !stack.parent || (deployed(stack.parent.stack) && resolvers.get(stack.parent.stack)!.isDeployed(stack.parent.logicalId));
  const allStacks = readStacksAll.filter(deployed);
  const rootOf = (stack: StackArtifact): StackArtifact => (stack.parent ? rootOf(stack.parent.stack) : stack);
  const chosen = options.stack === undefined ? allStacks : allStacks.filter((s) => rootOf(s).stackName === options.stack);
  if (chosen.length === 0) {
    const names = allStacks.filter((s) => !s.parent).map((s) => s.stackName).join(', ') || '(none)';
    throw new AssemblyError(`Stack ${options.stack} is not in the assembly at ${dir}; its stacks are: ${names}`);
  }
  const problems = chosen.flatMap((s) => s.problems ?? []);
  if (problems.length > 0) throw new AssemblyError(problems.join('\n'));

  const warnings: string[] = [];
  // Functions of every stack, so an integration may invoke a function of another stack.
  const located: Array<{ fn: FunctionModel; resolver: StackResolver }> = [];
  for (const stack of allStacks) {
    const resolver = resolvers.get(stack)!;
    const stackWarnings: string[] = [];
    for (const fn of readFunctions(stack, resolver, stackWarnings)) located.push({ fn, resolver });
    if (chosen.includes(stack)) warnings.push(...stackWarnings);
  }
  for (const stack of chosen) warnings.push(...triggerWarnings(stack.stackName, resolvers.get(stack)!, located.map((l) => l.fn)));
  const byFunction = new Map(located.map(({ fn, resolver }) => [fn, resolver]));
  const lookup = functionLookup(located.map((l) => l.fn), (f) => byFunction.get(f)!.region, (f) => byFunction.get(f)!.accountId);

  const model: AssemblyModel = {
    apis: chosen.flatMap((stack) => readWebSocketApis(resolvers.get(stack)!, lookup, warnings)),
    functions: Object.fromEntries(located.map(({ fn }) => [fn.id, fn])),
    // Tables and secrets of every stack: a chosen stack's functions may use another stack's table (a cross-stack reference).
    tables: allStacks.flatMap((stack) => readTables(resolvers.get(stack)!)),
    secrets: Object.fromEntries(allStacks.flatMap((stack) => {
      const resolver = resolvers.get(stack)!;
      return Object.entries(resolver.resources)
        .filter(([id, r]) => r.Type === 'AWS::SecretsManager::Secret' && resolver.isDeployed(id))
        .map(([id]) => [`${stack.stackName}/${id}`, String(resolver.ref(id, id, 'Ref'))]);
    })),
    warnings,
  };
  // Queues of every stack (a function may send to another stack's queue); mappings of the chosen stacks.
  const queues = allStacks.flatMap((stack) => readQueues(resolvers.get(stack)!, chosen.includes(stack) ? warnings : []));
  const queueArns = new Set(queues.map((q) => q.arn));
  const eventSourceMappings = chosen.flatMap((stack) => readEventSourceMappings(resolvers.get(stack)!, lookup, queueArns, warnings));
  if (queues.length > 0) Object.assign(model, { queues });
  if (eventSourceMappings.length > 0) Object.assign(model, { eventSourceMappings });
  return model;
}
