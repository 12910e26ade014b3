/** AWS::DynamoDB::Table and AWS::DynamoDB::GlobalTable (what TableV2 synthesizes) → `TableModel`. */
import { TableModel } from '../model';
import { StackResolver } from './intrinsics';

interface IndexProps {
  readonly IndexName: string;
  readonly KeySchema: unknown;
  readonly Projection?: unknown;
}

/** Capacity is not emulated: every table is created on demand. */
export function readTables(resolver: StackResolver): TableModel[] {
  const out: TableModel[] = [];
  for (const [logicalId, resource] of Object.entries(resolver.resources)) {
    if (resource.Type !== 'AWS::DynamoDB::Table' && resource.Type !== 'AWS::DynamoDB::GlobalTable') continue;
    if (!resolver.isDeployed(logicalId)) continue;
    const props = resolver.resolve(resource.Properties ?? {}, logicalId, 'Properties') as Record<string, any>;
    const tableName = String(resolver.ref(logicalId, logicalId, 'Ref'));
    const index = (i: IndexProps) => ({
      IndexName: i.IndexName,
      KeySchema: i.KeySchema,
      Projection: i.Projection ?? { ProjectionType: 'ALL' },
    });
    const gsis: IndexProps[] = props.GlobalSecondaryIndexes ?? [];
    const lsis: IndexProps[] = props.LocalSecondaryIndexes ?? [];
    const ttl = props.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
    out.push({
      stackName: resolver.stackName,
      logicalId,
      tableName,
      createTableInput: {
        TableName: tableName,
        KeySchema: props.KeySchema,
        AttributeDefinitions: props.AttributeDefinitions,
        BillingMode: 'PAY_PER_REQUEST',
        ...(gsis.length ? { GlobalSecondaryIndexes: gsis.map(index) } : {}),
        ...(lsis.length ? { LocalSecondaryIndexes: lsis.map(index) } : {}),
      },
      ...(ttl?.Enabled && ttl.AttributeName ? { ttlAttribute: ttl.AttributeName } : {}),
    });
  }
  return out;
}
