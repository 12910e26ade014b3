import { Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * A Lambda proxy integration whose invoke permission is scoped to one route of one stage:
 * `arn:<partition>:execute-api:<region>:<account>:<apiId>/<stage>/<routeKey>`.
 *
 * (The aws-cdk-lib integration scopes to `<apiId>/*<routeKey>`, which also matches other routes
 * ending in the same key; see style.md §4 on one permission per route.)
 * @internal
 */
export class RouteScopedLambdaIntegration extends apigwv2.WebSocketRouteIntegration {
  constructor(
    id: string,
    private readonly handler: lambda.IFunction,
    private readonly stageName: string,
  ) {
    super(id);
  }

  public bind(options: apigwv2.WebSocketRouteIntegrationBindOptions): apigwv2.WebSocketRouteIntegrationConfig {
    const route = options.route;
    const stack = Stack.of(route);
    this.handler.addPermission('InvokePermission', {
      scope: options.scope,
      principal: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      sourceArn: stack.formatArn({
        service: 'execute-api',
        resource: route.webSocketApi.apiId,
        resourceName: `${this.stageName}/${route.routeKey}`,
      }),
    });
    return {
      type: apigwv2.WebSocketIntegrationType.AWS_PROXY,
      uri: stack.formatArn({
        service: 'apigateway',
        account: 'lambda',
        resource: 'path/2015-03-31/functions',
        resourceName: `${this.handler.functionArn}/invocations`,
      }),
    };
  }
}
