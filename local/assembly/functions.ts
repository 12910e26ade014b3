/** AWS::Lambda::Function resources → `FunctionModel`, with code folders and resolved environment. */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FunctionModel, RoleModel } from '../model';
import { AssemblyError, where } from './errors';
import { StackResolver } from './intrinsics';
import { StackArtifact } from './template';

const DEFAULT_TIMEOUT_SECONDS = 3;
const DEFAULT_MEMORY_MB = 128;

export function readFunctions(stack: StackArtifact, resolver: StackResolver, warnings: string[]): FunctionModel[] {
  const out: FunctionModel[] = [];
  for (const [logicalId, resource] of Object.entries(resolver.resources)) {
    if (resource.Type !== 'AWS::Lambda::Function' || !resolver.isDeployed(logicalId)) continue;
    const problems: string[] = [];
    const props = resource.Properties ?? {};
    const attempt = <T>(fn: () => T, fallback: T): T => {
      try {
        return fn();
      } catch (e) {
        if (!(e instanceof AssemblyError)) throw e;
        problems.push(e.message);
        return fallback;
      }
    };
    const label = where(stack.stackName, logicalId);
    const runtime = attempt(() => resolver.resolveString(props.Runtime ?? '', logicalId, 'Properties.Runtime'), '');
    if (props.PackageType === 'Image') problems.push(`${label}: container image functions are not supported (only Node.js and Python zip functions)`);
    else if (!/^(nodejs\d+\.x|python3\.\d+)$/.test(runtime)) problems.push(`${label}: runtime ${runtime || '(none)'} is not supported (only nodejs*.x and python3.x)`);
    const environment: Record<string, string> = {};
    const variables = (props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    for (const [name, value] of Object.entries(variables)) {
      attempt(() => {
        environment[name] = resolver.resolveString(value, logicalId, `Properties.Environment.Variables.${name}`);
      }, undefined);
    }
    if (Array.isArray(props.Layers) && props.Layers.length > 0) {
      warnings.push(`${label}: Lambda layers are not emulated; the function sees wsgate's node_modules (AWS SDK v3) only`);
    }
    const codeDir = attempt(() => codeFolder(stack, logicalId, props, resource.Metadata), '');
    const functionName = attempt(() => String(resolver.ref(logicalId, logicalId, 'Ref')), logicalId);
    const number = (value: unknown, fallback: number, name: string) =>
      attempt(() => (value === undefined ? fallback : Number(resolver.resolve(value, logicalId, `Properties.${name}`))), fallback);
    const unsupported = problems.length > 0 ? problems.join('; ') : undefined;
    if (unsupported) warnings.push(unsupported);
    const metadataPath = resource.Metadata?.['aws:cdk:path'];
    const constructPath =
      stack.constructPaths?.[logicalId] ?? (typeof metadataPath === 'string' ? metadataPath.replace(/\/Resource$/, '') : undefined);
    out.push({
      id: `${stack.stackName}/${logicalId}`,
      stackName: stack.stackName,
      logicalId,
      functionName,
      ...(constructPath ? { constructPath } : {}),
      handler: attempt(() => resolver.resolveString(props.Handler ?? '', logicalId, 'Properties.Handler'), ''),
      runtime,
      codeDir,
      environment,
      timeoutSeconds: number(props.Timeout, DEFAULT_TIMEOUT_SECONDS, 'Timeout'),
      memorySize: number(props.MemorySize, DEFAULT_MEMORY_MB, 'MemorySize'),
      ...(props.ReservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrency: number(props.ReservedConcurrentExecutions, 0, 'ReservedConcurrentExecutions') }),
      region: resolver.region,
      accountId: resolver.accountId,
      ...(unsupported ? { unsupported } : {}),
      ...roleOf(stack, resolver, props.Role),
    });
  }
  return out;
}

/** The unpacked asset folder (`aws:asset:path`), or a temp folder holding inline `ZipFile` code. */
function codeFolder(stack: StackArtifact, logicalId: string, props: Record<string, unknown>, metadata?: Record<string, unknown>): string {
  const label = where(stack.stackName, logicalId);
  const assetPath = metadata?.['aws:asset:path'];
  if (typeof assetPath === 'string') {
    const dir = path.resolve(stack.assemblyDir, assetPath);
    if (!fs.existsSync(dir)) throw new AssemblyError(`${label}: asset folder ${dir} is missing (re-run \`cdk synth\`)`);
    if (!fs.statSync(dir).isDirectory()) throw new AssemblyError(`${label}: asset ${dir} is a file, not an unpacked folder (zip assets are not supported)`);
    return dir;
  }
  const code = props.Code as { ZipFile?: unknown; S3Key?: unknown } | undefined;
  const fromManifest = typeof code?.S3Key === 'string' ? assetSourceByObjectKey(stack.assemblyDir).get(code.S3Key) : undefined;
  if (fromManifest) {
    if (!fs.existsSync(fromManifest)) throw new AssemblyError(`${label}: asset folder ${fromManifest} is missing (re-run \`cdk synth\`)`);
    return fromManifest;
  }
  const inline = code?.ZipFile;
  if (typeof inline === 'string') {
    const dir = path.join(os.tmpdir(), 'wsgate-inline-code', createHash('sha256').update(`${label}\n${inline}`).digest('hex').slice(0, 16));
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'index.js'), inline);
    return dir;
  }
  throw new AssemblyError(`${label}: no local code (no aws:asset:path metadata, no asset manifest entry for its S3Key and no inline ZipFile)`);
}

/**
 * Without asset metadata (apps synthesized outside the CDK CLI), the asset manifests (`*.assets.json`) still map
 * each file asset's object key to its folder in the assembly.
 */
export function assetSourceByObjectKey(assemblyDir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of fs.readdirSync(assemblyDir).filter((f) => f.endsWith('.assets.json'))) {
    let manifest: { files?: Record<string, { source?: { path?: string }; destinations?: Record<string, { objectKey?: string }> }> };
    try {
      manifest = JSON.parse(fs.readFileSync(path.join(assemblyDir, file), 'utf8'));
    } catch {
      continue;
    }
    for (const asset of Object.values(manifest.files ?? {})) {
      if (!asset.source?.path) continue;
      for (const destination of Object.values(asset.destinations ?? {})) {
        if (destination.objectKey) out.set(destination.objectKey, path.resolve(assemblyDir, asset.source.path));
      }
    }
  }
  return out;
}

/** The execution role (`Fn::GetAtt [Role, Arn]` of a role of this stack) with its policies, for local IAM (also integration CredentialsArn). */
export function roleOf(stack: Pick<StackArtifact, 'stackName'>, resolver: StackResolver, roleValue: unknown): { role?: RoleModel } {
  const getAtt = (roleValue as { 'Fn::GetAtt'?: unknown } | undefined)?.['Fn::GetAtt'];
  const roleId = Array.isArray(getAtt) && getAtt[1] === 'Arn' ? String(getAtt[0]) : undefined;
  const resources = resolver.resources;
  if (!roleId || resources[roleId]?.Type !== 'AWS::IAM::Role') return {};
  const warnings: string[] = [];
  const resolveDocument = (document: unknown, ownerId: string, name: string): unknown => {
    const doc = (document ?? {}) as { Statement?: unknown };
    const raw = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement === undefined ? [] : [doc.Statement];
    const Statement = raw.flatMap((statement, index) => {
      try {
        return [resolver.resolve(statement, ownerId, `PolicyDocument.Statement.${index}`)];
      } catch (e) {
        if (!(e instanceof AssemblyError)) throw e;
        warnings.push(`${name}: statement ${index} is skipped (${e.message})`);
        return [];
      }
    });
    return { Statement };
  };
  const refersToRole = (value: unknown): boolean =>
    Array.isArray(value) && value.some((r) => (r as { Ref?: unknown })?.Ref === roleId);
  const roleProps = resources[roleId].Properties ?? {};
  const policies: Array<{ name: string; document: unknown }> = [];
  for (const inline of (Array.isArray(roleProps.Policies) ? roleProps.Policies : []) as Array<{ PolicyName?: unknown; PolicyDocument?: unknown }>) {
    const name = `${where(stack.stackName, roleId)} inline ${typeof inline.PolicyName === 'string' ? inline.PolicyName : '?'}`;
    policies.push({ name, document: resolveDocument(inline.PolicyDocument, roleId, name) });
  }
  const managedRefs = new Set<string>();
  const managedArns: string[] = [];
  for (const [index, arn] of (Array.isArray(roleProps.ManagedPolicyArns) ? roleProps.ManagedPolicyArns : []).entries()) {
    const ref = (arn as { Ref?: unknown })?.Ref;
    if (typeof ref === 'string' && resources[ref]?.Type === 'AWS::IAM::ManagedPolicy') {
      managedRefs.add(ref);
      continue;
    }
    try {
      managedArns.push(resolver.resolveString(arn, roleId, `Properties.ManagedPolicyArns.${index}`));
    } catch (e) {
      if (!(e instanceof AssemblyError)) throw e;
      warnings.push(`${where(stack.stackName, roleId)}: managed policy ${index} is skipped (${e.message})`);
    }
  }
  // The PermissionsBoundary caps what the policies grant: a managed policy of the template or an ARN.
  let permissionsBoundary: RoleModel['permissionsBoundary'];
  if (roleProps.PermissionsBoundary !== undefined) {
    const ref = (roleProps.PermissionsBoundary as { Ref?: unknown })?.Ref;
    if (typeof ref === 'string' && resources[ref]?.Type === 'AWS::IAM::ManagedPolicy') {
      const name = where(stack.stackName, ref);
      permissionsBoundary = { name, document: resolveDocument(resources[ref].Properties?.PolicyDocument, ref, name) };
    } else {
      try {
        const arn = resolver.resolveString(roleProps.PermissionsBoundary, roleId, 'Properties.PermissionsBoundary');
        permissionsBoundary = { name: arn, arn };
      } catch (e) {
        if (!(e instanceof AssemblyError)) throw e;
        warnings.push(`${where(stack.stackName, roleId)}: its permissions boundary is not applied (${e.message})`);
      }
    }
  }
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (!resolver.isDeployed(logicalId)) continue;
    const attached =
      (resource.Type === 'AWS::IAM::Policy' && refersToRole(resource.Properties?.Roles)) ||
      (resource.Type === 'AWS::IAM::ManagedPolicy' && (managedRefs.has(logicalId) || refersToRole(resource.Properties?.Roles)));
    if (!attached) continue;
    const name = where(stack.stackName, logicalId);
    policies.push({ name, document: resolveDocument(resource.Properties?.PolicyDocument, logicalId, name) });
  }
  return {
    role: {
      id: where(stack.stackName, roleId),
      roleName: String(resolver.ref(roleId, roleId, 'Ref')),
      arn: String(resolver.getAtt(roleId, 'Arn', roleId, 'Arn')),
      policies,
      managedPolicyArns: managedArns,
      warnings,
      ...(permissionsBoundary ? { permissionsBoundary } : {}),
    },
  };
}
