/**
 * Does an authorizer's IAM policy allow `execute-api:Invoke` on the `$connect` methodArn? (spec §2.2)
 *
 * IAM semantics: an explicit Deny wins over any Allow; no matching Allow means denied. In Action and Resource,
 * `*` matches any run of characters (including `/` and `:`), `?` any single character. Actions compare
 * case-insensitively, resources case-sensitively. `NotAction` / `NotResource` are honoured; `Condition` blocks are
 * not evaluated (a statement with a Condition is ignored, which can only make the result stricter) [INF].
 */

export type PolicyVerdict = 'allow' | 'deny';

export class MalformedPolicyError extends Error {}

interface Statement {
  readonly Effect?: unknown;
  readonly Action?: unknown;
  readonly NotAction?: unknown;
  readonly Resource?: unknown;
  readonly NotResource?: unknown;
  readonly Condition?: unknown;
}

function wildcardToRegExp(pattern: string, flags: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, flags);
}

function asStringList(value: unknown, field: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.some((v) => typeof v !== 'string')) throw new MalformedPolicyError(`policy ${field} must be a string or a list of strings`);
  return list as string[];
}

function matchesAny(patterns: string[], value: string, flags: string): boolean {
  return patterns.some((p) => wildcardToRegExp(p, flags).test(value));
}

function statementApplies(statement: Statement, action: string, resource: string): boolean {
  if (statement.Condition !== undefined) return false;
  const actionOk =
    statement.Action !== undefined
      ? matchesAny(asStringList(statement.Action, 'Action'), action, 'i')
      : statement.NotAction !== undefined
        ? !matchesAny(asStringList(statement.NotAction, 'NotAction'), action, 'i')
        : false;
  const resourceOk =
    statement.Resource !== undefined
      ? matchesAny(asStringList(statement.Resource, 'Resource'), resource, '')
      : statement.NotResource !== undefined
        ? !matchesAny(asStringList(statement.NotResource, 'NotResource'), resource, '')
        : false;
  return actionOk && resourceOk;
}

/** Evaluates `policyDocument` for `execute-api:Invoke` on `methodArn`. Throws MalformedPolicyError on a bad shape. */
export function evaluateInvokePolicy(policyDocument: unknown, methodArn: string): PolicyVerdict {
  if (policyDocument === null || typeof policyDocument !== 'object') {
    throw new MalformedPolicyError('policyDocument must be an object');
  }
  const raw = (policyDocument as { Statement?: unknown }).Statement;
  if (raw === undefined) throw new MalformedPolicyError('policyDocument has no Statement');
  const statements = (Array.isArray(raw) ? raw : [raw]) as unknown[];
  let allowed = false;
  for (const statement of statements) {
    if (statement === null || typeof statement !== 'object') throw new MalformedPolicyError('each Statement must be an object');
    const s = statement as Statement;
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw new MalformedPolicyError('Statement Effect must be Allow or Deny');
    if (!statementApplies(s, 'execute-api:Invoke', methodArn)) continue;
    if (s.Effect === 'Deny') return 'deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'deny';
}
