import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { TABLE } from '../contract/gateway-contract';

/** Properties of a {@link ConnectionsTable}. */
export interface ConnectionsTableProps {
  /**
   * Use this existing table instead of creating one. It must follow wsgate's item model: string keys `pk`/`sk`, TTL attribute
   * `expiresAt`, and a global secondary index named `byRoom` (partition `room`, sort `connectionId`, projecting `userId` and `expiresAt`).
   *
   * @default - a new on-demand table with point-in-time recovery, AWS-managed KMS encryption,
   * TTL on `expiresAt` and the `byRoom` index
   */
  readonly existingTable?: dynamodb.ITableV2;

  /**
   * What happens to a table this construct creates when it leaves the stack.
   * Ignored with `existingTable`.
   *
   * @default RemovalPolicy.RETAIN - the table and its connection records are kept
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The DynamoDB table recording one item per WebSocket connection and one per room membership.
 *
 * Grants are named after what they allow and cover only the table and its `byRoom` index.
 */
export class ConnectionsTable extends Construct {
  /** Name of the global secondary index keyed by room. */
  public static readonly ROOM_INDEX_NAME: string = TABLE.roomIndexName;
  /** Name of the TTL attribute (epoch seconds) carried by every item. */
  public static readonly TTL_ATTRIBUTE: string = TABLE.ttlAttribute;

  /** The underlying table. */
  public readonly table: dynamodb.ITableV2;
  /** The table name (for the `CONNECTIONS_TABLE` environment variable). */
  public readonly tableName: string;
  /** Name of the index keyed by room (for the `ROOM_INDEX` environment variable). */
  public readonly roomIndexName: string = ConnectionsTable.ROOM_INDEX_NAME;

  constructor(scope: Construct, id: string, props: ConnectionsTableProps = {}) {
    super(scope, id);
    this.table = props.existingTable ?? this.createTable(props.removalPolicy ?? RemovalPolicy.RETAIN);
    this.tableName = this.table.tableName;
  }

  /** ARN of the `byRoom` index. */
  public get roomIndexArn(): string {
    return `${this.table.tableArn}/index/${this.roomIndexName}`;
  }

  /** Allows writing a connection item (`$connect`). */
  public grantWriteConnection(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnTable(grantee, ['dynamodb:PutItem']);
  }

  /**
   * Allows removing a connection with its memberships (`$disconnect`, and any handler cleaning up after a 410 GoneException): a Query on its partition, then BatchWriteItem deletes (no DeleteItem).
   */
  public grantRemoveConnection(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnTable(grantee, ['dynamodb:Query', 'dynamodb:BatchWriteItem']);
  }

  /** Allows reading, adding and removing a membership item (join / leave). */
  public grantManageMemberships(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnTable(grantee, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem']);
  }

  /**
   * Allows reading connections and memberships: GetItem, Query on the table and the `byRoom` index,
   * and a paginated Scan for broadcasts.
   */
  public grantReadConnections(grantee: iam.IGrantable): iam.Grant {
    const onTable = this.grantOnTable(grantee, ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan']);
    const onIndex = iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:Query'],
      resourceArns: [this.roomIndexArn],
    });
    return onTable.combine(onIndex);
  }

  /**
   * Allows writing the progress items of delivery jobs (`pk` starting with `job#`) and nothing else:
   * PutItem with a `dynamodb:LeadingKeys` condition.
   */
  public grantWriteDeliveryProgress(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:PutItem'],
      resourceArns: [this.table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['job#*'] } },
    });
    const key = this.table.encryptionKey;
    return key ? grant.combine(key.grantEncryptDecrypt(grantee)) : grant;
  }

  private grantOnTable(grantee: iam.IGrantable, actions: string[]): iam.Grant {
    const grant = iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [this.table.tableArn] });
    // A customer-managed key needs KMS permissions too; AWS-managed keys do not.
    const key = this.table.encryptionKey;
    return key ? grant.combine(key.grantEncryptDecrypt(grantee)) : grant;
  }

  private createTable(removalPolicy: RemovalPolicy): dynamodb.TableV2 {
    const string = dynamodb.AttributeType.STRING;
    return new dynamodb.TableV2(this, 'Resource', {
      partitionKey: { name: TABLE.partitionKey, type: string },
      sortKey: { name: TABLE.sortKey, type: string },
      billing: dynamodb.Billing.onDemand(),
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: ConnectionsTable.TTL_ATTRIBUTE,
      removalPolicy,
      globalSecondaryIndexes: [
        {
          indexName: ConnectionsTable.ROOM_INDEX_NAME,
          partitionKey: { name: TABLE.roomIndexPartitionKey, type: string },
          sortKey: { name: TABLE.roomIndexSortKey, type: string },
          projectionType: dynamodb.ProjectionType.INCLUDE,
          nonKeyAttributes: [...TABLE.roomIndexProjection],
        },
      ],
    });
  }
}
