/** The parts of a CloudFormation template the emulator reads. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly Condition?: string;
}

export interface CfnTemplate {
  readonly Parameters?: Record<string, { readonly Type?: string; readonly Default?: unknown }>;
  readonly Conditions?: Record<string, unknown>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  readonly Resources?: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { readonly Value: unknown; readonly Export?: { readonly Name: unknown } }>;
}

/** One stack of the assembly, with where its files are. */
export interface StackArtifact {
  readonly stackName: string;
  /** Folder the template and its assets are relative to. */
  readonly assemblyDir: string;
  readonly template: CfnTemplate;
  /** From the manifest's `aws://account/region`, when concrete. */
  readonly envRegion?: string;
  readonly envAccount?: string;
  /**
   * Construct path of each resource by logical id (`Stack/Publisher`, the trailing `/Resource` dropped), from the
   * assembly's `aws:cdk:logicalId` metadata. @default - none known
   */
  readonly constructPaths?: Readonly<Record<string, string>>;
  /** For a nested stack: the parent stack and the logical id of its `AWS::CloudFormation::Stack` resource. @default - a top-level stack */
  readonly parent?: { readonly stack: StackArtifact; readonly logicalId: string };
  /** What stops this stack from running locally (e.g. a nested stack whose template is not in the assembly). @default - none */
  readonly problems?: readonly string[];
}
