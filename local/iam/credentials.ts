/**
 * Local identities: every function gets credentials bound to its execution role (minted at emulator start, new
 * each run), and one documented developer key stands for a person or a script (AWS CLI, tests, load tools).
 * `IamAuthority.authorize` verifies a request's SigV4 signature, finds the identity, and evaluates its role's
 * policies for the action and resource; the answer names what is missing.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FunctionModel, RoleModel } from '../model';
import { ADMINISTRATOR_ACCESS, managedPolicyDocument, PolicyEvaluator, type Decision, type PolicySource } from './policy';
import { verifySigV4, type SignableRequest, type SigV4Failure } from './sigv4';

/** The developer key: signs requests of tools and scripts; its policy allows everything. Printed at start. */
export const DEVELOPER_CREDENTIALS = {
  accessKeyId: 'AKIAWSGATELOCALDEV01',
  secretAccessKey: 'wsgate-local-developer-secret-key-0000001',
} as const;

export interface LocalIdentity {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** What AWS names in its errors: `arn:aws:sts::ACCOUNT:assumed-role/ROLE/FUNCTION` or the developer's user ARN. */
  readonly arn: string;
  readonly accountId: string;
  /** For log lines: `function Stack/Id (role RoleName)` or `developer key`. */
  readonly label: string;
  /** The role's policies; undefined when the role is not in the template (calls are then not checked). */
  readonly policy?: PolicyEvaluator;
  /** The role's permissions boundary: what the policies allow must be allowed here too. @default - none */
  readonly boundary?: PolicyEvaluator;
}

export type AuthorizeResult =
  | { readonly ok: true; readonly identity: LocalIdentity; readonly decision?: Decision }
  | { readonly ok: false; readonly kind: 'signature'; readonly failure: SigV4Failure }
  | { readonly ok: false; readonly kind: 'denied'; readonly identity: LocalIdentity; readonly decision: Decision; readonly message: string };

export interface IamAuthorityOptions {
  readonly functions: Readonly<Record<string, FunctionModel>>;
  readonly accountId: string;
  /** A line per refusal (which statement was missing) and per start-up warning. @default - dropped */
  readonly log?: (line: string) => void;
}

/** What AWS says when an identity policy (or the role's permissions boundary) does not allow an action. */
export function deniedMessage(identity: LocalIdentity, action: string, resource: string, decision: Decision, by: 'identity-based policy' | 'permissions boundary' = 'identity-based policy'): string {
  const why = decision.reason === 'explicit deny' ? `with an explicit deny in ${by === 'permissions boundary' ? 'a' : 'an'} ${by}` : `because no ${by} allows the ${action} action`;
  return `User: ${identity.arn} is not authorized to perform: ${action} on resource: ${resource} ${why}`;
}

/** The documents behind a `PolicyEvaluator`: what it was built from, so another process can build the same one. */
export interface EvaluatorSources {
  readonly owner: string;
  readonly sources: readonly PolicySource[];
}

/** A function's identity as plain data (JSON), for a check made outside the emulator's process. */
export interface IdentityConfig {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly arn: string;
  readonly accountId: string;
  readonly label: string;
  /** Undefined when the role is not in the template: calls are then not checked. */
  readonly policy?: EvaluatorSources;
  readonly boundary?: EvaluatorSources;
}

/** The identity an `IdentityConfig` describes, with its evaluators built. */
export function identityFromConfig(config: IdentityConfig): LocalIdentity {
  const { policy, boundary, ...rest } = config;
  return {
    ...rest,
    ...(policy ? { policy: new PolicyEvaluator(policy.owner, policy.sources) } : {}),
    ...(boundary ? { boundary: new PolicyEvaluator(boundary.owner, boundary.sources) } : {}),
  };
}

/**
 * Verifies a request's SigV4 signature (signing name `service`) against the identity `lookup` finds for its access
 * key, then checks each `[action, resource]` pair against that identity's policies and permissions boundary.
 * A refusal is logged (which statement is missing) and answered with the text AWS uses.
 */
export function authorizeRequest(
  lookup: (accessKeyId: string) => LocalIdentity | undefined,
  request: SignableRequest,
  service: string,
  action: string | ((identity: LocalIdentity) => Array<[string, string]>),
  resources: readonly string[] | undefined,
  log: (line: string) => void,
): AuthorizeResult {
  let found: LocalIdentity | undefined;
  const signed = verifySigV4(request, (key) => (found = lookup(key))?.secretAccessKey, service);
  if ('errorType' in signed) return { ok: false, kind: 'signature', failure: signed };
  const identity = found!;
  if ((identity.sessionToken ?? undefined) !== signed.sessionToken) {
    return { ok: false, kind: 'signature', failure: { errorType: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' } };
  }
  if (!identity.policy) return { ok: true, identity };
  const checks: Array<[string, string]> = typeof action === 'function' ? action(identity) : (resources ?? []).map((r) => [action, r]);
  let last: Decision | undefined;
  for (const [act, resource] of checks) {
    const decision = identity.policy.evaluate(act, resource);
    if (!decision.allowed) {
      log(`IAM: ${identity.label} refused ${act} on ${resource}: ${decision.detail}`);
      return { ok: false, kind: 'denied', identity, decision, message: deniedMessage(identity, act, resource, decision) };
    }
    const capped = identity.boundary?.evaluate(act, resource);
    if (capped && !capped.allowed) {
      log(`IAM: ${identity.label} refused ${act} on ${resource} by its permissions boundary: ${capped.detail}`);
      return { ok: false, kind: 'denied', identity, decision: capped, message: deniedMessage(identity, act, resource, capped, 'permissions boundary') };
    }
    last = decision;
  }
  return { ok: true, identity, ...(last ? { decision: last } : {}) };
}

/** The evaluator of a role's permissions boundary; undefined (with a warning) when its document is unknown. */
function boundaryOf(role: RoleModel, warnings: string[]): PolicyEvaluator | undefined {
  const boundary = role.permissionsBoundary;
  if (!boundary) return undefined;
  const document = boundary.document ?? (boundary.arn ? managedPolicyDocument(boundary.arn) : undefined);
  if (!document) {
    warnings.push(`role ${role.roleName}: permissions boundary ${boundary.name} is not known to the emulator; it is not applied locally`);
    return undefined;
  }
  const evaluator = new PolicyEvaluator(`the permissions boundary of role ${role.roleName}`, [{ name: boundary.name, document }]);
  warnings.push(...evaluator.warnings);
  return evaluator;
}

export class IamAuthority {
  readonly warnings: string[] = [];
  private readonly byKey = new Map<string, LocalIdentity>();
  private readonly byFunction = new Map<string, LocalIdentity>();
  private readonly byRole = new Map<string, LocalIdentity>();
  private readonly log: (line: string) => void;
  private readonly nonce = randomBytes(16).toString('hex');
  private readonly accountId: string;

  constructor(options: IamAuthorityOptions) {
    this.accountId = options.accountId;
    this.log = options.log ?? (() => undefined);
    const developer: LocalIdentity = {
      ...DEVELOPER_CREDENTIALS,
      arn: `arn:aws:iam::${options.accountId}:user/wsgate-local-developer`,
      accountId: options.accountId,
      label: 'developer key',
      policy: new PolicyEvaluator('the developer key', [ADMINISTRATOR_ACCESS]),
    };
    this.byKey.set(developer.accessKeyId, developer);
    this.warnings.push(...this.install(options.functions));
  }

  /**
   * Takes the roles and policies of a reloaded assembly: each function keeps its keys (its running processes stay
   * valid) and is checked against its new policies from now on; new functions get keys. Returns the new warnings.
   */
  update(functions: Readonly<Record<string, FunctionModel>>): string[] {
    return this.install(functions);
  }

  private install(functions: Readonly<Record<string, FunctionModel>>): string[] {
    const warnings: string[] = [];
    const evaluators = new Map<string, PolicyEvaluator>();
    const boundaries = new Map<string, PolicyEvaluator | undefined>();
    for (const fn of Object.values(functions)) {
      const accountId = fn.accountId ?? this.accountId;
      const role = fn.role;
      let policy: PolicyEvaluator | undefined;
      if (role) {
        policy = evaluators.get(role.id);
        if (!policy) {
          const sources: PolicySource[] = [...role.policies];
          for (const arn of role.managedPolicyArns) {
            const document = managedPolicyDocument(arn);
            if (document) sources.push({ name: arn, document });
            else warnings.push(`${fn.id}: managed policy ${arn} is not known to the emulator; it grants nothing locally`);
          }
          policy = new PolicyEvaluator(`role ${role.roleName}`, sources);
          warnings.push(...policy.warnings, ...role.warnings);
          evaluators.set(role.id, policy);
          boundaries.set(role.id, boundaryOf(role, warnings));
        }
      } else {
        warnings.push(`${fn.id}: its execution role is not a resource of the assembly; its calls to local services are not IAM-checked`);
      }
      const known = this.byFunction.get(fn.id);
      const digest = createHash('sha256').update(`${this.nonce}\n${fn.id}`).digest();
      const identity: LocalIdentity = {
        accessKeyId: known?.accessKeyId ?? `ASIA${digest.toString('base64').replace(/[^A-Za-z0-9]/g, '').toUpperCase().slice(0, 16).padEnd(16, 'X')}`,
        secretAccessKey: known?.secretAccessKey ?? randomBytes(30).toString('base64'),
        sessionToken: known?.sessionToken ?? randomBytes(48).toString('base64'),
        arn: `arn:aws:sts::${accountId}:assumed-role/${role?.roleName ?? 'unknown-role'}/${fn.functionName}`,
        accountId,
        label: `function ${fn.id}${role ? ` (role ${role.roleName})` : ''}`,
        policy,
        ...(role && boundaries.get(role.id) ? { boundary: boundaries.get(role.id) } : {}),
      };
      this.byKey.set(identity.accessKeyId, identity);
      this.byFunction.set(fn.id, identity);
    }
    return warnings;
  }

  /**
   * Credentials of a role API Gateway assumes for an integration (its CredentialsArn), minted on first use and
   * checked against that role's policies like a function's.
   */
  credentialsForRole(role: RoleModel): { accessKeyId: string; secretAccessKey: string; sessionToken: string } {
    let identity = this.byRole.get(role.id);
    if (!identity) {
      const sources: PolicySource[] = [...role.policies];
      for (const arn of role.managedPolicyArns) {
        const document = managedPolicyDocument(arn);
        if (document) sources.push({ name: arn, document });
      }
      identity = {
        accessKeyId: `ASIA${randomBytes(12).toString('hex').toUpperCase().slice(0, 16)}`,
        secretAccessKey: randomBytes(30).toString('base64'),
        sessionToken: randomBytes(48).toString('base64'),
        arn: `arn:aws:sts::${/^arn:[^:]+:iam::(\d+):/.exec(role.arn)?.[1] ?? this.accountId}:assumed-role/${role.roleName}/apigateway-integration`,
        accountId: /^arn:[^:]+:iam::(\d+):/.exec(role.arn)?.[1] ?? this.accountId,
        label: `integration role ${role.roleName}`,
        policy: new PolicyEvaluator(`role ${role.roleName}`, sources),
      };
      this.byRole.set(role.id, identity);
      this.byKey.set(identity.accessKeyId, identity);
    }
    return { accessKeyId: identity.accessKeyId, secretAccessKey: identity.secretAccessKey, sessionToken: identity.sessionToken! };
  }

  /** The AWS_* credential variables of a function's processes. */
  credentialsFor(functionId: string): Record<string, string> | undefined {
    const identity = this.byFunction.get(functionId);
    if (!identity) return undefined;
    return {
      AWS_ACCESS_KEY_ID: identity.accessKeyId,
      AWS_SECRET_ACCESS_KEY: identity.secretAccessKey,
      AWS_SESSION_TOKEN: identity.sessionToken!,
    };
  }

  /** Verifies the signature (signing name `service`), then checks `action` on each of `resources`. */
  authorize(request: SignableRequest, service: string, action: string | ((identity: LocalIdentity) => Array<[string, string]>), resources?: readonly string[]): AuthorizeResult {
    return authorizeRequest((key) => this.byKey.get(key), request, service, action, resources, this.log);
  }

  /**
   * What a function's own process needs to check its DynamoDB calls itself (local/runtime/dynamo-guard.ts): its
   * credentials, identity and the policy documents of its role and boundary. Undefined for an unknown function.
   */
  identityConfigFor(functionId: string): IdentityConfig | undefined {
    const identity = this.byFunction.get(functionId);
    if (!identity) return undefined;
    const sourcesOf = (evaluator: PolicyEvaluator | undefined): EvaluatorSources | undefined =>
      evaluator ? { owner: evaluator.owner, sources: evaluator.sources } : undefined;
    const policy = sourcesOf(identity.policy);
    const boundary = sourcesOf(identity.boundary);
    return {
      accessKeyId: identity.accessKeyId,
      secretAccessKey: identity.secretAccessKey,
      sessionToken: identity.sessionToken!,
      arn: identity.arn,
      accountId: identity.accountId,
      label: identity.label,
      ...(policy ? { policy } : {}),
      ...(boundary ? { boundary } : {}),
    };
  }
}
