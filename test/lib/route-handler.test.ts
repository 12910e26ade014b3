/**
 * RouteHandler and GatewayPermission: what each permission grants (least privilege, per permission),
 * how a user function is wired, and the bundled handlers' catalogue and assets.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ENV } from '../../contract/gateway-contract';
import { BundledHandler, GatewayPermission, RouteHandler } from '../../lib';
import { bundledHandlerDescriptor, bundledHandlerDirectory } from '../../lib/bundled-handler';
import { actionsOf, arnText, gatewayIn, newValidatedStack, statementsOfRole, userFunction } from './template-helpers';

/** A statement summarized as [resource kind, sorted actions]. */
function summary(statement: Record<string, any>): [string, string[]] {
  const resource = arnText(statement.Resource);
  const kind = resource.includes('/index/byRoom') ? 'index'
    : resource.includes('/POST/@connections/*') ? 'POST @connections'
      : resource.includes('/DELETE/@connections/*') ? 'DELETE @connections'
        : 'table';
  return [kind, actionsOf(statement).sort()];
}

const REMOVE = ['dynamodb:BatchWriteItem', 'dynamodb:Query'];

describe('GatewayPermission', () => {
  test.each([
    [GatewayPermission.RECORD_CONNECTIONS, [['table', ['dynamodb:PutItem']]]],
    [GatewayPermission.REMOVE_CONNECTIONS, [['table', REMOVE]]],
    [GatewayPermission.MANAGE_ROOMS, [['table', ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem']]]],
    [GatewayPermission.READ_CONNECTIONS, [['table', ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan']], ['index', ['dynamodb:Query']]]],
    [GatewayPermission.POST_TO_CONNECTIONS, [['table', REMOVE], ['POST @connections', ['execute-api:ManageConnections']]]],
    [GatewayPermission.CLOSE_CONNECTIONS, [['DELETE @connections', ['execute-api:ManageConnections']]]],
  ] as const)('GIVEN a role WHEN granted %s THEN it gets exactly %j', (permission, expected) => {
    // GIVEN
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack);
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    // WHEN
    const grant = gateway.grant(role, permission);
    // THEN
    expect(grant.success).toBe(true);
    expect(statementsOfRole(stack, Template.fromStack(stack), role).map(summary)).toEqual(expected);
  });

  test('GIVEN permissions in any order, repeated WHEN granted THEN each grant appears once, in one fixed order', () => {
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack);
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    gateway.grant(role, GatewayPermission.CLOSE_CONNECTIONS, GatewayPermission.RECORD_CONNECTIONS, GatewayPermission.CLOSE_CONNECTIONS);
    expect(statementsOfRole(stack, Template.fromStack(stack), role).map(summary)).toEqual([
      ['table', ['dynamodb:PutItem']],
      ['DELETE @connections', ['execute-api:ManageConnections']],
    ]);
  });

  test('GIVEN no permission WHEN granted THEN the role gets no statement', () => {
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack);
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    gateway.grant(role);
    expect(statementsOfRole(stack, Template.fromStack(stack), role)).toEqual([]);
  });
});

describe('RouteHandler', () => {
  test('GIVEN fromFunction with permissions WHEN the route is added THEN the function role gets exactly those grants', () => {
    // GIVEN
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack);
    const fn = userFunction(stack);
    // WHEN
    gateway.addRoute('rooms', {
      handler: RouteHandler.fromFunction(fn, { permissions: [GatewayPermission.MANAGE_ROOMS, GatewayPermission.POST_TO_CONNECTIONS] }),
    });
    // THEN
    expect(statementsOfRole(stack, Template.fromStack(stack), fn.role!).map(summary)).toEqual([
      ['table', ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem']],
      ['table', REMOVE],
      ['POST @connections', ['execute-api:ManageConnections']],
    ]);
  });

  test('GIVEN fromFunction without permissions WHEN the route is added THEN the function may be invoked but gets no table or @connections access', () => {
    const stack = newValidatedStack();
    const fn = userFunction(stack);
    gatewayIn(stack).addRoute('echo', { handler: RouteHandler.fromFunction(fn) });
    expect(statementsOfRole(stack, Template.fromStack(stack), fn.role!)).toEqual([]);
  });

  test('GIVEN one user function on two routes WHEN synthesized THEN its grants are not duplicated', () => {
    const stack = newValidatedStack();
    const gateway = gatewayIn(stack);
    const fn = userFunction(stack);
    const handler = RouteHandler.fromFunction(fn, { permissions: [GatewayPermission.READ_CONNECTIONS] });
    gateway.addRoute('a', { handler });
    gateway.addRoute('b', { handler });
    expect(statementsOfRole(stack, Template.fromStack(stack), fn.role!).map(summary)).toEqual([
      ['table', ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan']],
      ['index', ['dynamodb:Query']],
    ]);
  });

  test('GIVEN the permissions array WHEN changed after fromFunction THEN the handler keeps its own copy', () => {
    const stack = newValidatedStack();
    const permissions = [GatewayPermission.READ_CONNECTIONS];
    const handler = RouteHandler.fromFunction(userFunction(stack), { permissions });
    permissions.push(GatewayPermission.CLOSE_CONNECTIONS);
    expect(handler.permissions).toEqual([GatewayPermission.READ_CONNECTIONS]);
    expect(RouteHandler.bundled(BundledHandler.JOIN).permissions).toEqual([]);
  });
});

describe('bundled handler catalogue and assets', () => {
  const all = Object.values(BundledHandler).filter((v): v is BundledHandler => v instanceof BundledHandler);

  test('GIVEN every bundled handler WHEN its descriptor is read THEN its variables are contract names and it has the expected permissions', () => {
    expect(all.map((h) => h.name).sort()).toEqual(['authorizer', 'connect', 'default', 'delivery-worker', 'disconnect', 'join', 'leave', 'sendmessage']);
    for (const handler of all) {
      for (const setting of bundledHandlerDescriptor(handler).environment) expect(Object.keys(ENV)).toContain(setting);
    }
    expect(bundledHandlerDescriptor(BundledHandler.CONNECT).permissions).toEqual([GatewayPermission.RECORD_CONNECTIONS]);
    expect(bundledHandlerDescriptor(BundledHandler.SEND_MESSAGE).permissions).toEqual([GatewayPermission.READ_CONNECTIONS, GatewayPermission.POST_TO_CONNECTIONS]);
    expect(bundledHandlerDescriptor(BundledHandler.DELIVERY_WORKER).permissions).toEqual([GatewayPermission.READ_CONNECTIONS, GatewayPermission.POST_TO_CONNECTIONS]);
    expect(all.filter((h) => bundledHandlerDescriptor(h).enqueuesDeliveryJobs)).toEqual([BundledHandler.SEND_MESSAGE]);
  });

  test('GIVEN a folder without the built bundle WHEN looked up THEN it throws telling to run npm run build', () => {
    const emptyRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-assets-'));
    expect(() => bundledHandlerDirectory('join', emptyRoot)).toThrow(/bundled handler 'join' was not found.*Run `npm run build`/);
  });

  test('GIVEN a built bundle WHEN looked up THEN its folder is returned', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-assets-'));
    fs.mkdirSync(path.join(root, 'join'));
    fs.writeFileSync(path.join(root, 'join', 'index.js'), 'exports.handler = async () => ({});');
    expect(bundledHandlerDirectory('join', root)).toBe(path.join(root, 'join'));
  });
});
