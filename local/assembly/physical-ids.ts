/**
 * What `Ref` and `Fn::GetAtt` give for each resource type, as local values shaped like AWS's.
 * Explicit physical names (`FunctionName`, `TableName`, `Name`...) are kept; others are generated.
 */
import { AssemblyError, where } from './errors';
import { apiGatewayId, generatedName, secretArnSuffix } from './ids';
import { CfnResource } from './template';

export interface NamingContext {
  readonly stackName: string;
  readonly region: string;
  readonly accountId: string;
  /** Resolves a property of the resource (explicit names may themselves be intrinsics). */
  readonly property: (name: string) => unknown;
}

function explicitName(ctx: NamingContext, prop: string): string | undefined {
  const value = ctx.property(prop);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `Ref` of a resource. */
export function refOf(logicalId: string, resource: CfnResource, ctx: NamingContext): string {
  const { stackName } = ctx;
  switch (resource.Type) {
    case 'AWS::Lambda::Function':
      return explicitName(ctx, 'FunctionName') ?? generatedName(stackName, logicalId, 64, false);
    case 'AWS::DynamoDB::Table':
    case 'AWS::DynamoDB::GlobalTable':
      return explicitName(ctx, 'TableName') ?? generatedName(stackName, logicalId, 255);
    case 'AWS::ApiGatewayV2::Api':
      return apiGatewayId(stackName, logicalId, 10);
    case 'AWS::ApiGatewayV2::Route':
    case 'AWS::ApiGatewayV2::Integration':
    case 'AWS::ApiGatewayV2::Authorizer':
    case 'AWS::ApiGatewayV2::RouteResponse':
    case 'AWS::ApiGatewayV2::IntegrationResponse':
    case 'AWS::ApiGatewayV2::Deployment':
      return apiGatewayId(stackName, logicalId, 7);
    case 'AWS::ApiGatewayV2::Stage':
      return explicitName(ctx, 'StageName') ?? '$default';
    case 'AWS::SecretsManager::Secret':
      return secretArn(logicalId, ctx);
    case 'AWS::Lambda::Alias':
      return `${functionArn(ctx)}:${explicitName(ctx, 'Name') ?? logicalId}`;
    case 'AWS::Lambda::Version':
      return `${functionArn(ctx)}:1`;
    case 'AWS::IAM::Role':
    case 'AWS::IAM::User':
      return explicitName(ctx, 'RoleName') ?? explicitName(ctx, 'UserName') ?? generatedName(stackName, logicalId, 64, false);
    case 'AWS::CloudFormation::Stack':
      return `arn:aws:cloudformation:${ctx.region}:${ctx.accountId}:stack/${generatedName(stackName, logicalId, 128)}/00000000-0000-4000-8000-000000000000`;
    case 'AWS::SQS::Queue':
      return `https://sqs.${ctx.region}.amazonaws.com/${ctx.accountId}/${explicitName(ctx, 'QueueName') ?? generatedName(stackName, logicalId, 80, false)}`;
    default:
      return generatedName(stackName, logicalId, 128, false);
  }
}

/** ARN of the function an alias or version points at (`FunctionName` may be a name or an ARN). */
function functionArn(ctx: NamingContext): string {
  const name = explicitName(ctx, 'FunctionName') ?? '';
  return name.startsWith('arn:') ? name : `arn:aws:lambda:${ctx.region}:${ctx.accountId}:function:${name}`;
}

function secretName(logicalId: string, ctx: NamingContext): string {
  return explicitName(ctx, 'Name') ?? generatedName(ctx.stackName, logicalId, 256, false).replace(`${ctx.stackName}-`, '');
}

function secretArn(logicalId: string, ctx: NamingContext): string {
  const name = secretName(logicalId, ctx);
  return `arn:aws:secretsmanager:${ctx.region}:${ctx.accountId}:secret:${name}-${secretArnSuffix(ctx.stackName, logicalId)}`;
}

/** `Fn::GetAtt` of a resource; unknown attributes are an error naming the resource and the attribute. */
export function attributeOf(logicalId: string, resource: CfnResource, attribute: string, ctx: NamingContext): unknown {
  const ref = () => refOf(logicalId, resource, ctx);
  const { region, accountId } = ctx;
  const fail = (): never => {
    throw new AssemblyError(
      `${where(ctx.stackName, logicalId)}: Fn::GetAtt ${attribute} of ${resource.Type} is not supported by the emulator`,
    );
  };
  switch (resource.Type) {
    case 'AWS::Lambda::Function':
      if (attribute === 'Arn') return `arn:aws:lambda:${region}:${accountId}:function:${ref()}`;
      return fail();
    case 'AWS::Lambda::Alias':
    case 'AWS::Lambda::Version':
      if (attribute === 'Version') return '1';
      return fail();
    case 'AWS::DynamoDB::Table':
    case 'AWS::DynamoDB::GlobalTable': {
      const arn = `arn:aws:dynamodb:${region}:${accountId}:table/${ref()}`;
      if (attribute === 'Arn') return arn;
      if (attribute === 'StreamArn') return `${arn}/stream/1970-01-01T00:00:00.000`;
      if (attribute === 'TableId') return apiGatewayId(ctx.stackName, logicalId, 10);
      return fail();
    }
    case 'AWS::ApiGatewayV2::Api':
      if (attribute === 'ApiId') return ref();
      if (attribute === 'ApiEndpoint') return `wss://${ref()}.execute-api.${region}.amazonaws.com`;
      return fail();
    case 'AWS::ApiGatewayV2::Route':
      if (attribute === 'RouteId') return ref();
      return fail();
    case 'AWS::ApiGatewayV2::Authorizer':
      if (attribute === 'AuthorizerId') return ref();
      return fail();
    case 'AWS::SecretsManager::Secret':
      if (attribute === 'Id' || attribute === 'Arn') return ref();
      return fail();
    case 'AWS::IAM::Role':
      if (attribute === 'Arn') return `arn:aws:iam::${accountId}:role/${ref()}`;
      if (attribute === 'RoleId') return `AROA${ref().toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 17)}`;
      return fail();
    case 'AWS::SQS::Queue':
      if (attribute === 'Arn') return `arn:aws:sqs:${region}:${accountId}:${ref().split('/').pop()}`;
      if (attribute === 'QueueName') return ref().split('/').pop();
      return fail();
    case 'AWS::Logs::LogGroup':
      if (attribute === 'Arn') return `arn:aws:logs:${region}:${accountId}:log-group:${ref()}:*`;
      return fail();
    default:
      if (attribute === 'Arn') {
        const service = resource.Type.split('::')[1]?.toLowerCase() ?? 'unknown';
        return `arn:aws:${service}:${region}:${accountId}:${ref()}`;
      }
      return fail();
  }
}
