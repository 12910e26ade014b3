/** Reads `manifest.json` of a cloud assembly (and nested assemblies) into its stacks. */
import * as fs from 'fs';
import * as path from 'path';
import { AssemblyError } from './errors';
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
function constructPaths(assemblyDir: string, artifact: ManifestArtifact): Record<string, string> {
  let metadata: Record<string, MetadataEntry[]> = { ...(artifact.metadata ?? {}) };
  if (artifact.additionalMetadataFile) {
    try {
      metadata = { ...metadata, ...JSON.parse(fs.readFileSync(path.join(assemblyDir, artifact.additionalMetadataFile), 'utf8')) };
    } catch {
      // Without metadata functions are still found by logical id and name.
    }
  }
  const out: Record<string, string> = {};
  for (const [constructPath, entries] of Object.entries(metadata)) {
    for (const entry of Array.isArray(entries) ? entries : []) {
      if (entry?.type === 'aws:cdk:logicalId' && typeof entry.data === 'string') {
        out[entry.data] = constructPath.replace(/^\//, '').replace(/\/Resource$/, '');
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

/** Every CloudFormation stack of the assembly in `dir`, nested assemblies included. */
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
    stacks.push({
      stackName: artifact.properties?.stackName ?? artifactId,
      assemblyDir,
      template,
      envAccount: concrete(env?.[1]),
      envRegion: concrete(env?.[2]),
      constructPaths: constructPaths(assemblyDir, artifact),
    });
  }
  return stacks;
}
