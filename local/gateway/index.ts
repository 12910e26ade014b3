export { startGateway, PORT_DEFAULT, IDLE_TIMEOUT_MS_DEFAULT, MAX_DURATION_MS_DEFAULT, MAX_MESSAGE_BYTES } from './gateway';
export type { Gateway, GatewayOptions, StageEndpoint, ExtraHttpHandler } from './gateway';
export { RouteSelector, selectRouteKey, stringifySelected } from './route-selection';
export { evaluateInvokePolicy } from './iam-policy';
export { newGatewayId, isGatewayId } from './ids';
