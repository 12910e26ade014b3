/**
 * Resolves CloudFormation intrinsic functions to local values, for one stack.
 * Supported: Ref, Fn::GetAtt, Fn::Join, Fn::Sub (both forms), Fn::Select, Fn::Split, Fn::If and conditions
 * (Fn::Equals/Not/And/Or, Condition), Fn::FindInMap, Fn::ImportValue (exports of other stacks of the assembly),
 * Fn::GetStackOutput (the weak cross-stack reference), cross-region references (`Fn::GetAtt` of a
 * Custom::CrossRegionExportReader, the value taken from the producer's Custom::CrossRegionExportWriter), Fn::Base64, Fn::GetAZs, pseudo parameters, parameter defaults,
 * nested stack parameters (passed in by the parent's `AWS::CloudFormation::Stack`) and the parent's
 * `Fn::GetAtt [Nested, Outputs.X]`. Anything else is an `AssemblyError` naming the stack, the resource and the
 * property it was needed for.
 */
import { AssemblyError, where } from './errors';
import { attributeOf, NamingContext, refOf } from './physical-ids';
import { StackArtifact } from './template';

/** Marks a property removed with `AWS::NoValue`. */
const NO_VALUE = Symbol('AWS::NoValue');

export type ImportLookup = (exportName: string) => unknown;

/** How one stack reaches the others of the assembly; each answers `undefined` when there is no such value. */
export interface StackLinks {
  /** Value of the export named `exportName` (`Fn::ImportValue`). */
  readonly importValue?: ImportLookup;
  /** Value of output `outputName` of the stack named `stackName` (`Fn::GetStackOutput`). */
  readonly stackOutput?: (stackName: string, outputName: string) => unknown;
  /** For a nested stack: the value its parent passes for parameter `name`. */
  readonly parameter?: (name: string) => unknown;
  /**
   * Value a `Custom::CrossRegionExportWriter` of any stack exports under `name` (`/cdk/exports/...`), read by a
   * consumer as `Fn::GetAtt [ExportsReader, name]` (aws-cdk-lib's `crossRegionReferences`).
   */
  readonly crossRegionExport?: (name: string) => unknown;
  /** Output `outputName` of the nested stack behind resource `logicalId` of this stack (`Fn::GetAtt [Id, Outputs.X]`). */
  readonly nestedOutput?: (logicalId: string, outputName: string) => unknown;
}

export class StackResolver {
  readonly stackName: string;
  readonly region: string;
  readonly accountId: string;
  private readonly resolving = new Set<string>();
  private readonly conditionCache = new Map<string, boolean>();

  constructor(
    private readonly stack: StackArtifact,
    env: { region: string; accountId: string },
    private readonly links: StackLinks = {},
  ) {
    this.stackName = stack.stackName;
    this.region = env.region;
    this.accountId = env.accountId;
  }

  get resources() {
    return this.stack.template.Resources ?? {};
  }

  /** Resolves `value` found at `path` of resource `logicalId` (both only for messages). */
  resolve(value: unknown, logicalId: string, path: string): unknown {
    const out = this.walk(value, logicalId, path);
    return out === NO_VALUE ? undefined : out;
  }

  /** Resolves a value that must be a string. */
  resolveString(value: unknown, logicalId: string, path: string): string {
    const out = this.resolve(value, logicalId, path);
    if (typeof out === 'number' || typeof out === 'boolean') return String(out);
    if (typeof out !== 'string') {
      throw new AssemblyError(`${where(this.stackName, logicalId)}: ${path} must resolve to a string, got ${JSON.stringify(out)}`);
    }
    return out;
  }

  /** True when the resource's `Condition` (if any) holds. */
  isDeployed(logicalId: string): boolean {
    const condition = this.resources[logicalId]?.Condition;
    return condition === undefined || this.condition(condition, logicalId);
  }

  /** `Ref` of a resource, parameter or pseudo parameter. */
  ref(name: string, logicalId: string, path: string): unknown {
    switch (name) {
      case 'AWS::Region': return this.region;
      case 'AWS::AccountId': return this.accountId;
      case 'AWS::Partition': return 'aws';
      case 'AWS::URLSuffix': return 'amazonaws.com';
      case 'AWS::StackName': return this.stackName;
      case 'AWS::StackId': return `arn:aws:cloudformation:${this.region}:${this.accountId}:stack/${this.stackName}/00000000-0000-4000-8000-000000000000`;
      case 'AWS::NotificationARNs': return [];
      case 'AWS::NoValue': return NO_VALUE;
    }
    const parameter = this.stack.template.Parameters?.[name];
    if (parameter) {
      const passed = this.links.parameter ? this.guard(`Parameter ${name}`, logicalId, path, () => this.links.parameter!(name)) : undefined;
      if (passed !== undefined) {
        const type = parameter.Type ?? '';
        return (type.startsWith('List<') || type === 'CommaDelimitedList') && typeof passed === 'string' ? passed.split(',') : passed;
      }
      if (parameter.Default === undefined) {
        if (this.stack.parent) {
          throw new AssemblyError(`${where(this.stackName, logicalId)}: ${path} needs parameter ${name}, which the parent stack's ${this.stack.parent.logicalId} does not pass and which has no default`);
        }
        throw new AssemblyError(`${where(this.stackName, logicalId)}: ${path} needs parameter ${name}, which has no default`);
      }
      const type = parameter.Type ?? '';
      if (type.startsWith('List<') || type === 'CommaDelimitedList') {
        return Array.isArray(parameter.Default) ? parameter.Default : String(parameter.Default).split(',');
      }
      return parameter.Default;
    }
    const resource = this.resources[name];
    if (!resource) {
      throw new AssemblyError(`${where(this.stackName, logicalId)}: ${path} refers to ${name}, which is not in the template`);
    }
    return this.guard(`Ref ${name}`, logicalId, path, () => refOf(name, resource, this.namingContext(name)));
  }

  getAtt(target: string, attribute: string, logicalId: string, path: string): unknown {
    const resource = this.resources[target];
    if (!resource) {
      throw new AssemblyError(`${where(this.stackName, logicalId)}: ${path} reads ${target}.${attribute}, but ${target} is not in the template`);
    }
    if (resource.Type === 'AWS::CloudFormation::Stack' && attribute.startsWith('Outputs.')) {
      const outputName = attribute.slice('Outputs.'.length);
      const value = this.guard(`GetAtt ${target}.${attribute}`, logicalId, path, () => this.links.nestedOutput?.(target, outputName));
      if (value === undefined) {
        throw new AssemblyError(`${where(this.stackName, logicalId)}: ${path} reads ${target}.${attribute}, but that nested stack has no output ${outputName}`);
      }
      return value;
    }
    if (resource.Type === 'Custom::CrossRegionExportReader') {
      const value = this.guard(`GetAtt ${target}.${attribute}`, logicalId, path, () => this.links.crossRegionExport?.(attribute));
      if (value === undefined) {
        throw new AssemblyError(`${where(this.stackName, logicalId)}: ${path} reads the cross-region export ${attribute}, which no Custom::CrossRegionExportWriter of the assembly writes`);
      }
      return value;
    }
    return this.guard(`GetAtt ${target}.${attribute}`, logicalId, path, () =>
      attributeOf(target, resource, attribute, this.namingContext(target)));
  }

  private namingContext(target: string): NamingContext {
    const props = this.resources[target]?.Properties ?? {};
    return {
      stackName: this.stackName,
      region: this.region,
      accountId: this.accountId,
      property: (name: string) => this.resolve(props[name], target, `Properties.${name}`),
    };
  }

  /** Stops reference cycles with a message instead of a stack overflow. */
  private guard<T>(key: string, logicalId: string, path: string, fn: () => T): T {
    if (this.resolving.has(key)) {
      throw new AssemblyError(`${where(this.stackName, logicalId)}: ${path} takes part in a reference cycle (${key})`);
    }
    this.resolving.add(key);
    try {
      return fn();
    } finally {
      this.resolving.delete(key);
    }
  }

  private condition(name: string, logicalId: string): boolean {
    const cached = this.conditionCache.get(name);
    if (cached !== undefined) return cached;
    const body = this.stack.template.Conditions?.[name];
    if (body === undefined) {
      throw new AssemblyError(`${where(this.stackName, logicalId)}: condition ${name} is not defined in the template`);
    }
    const value = this.guard(`Condition ${name}`, logicalId, `Conditions.${name}`, () =>
      Boolean(this.walk(body, logicalId, `Conditions.${name}`)));
    this.conditionCache.set(name, value);
    return value;
  }

  private walk(value: unknown, logicalId: string, path: string): unknown {
    if (Array.isArray(value)) {
      return value.map((item, i) => this.walk(item, logicalId, `${path}[${i}]`)).filter((item) => item !== NO_VALUE);
    }
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1 && (entries[0][0] === 'Ref' || entries[0][0].startsWith('Fn::') || entries[0][0] === 'Condition')) {
      const [fn, arg] = entries[0];
      if (fn !== 'Condition' || typeof arg === 'string') return this.intrinsic(fn, arg, logicalId, path);
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of entries) {
      const resolved = this.walk(item, logicalId, `${path}.${key}`);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }

  private intrinsic(fn: string, arg: unknown, logicalId: string, path: string): unknown {
    const bad = (shape: string): never => {
      throw new AssemblyError(`${where(this.stackName, logicalId)}: ${path} has a malformed ${fn} (expected ${shape})`);
    };
    const sub = (v: unknown) => this.walk(v, logicalId, path);
    switch (fn) {
      case 'Ref':
        return typeof arg === 'string' ? this.ref(arg, logicalId, path) : bad('a name');
      case 'Condition':
        return this.condition(arg as string, logicalId);
      case 'Fn::GetAtt': {
        const parts = typeof arg === 'string' ? splitOnce(arg, '.') : Array.isArray(arg) ? arg.map(sub) : undefined;
        if (!parts || parts.length !== 2) return bad('[LogicalId, Attribute]');
        return this.getAtt(String(parts[0]), String(parts[1]), logicalId, path);
      }
      case 'Fn::Join': {
        if (!Array.isArray(arg) || arg.length !== 2) return bad('[delimiter, [values]]');
        const list = sub(arg[1]);
        if (!Array.isArray(list)) return bad('a list of values');
        return list.map((item) => this.scalar(item, logicalId, path, fn)).join(String(arg[0]));
      }
      case 'Fn::Sub':
        return this.fnSub(arg, logicalId, path);
      case 'Fn::Select': {
        if (!Array.isArray(arg) || arg.length !== 2) return bad('[index, list]');
        const index = Number(sub(arg[0]));
        const list = sub(arg[1]);
        if (!Array.isArray(list) || !Number.isInteger(index) || index < 0 || index >= list.length) {
          throw new AssemblyError(`${where(this.stackName, logicalId)}: ${path} selects index ${index} of ${JSON.stringify(list)}`);
        }
        return list[index];
      }
      case 'Fn::Split': {
        if (!Array.isArray(arg) || arg.length !== 2) return bad('[delimiter, string]');
        return this.scalar(sub(arg[1]), logicalId, path, fn).split(String(arg[0]));
      }
      case 'Fn::If': {
        if (!Array.isArray(arg) || arg.length !== 3) return bad('[condition, whenTrue, whenFalse]');
        return this.condition(String(arg[0]), logicalId) ? sub(arg[1]) : sub(arg[2]);
      }
      case 'Fn::Equals': {
        if (!Array.isArray(arg) || arg.length !== 2) return bad('[a, b]');
        return JSON.stringify(sub(arg[0])) === JSON.stringify(sub(arg[1]));
      }
      case 'Fn::Not':
        return Array.isArray(arg) && arg.length === 1 ? !sub(arg[0]) : bad('[condition]');
      case 'Fn::And':
        return Array.isArray(arg) ? arg.every((c) => Boolean(sub(c))) : bad('[conditions]');
      case 'Fn::Or':
        return Array.isArray(arg) ? arg.some((c) => Boolean(sub(c))) : bad('[conditions]');
      case 'Fn::FindInMap': {
        if (!Array.isArray(arg) || arg.length < 3) return bad('[map, key, key]');
        const [map, top, second] = arg.slice(0, 3).map((a) => String(sub(a)));
        const found = this.stack.template.Mappings?.[map]?.[top]?.[second];
        if (found === undefined) {
          throw new AssemblyError(`${where(this.stackName, logicalId)}: ${path} finds nothing at Mappings.${map}.${top}.${second}`);
        }
        return found;
      }
      case 'Fn::ImportValue': {
        const name = this.scalar(sub(arg), logicalId, path, fn);
        const found = this.links.importValue?.(name);
        if (found === undefined) {
          throw new AssemblyError(`${where(this.stackName, logicalId)}: ${path} imports ${name}, which no stack of the assembly exports`);
        }
        return found;
      }
      case 'Fn::GetStackOutput': {
        const spec = sub(arg) as { StackName?: unknown; OutputName?: unknown } | undefined;
        if (!spec || typeof spec.StackName !== 'string' || typeof spec.OutputName !== 'string') return bad('{StackName, OutputName}');
        const found = this.links.stackOutput?.(spec.StackName, spec.OutputName);
        if (found === undefined) {
          throw new AssemblyError(`${where(this.stackName, logicalId)}: ${path} reads output ${spec.OutputName} of stack ${spec.StackName}, which no stack of the assembly has`);
        }
        return found;
      }
      case 'Fn::Base64':
        return Buffer.from(this.scalar(sub(arg), logicalId, path, fn)).toString('base64');
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((zone) => `${this.region}${zone}`);
      default:
        throw new AssemblyError(`${where(this.stackName, logicalId)}: ${path} uses ${fn}, which the emulator does not support`);
    }
  }

  private scalar(value: unknown, logicalId: string, path: string, fn: string): string {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw new AssemblyError(`${where(this.stackName, logicalId)}: ${path}: ${fn} needs a string, got ${JSON.stringify(value)}`);
  }

  private fnSub(arg: unknown, logicalId: string, path: string): string {
    const [text, vars] = typeof arg === 'string' ? [arg, {}] : Array.isArray(arg) ? [arg[0], arg[1] ?? {}] : [undefined, {}];
    if (typeof text !== 'string' || typeof vars !== 'object' || vars === null) {
      throw new AssemblyError(`${where(this.stackName, logicalId)}: ${path} has a malformed Fn::Sub (expected a string or [string, {vars}])`);
    }
    return text.replace(/\$\{([^}]*)\}/g, (_match, name: string) => {
      if (name.startsWith('!')) return '${' + name.slice(1) + '}';
      if (Object.prototype.hasOwnProperty.call(vars, name)) {
        return this.scalar(this.walk((vars as Record<string, unknown>)[name], logicalId, path), logicalId, path, 'Fn::Sub');
      }
      const dot = name.indexOf('.');
      const value = dot > 0 && !name.startsWith('AWS::')
        ? this.getAtt(name.slice(0, dot), name.slice(dot + 1), logicalId, path)
        : this.ref(name, logicalId, path);
      return this.scalar(value, logicalId, path, 'Fn::Sub');
    });
  }
}

function splitOnce(text: string, separator: string): string[] {
  const at = text.indexOf(separator);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}
