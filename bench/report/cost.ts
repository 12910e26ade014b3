/** docs/benchmarks.md section 5 (DynamoDB cost per operation). */
import type { CostResult } from '../cost/suite';
import { num, table } from './format';

export function costSection(r: CostResult): string {
  const rows = r.operations.map((o) => [
    o.operation,
    o.setup,
    Object.entries(o.calls).map(([op, n]) => `${op} ${n}`).join(', ') || 'none',
    o.batchWriteItems ? num(o.batchWriteItems) : '0',
    num(o.readUnits, 1),
    num(o.writeUnits, 1),
    num(o.gsiWritesNotMetered),
    num(o.posts),
  ]);
  return [
    table(['operation', 'table state', 'requests', 'items in BatchWriteItem', 'RCU', 'WCU (table)', '+ GSI writes (not metered)', '@connections posts'], rows),
    '',
    `Method: ${r.method}. The authorizer makes no DynamoDB request (it reads the signing key from Secrets Manager, cached per instance).`,
    'Units are those dynalite reports for ReturnConsumedCapacity TOTAL (4 KB read units, halved for eventually consistent reads; ' +
      '1 KB write units). DynamoDB also charges one write unit per GSI write: every write or delete of a membership item ' +
      'updates the byRoom index; that column counts them, and they are not included in the WCU column.',
  ].join('\n');
}
