/**
 * IAM identity-policy evaluation for the emulator: explicit Deny wins, then any Allow, else the implicit deny.
 * Action, NotAction, Resource and NotResource with `*` / `?` wildcards (actions case-insensitive, resources
 * case-sensitive). Conditions are not evaluated: a statement with a Condition applies as if it held, and the
 * evaluator lists it in `warnings` so the start-up output says so. Decisions are cached per evaluator (one per role).
 */

/** One policy document of a role, as found in the template (intrinsics already resolved). */
export interface PolicySource {
  /** Where it comes from, e.g. `Stack/HandlerRoleDefaultPolicy1234` or a managed policy ARN. */
  readonly name: string;
  /** The document (`{ Version, Statement }`). */
  readonly document: unknown;
}

export interface Decision {
  readonly allowed: boolean;
  /** `explicit deny` | `allowed` | `implicit deny` */
  readonly reason: 'explicit deny' | 'allowed' | 'implicit deny';
  /** The deciding statement (`policy name#index` or `#Sid`), or for an implicit deny the closest near miss. */
  readonly detail: string;
}

interface CompiledStatement {
  readonly label: string;
  readonly effect: 'Allow' | 'Deny';
  readonly actions?: RegExp[];
  readonly notActions?: RegExp[];
  readonly resources?: RegExp[];
  readonly notResources?: RegExp[];
  readonly actionText: string;
  readonly resourceText: string;
}

function glob(pattern: string, caseInsensitive: boolean): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, caseInsensitive ? 'is' : 's');
}

const list = (value: unknown): string[] | undefined =>
  value === undefined ? undefined : (Array.isArray(value) ? value : [value]).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));

export class PolicyEvaluator {
  readonly warnings: string[] = [];
  private readonly statements: CompiledStatement[] = [];
  private readonly cache = new Map<string, Decision>();

  /** `owner` names the role in warnings; `sources` are kept so another process can build the same evaluator. */
  constructor(readonly owner: string, readonly sources: readonly PolicySource[]) {
    for (const source of sources) {
      const doc = source.document as { Statement?: unknown } | undefined;
      const raw = doc?.Statement === undefined ? [] : Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
      raw.forEach((s: Record<string, unknown>, index: number) => {
        const label = `${source.name}#${typeof s.Sid === 'string' && s.Sid ? s.Sid : index}`;
        if (s.Effect !== 'Allow' && s.Effect !== 'Deny') {
          this.warnings.push(`${owner}: statement ${label} has Effect ${JSON.stringify(s.Effect)}; ignored`);
          return;
        }
        if (s.Condition !== undefined) {
          this.warnings.push(`${owner}: condition not evaluated in statement ${label} (${Object.keys(s.Condition as object).join(', ')}); it applies as if the condition held`);
        }
        const actions = list(s.Action);
        const notActions = list(s.NotAction);
        const resources = list(s.Resource);
        const notResources = list(s.NotResource);
        this.statements.push({
          label,
          effect: s.Effect,
          actions: actions?.map((a) => glob(a, true)),
          notActions: notActions?.map((a) => glob(a, true)),
          resources: resources?.map((r) => glob(r, false)),
          notResources: notResources?.map((r) => glob(r, false)),
          actionText: actions ? actions.join(', ') : `not ${notActions?.join(', ')}`,
          resourceText: resources ? resources.join(', ') : `not ${notResources?.join(', ')}`,
        });
      });
    }
  }

  private static actionMatches(s: CompiledStatement, action: string): boolean {
    if (s.actions) return s.actions.some((r) => r.test(action));
    return s.notActions !== undefined && !s.notActions.some((r) => r.test(action));
  }

  private static resourceMatches(s: CompiledStatement, resource: string): boolean {
    if (s.resources) return s.resources.some((r) => r.test(resource));
    return s.notResources !== undefined && !s.notResources.some((r) => r.test(resource));
  }

  /** Is `action` (e.g. `dynamodb:DeleteItem`) on `resource` (an ARN) allowed? */
  evaluate(action: string, resource: string): Decision {
    const key = `${action}\n${resource}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const decision = this.decide(action, resource);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, decision);
    return decision;
  }

  private decide(action: string, resource: string): Decision {
    let allow: CompiledStatement | undefined;
    for (const s of this.statements) {
      if (!PolicyEvaluator.actionMatches(s, action) || !PolicyEvaluator.resourceMatches(s, resource)) continue;
      if (s.effect === 'Deny') return { allowed: false, reason: 'explicit deny', detail: `statement ${s.label} denies ${s.actionText} on ${s.resourceText}` };
      allow ??= s;
    }
    if (allow) return { allowed: true, reason: 'allowed', detail: `statement ${allow.label}` };
    const allows = this.statements.filter((s) => s.effect === 'Allow');
    // The closest near miss: a statement of the same service on that resource, else one allowing the action elsewhere.
    const service = `${action.split(':')[0].toLowerCase()}:`;
    const sameResource = allows.find((s) => s.actions !== undefined && s.actionText.toLowerCase().includes(service) && PolicyEvaluator.resourceMatches(s, resource));
    const sameAction = allows.find((s) => PolicyEvaluator.actionMatches(s, action));
    const nearMiss = sameResource
      ? `; statement ${sameResource.label} allows ${sameResource.actionText} on that resource, but not ${action}`
      : sameAction
        ? `; statement ${sameAction.label} allows ${action} only on ${sameAction.resourceText}`
        : '';
    return {
      allowed: false,
      reason: 'implicit deny',
      detail: `missing statement: Allow ${action} on ${resource} (no statement of ${this.owner}'s ${allows.length} Allow statements matches${nearMiss})`,
    };
  }
}

/** Allows everything: the developer key's policy. */
export const ADMINISTRATOR_ACCESS: PolicySource = {
  name: 'arn:aws:iam::aws:policy/AdministratorAccess',
  document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
};

/**
 * AWS managed policies the emulator knows the content of (only the parts for services it emulates; logs and X-Ray
 * are not emulated). Any other managed policy ARN is reported and grants nothing.
 */
export const KNOWN_MANAGED_POLICIES: Readonly<Record<string, unknown>> = {
  'service-role/AWSLambdaBasicExecutionRole': { Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' }] },
  'service-role/AWSLambdaVPCAccessExecutionRole': { Statement: [{ Effect: 'Allow', Action: ['logs:*', 'ec2:*NetworkInterface*'], Resource: '*' }] },
  AWSXRayDaemonWriteAccess: { Statement: [{ Effect: 'Allow', Action: ['xray:*'], Resource: '*' }] },
  AdministratorAccess: ADMINISTRATOR_ACCESS.document,
  AmazonDynamoDBFullAccess: { Statement: [{ Effect: 'Allow', Action: ['dynamodb:*'], Resource: '*' }] },
  AmazonDynamoDBReadOnlyAccess: { Statement: [{ Effect: 'Allow', Action: ['dynamodb:BatchGet*', 'dynamodb:Describe*', 'dynamodb:Get*', 'dynamodb:List*', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:PartiQLSelect'], Resource: '*' }] },
  AmazonAPIGatewayInvokeFullAccess: { Statement: [{ Effect: 'Allow', Action: ['execute-api:Invoke', 'execute-api:ManageConnections'], Resource: 'arn:aws:execute-api:*:*:*' }] },
  SecretsManagerReadWrite: { Statement: [{ Effect: 'Allow', Action: ['secretsmanager:*'], Resource: '*' }] },
  AmazonSQSFullAccess: { Statement: [{ Effect: 'Allow', Action: ['sqs:*'], Resource: '*' }] },
};

/** `arn:aws:iam::aws:policy/service-role/X` → its document, or undefined when unknown. */
export function managedPolicyDocument(arn: string): unknown {
  const m = /^arn:aws[a-z-]*:iam::aws:policy\/(.+)$/.exec(arn);
  return m ? KNOWN_MANAGED_POLICIES[m[1]] : undefined;
}
