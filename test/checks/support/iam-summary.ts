/**
 * The IAM permissions of each bundled handler function, read from a synthesized template, in the words
 * docs/security.md uses ("the connections table", "its own log group" …), and the same tables parsed from the doc.
 */

type Resources = Record<string, { Type: string; Properties?: any }>;

/** Handler name → resource label → sorted actions. */
export type PermissionTables = Map<string, Map<string, string[]>>;

function labelOf(resource: unknown, ownLogGroup: string | undefined, resources: Resources): string {
  const json = JSON.stringify(resource);
  if (json === '"*"') return '`*`';
  const getAtt = (resource as { 'Fn::GetAtt'?: [string, string] })?.['Fn::GetAtt'];
  if (getAtt && getAtt[0] === ownLogGroup) return 'its own log group';
  if (getAtt && resources[getAtt[0]]?.Type.startsWith('AWS::DynamoDB::')) return 'the connections table';
  const ref = (resource as { Ref?: string })?.Ref;
  if (ref && resources[ref]?.Type === 'AWS::SecretsManager::Secret') return 'the signing secret';
  if (json.includes('/index/byRoom')) return "the table's `byRoom` index";
  if (json.includes('/POST/@connections/*')) return "the stage's `@connections`";
  return json;
}

/** Permission tables of every function whose role is described `wsgate <name> handler` (lib/handler-function.ts). */
export function permissionTablesFromTemplate(template: { Resources: Resources }): PermissionTables {
  const resources = template.Resources;
  const tables: PermissionTables = new Map();
  for (const fn of Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function')) {
    const roleId: string | undefined = fn.Properties?.Role?.['Fn::GetAtt']?.[0];
    const name = /^wsgate (\S+) handler$/.exec(resources[roleId ?? '']?.Properties?.Description ?? '')?.[1];
    if (!roleId || !name) continue;
    const ownLogGroup: string | undefined = fn.Properties?.LoggingConfig?.LogGroup?.Ref;
    const table = new Map<string, Set<string>>();
    for (const policy of Object.values(resources)) {
      if (policy.Type !== 'AWS::IAM::Policy') continue;
      if (!(policy.Properties.Roles as Array<{ Ref?: string }>).some((role) => role.Ref === roleId)) continue;
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        if (statement.Effect !== 'Allow') throw new Error(`unexpected ${statement.Effect} statement in ${name}'s policy`);
        for (const resource of [].concat(statement.Resource)) {
          const label = labelOf(resource, ownLogGroup, resources);
          const actions = table.get(label) ?? new Set<string>();
          for (const action of [].concat(statement.Action)) actions.add(action);
          table.set(label, actions);
        }
      }
    }
    tables.set(name, new Map([...table].map(([label, actions]) => [label, [...actions].sort()])));
  }
  return tables;
}

/** The tables under the "### `<name>` function" headings of docs/security.md. */
export function permissionTablesFromDoc(markdown: string): PermissionTables {
  const tables: PermissionTables = new Map();
  let current: Map<string, string[]> | undefined;
  for (const line of markdown.split('\n')) {
    const heading = /^### `([a-z]+)` function\s*$/.exec(line);
    if (heading) {
      current = new Map();
      tables.set(heading[1], current);
      continue;
    }
    if (line.startsWith('#')) current = undefined;
    const row = /^\|(.*)\|(.*)\|\s*$/.exec(line);
    if (!current || !row || /^\s*-+\s*$/.test(row[1]) || row[1].trim() === 'actions') continue;
    const actions = [...row[1].matchAll(/`([^`]+)`/g)].map((m) => m[1]).sort();
    const label = row[2].trim();
    current.set(label, [...(current.get(label) ?? []), ...actions].sort());
  }
  return tables;
}
