/** Reads `manifest.json` of a cloud assembly (and nested assemblies) into its stacks. */
import * as fs from 'fs';
import * as path from 'path';
import { AssemblyError, where } from './errors';
import { assetSourceByObjectKey } from './functions';
import { generatedName } from './ids';
import { CfnTemplate, StackArtifact } from './template';

interface ManifestArtifact {
  readonly type?: string;
  readonly environment?: string;
  readonly displayName?: string;
  /** Construct path → metadata entries (older assemblies keep them here). */
  readonly metadata?: Record<string, MetadataEntry[]>;
  /** `Stack.metadata.json`, holding the same map (newer assemblies). */
  readonly additionalMetadataFile?: string;
  readonly properties?: { readonly templateFile?: string; readonly stackName?: string; readonly directoryName?: string };
}

interface MetadataEntry {
  readonly type?: string;
  readonly data?: unknown;
}

/**
 * Logical id → construct path, from the `aws:cdk:logicalId` metadata entries (in the manifest or the stack's
 * additional metadata file). Metadata is optional: a missing or unreadable file gives an empty map.
 */
function constructPaths(assemblyDir: string, artifact: ManifestArtifact): Array<[string, string]> {
  let metadata: Record<string, MetadataEntry[]> = { ...(artifact.metadata ?? {}) };
  if (artifact.additionalMetadataFile) {
    try {
      metadata = { ...metadata, ...JSON.parse(fs.readFileSync(path.join(assemblyDir, artifact.additionalMetadataFile), 'utf8')) };
    } catch {
      // Without metadata functions are still found by logical id and name.
    }
  }
  const out: Array<[string, string]> = [];
  for (const [constructPath, entries] of Object.entries(metadata)) {
    for (const entry of Array.isArray(entries) ? entries : []) {
      if (entry?.type === 'aws:cdk:logicalId' && typeof entry.data === 'string') {
        out.push([entry.data, constructPath.replace(/^\//, '').replace(/\/Resource$/, '')]);
      }
    }
  }
  return out;
}

function readJson(file: string, what: string): any {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new AssemblyError(`${what} cannot be read: ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new AssemblyError(`${what} is not valid JSON: ${file} (${(e as Error).message})`);
  }
}

/** Construct path of an `AWS::CloudFormation::Stack` written by a NestedStack: `Parent/Inner.NestedStack/Inner.NestedStackResource` → `Parent/Inner`. */
function nestedConstructPath(resourcePath: string | undefined): string | undefined {
  const match = resourcePath ? /^(.*)\.NestedStack\/[^/]+\.NestedStackResource$/.exec(resourcePath) : null;
  return match?.[1];
}

/**
 * The nested stacks of `parent` (`AWS::CloudFormation::Stack` resources whose template is a file of the assembly: the
 * `aws:asset:path` metadata, or the asset manifest entry of the TemplateURL's object key), recursively. A nested
 * stack whose template is not in the assembly is recorded as a problem of the parent, reported when it is run.
 */
function nestedStacks(parent: StackArtifact, paths: Array<[string, string]>, problems: string[]): StackArtifact[] {
  const out: StackArtifact[] = [];
  let byObjectKey: Map<string, string> | undefined;
  for (const [logicalId, resource] of Object.entries(parent.template.Resources ?? {})) {
    if (resource.Type !== 'AWS::CloudFormation::Stack') continue;
    const label = where(parent.stackName, logicalId);
    const assetPath = resource.Metadata?.['aws:asset:path'];
    let file = typeof assetPath === 'string' ? path.resolve(parent.assemblyDir, assetPath) : undefined;
    if (!file) {
      const url = JSON.stringify(resource.Properties?.TemplateURL ?? '');
      const objectKey = [...url.matchAll(/([A-Za-z0-9._-]+\.json)/g)].pop()?.[1];
      byObjectKey ??= assetSourceByObjectKey(parent.assemblyDir);
      file = objectKey ? byObjectKey.get(objectKey) : undefined;
    }
    if (!file || !fs.existsSync(file)) {
      problems.push(
        `${label}: nested stack template ${file ?? JSON.stringify(resource.Properties?.TemplateURL)} is not in the cloud assembly. ` +
          'The emulator runs nested stacks the app defines (aws-cdk-lib NestedStack), whose template CDK writes into cdk.out; ' +
          'a CfnStack pointing at a template elsewhere cannot run locally: define its resources in the app, or run another stack with --stack',
      );
      continue;
    }
    const template: CfnTemplate = readJson(file, `Template of nested stack ${label}`);
    const resourcePath = paths.find(([id]) => id === logicalId)?.[1];
    const prefix = nestedConstructPath(resourcePath);
    const own = prefix ? paths.filter(([, p]) => p.startsWith(`${prefix}/`)) : [];
    const nested: StackArtifact = {
      stackName: generatedName(parent.stackName, logicalId, 128),
      assemblyDir: parent.assemblyDir,
      template,
      envAccount: parent.envAccount,
      envRegion: parent.envRegion,
      constructPaths: Object.fromEntries(own),
      parent: { stack: parent, logicalId },
    };
    out.push(nested, ...nestedStacks(nested, own, problems));
  }
  return out;
}

/** Every CloudFormation stack of the assembly in `dir`, nested assemblies and nested stacks included. */
export function readStacks(dir: string): StackArtifact[] {
  const assemblyDir = path.resolve(dir);
  if (!fs.existsSync(path.join(assemblyDir, 'manifest.json'))) {
    throw new AssemblyError(`${assemblyDir} is not a cloud assembly: it has no manifest.json (run \`cdk synth\` first)`);
  }
  const manifest = readJson(path.join(assemblyDir, 'manifest.json'), 'The cloud assembly manifest');
  const artifacts: Record<string, ManifestArtifact> = manifest?.artifacts ?? {};
  const stacks: StackArtifact[] = [];
  for (const [artifactId, artifact] of Object.entries(artifacts)) {
    if (artifact.type === 'cdk:cloud-assembly' && artifact.properties?.directoryName) {
      stacks.push(...readStacks(path.join(assemblyDir, artifact.properties.directoryName)));
      continue;
    }
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const templateFile = artifact.properties?.templateFile;
    if (!templateFile) throw new AssemblyError(`Stack ${artifactId}: the manifest names no templateFile`);
    const template: CfnTemplate = readJson(path.join(assemblyDir, templateFile), `Template of stack ${artifactId}`);
    const env = /^aws:\/\/([^/]+)\/(.+)$/.exec(artifact.environment ?? '');
    const concrete = (v: string | undefined) => (v && !v.startsWith('unknown-') ? v : undefined);
    const paths = constructPaths(assemblyDir, artifact);
    const problems: string[] = [];
    const stack: StackArtifact = {
      stackName: artifact.properties?.stackName ?? artifactId,
      assemblyDir,
      template,
      envAccount: concrete(env?.[1]),
      envRegion: concrete(env?.[2]),
      constructPaths: {},
      problems,
    };
    const nested = nestedStacks(stack, paths, problems);
    const nestedPrefixes = nested.map((n) => nestedConstructPath(paths.find(([id]) => id === n.parent!.logicalId && n.parent!.stack === stack)?.[1]));
    // The parent's own resources: metadata of nested stacks' resources (same logical ids possible) left out.
    const own = paths.filter(([, p]) => !nestedPrefixes.some((prefix) => prefix && p.startsWith(`${prefix}/`)));
    Object.assign(stack.constructPaths!, Object.fromEntries(own));
    stacks.push(stack, ...nested);
  }
  return stacks;
}
