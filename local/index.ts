/** The emulator's public API: `startEmulator` and the gateway for embedding in tests. */
export { startEmulator } from './emulator';
export type { EmulatorOptions, RunningEmulator } from './emulator';
export { startGateway } from './gateway';
export type { Gateway, GatewayOptions, StageEndpoint } from './gateway';
export { signDevToken, LOCAL_SECRET_DEFAULT, EXAMPLE_ISSUER, EXAMPLE_AUDIENCE } from './dev-token';
export type * from './model';
