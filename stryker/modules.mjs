// The modules `npm run mutate` mutates, each against its OWN test files only (a bounded run on a 2-core machine).
// `tests` are jest testMatch globs relative to the repo root.
export const MODULES = {
  messenger: {
    mutate: ['lambda/runtime/messenger.ts'],
    tests: ['test/lambda/runtime/messenger.test.ts', 'test/lambda/runtime/store-and-messenger.test.ts'],
  },
  'connection-store': {
    mutate: ['lambda/runtime/connection-store.ts'],
    tests: ['test/lambda/runtime/connection-store.test.ts', 'test/lambda/runtime/store-and-messenger.test.ts'],
  },
  protocol: {
    mutate: ['lambda/chat/protocol.ts', 'lambda/runtime/json-object.ts'],
    tests: ['test/lambda/chat/protocol.test.ts'],
  },
  validation: {
    mutate: ['lib/validation.ts'],
    tests: ['test/lib/validation.test.ts'],
  },
  'route-selection': {
    mutate: ['local/gateway/route-selection.ts'],
    tests: ['test/local/route-selection.test.ts'],
  },
  'iam-policy': {
    mutate: ['local/iam/policy.ts'],
    tests: ['test/local/iam-policy.test.ts'],
  },
  'iam-sigv4': {
    mutate: ['local/iam/sigv4.ts'],
    tests: ['test/local/iam-sigv4.test.ts'],
  },
  'delivery-job': {
    mutate: ['lambda/runtime/delivery/job.ts'],
    tests: ['test/lambda/runtime/delivery-job.test.ts'],
  },
  config: {
    mutate: ['lambda/runtime/config.ts'],
    tests: ['test/lambda/runtime/config.test.ts'],
  },
  'read-identity': {
    mutate: ['lambda/runtime/read-identity.ts', 'lambda/runtime/websocket-event.ts'],
    tests: ['test/lambda/runtime/read-identity.test.ts', 'test/lambda/runtime/websocket-event.test.ts'],
  },
  'gateway-client': {
    mutate: ['lambda/runtime/gateway-client.ts'],
    tests: ['test/lambda/runtime/gateway-client.test.ts'],
  },
  log: {
    mutate: ['lambda/runtime/log.ts'],
    tests: ['test/lambda/runtime/log.test.ts'],
  },
  'delivery-enqueue': {
    mutate: ['lambda/runtime/delivery/enqueue.ts'],
    tests: ['test/lambda/runtime/delivery-enqueue.test.ts'],
  },
  'delivery-worker': {
    mutate: ['lambda/runtime/delivery/worker.ts'],
    tests: ['test/lambda/runtime/delivery-worker.test.ts'],
  },
  // The small runtime modules the handlers' wiring is built from, each with its own test file.
  'runtime-wiring': {
    mutate: ['lambda/runtime/errors.ts', 'lambda/runtime/dynamo-client.ts', 'lambda/runtime/management-client.ts', 'lambda/runtime/messaging-wiring.ts'],
    tests: [
      'test/lambda/runtime/errors.test.ts', 'test/lambda/runtime/dynamo-client.test.ts',
      'test/lambda/runtime/management-client.test.ts', 'test/lambda/runtime/messaging-wiring.test.ts',
    ],
  },
  // The gateway's own handler logic (lambda/gateway/): frames and subprotocols, the routes, the authorizer.
  'gateway-frames': {
    mutate: ['lambda/gateway/subprotocol.ts', 'lambda/gateway/unroutable.ts'],
    tests: ['test/lambda/gateway/subprotocol.test.ts', 'test/lambda/gateway/unroutable.test.ts'],
  },
  'gateway-routes': {
    mutate: ['lambda/gateway/routes/*.ts'],
    tests: [
      'test/lambda/routes.test.ts', 'test/lambda/gateway/connect-route.test.ts',
      'test/lambda/gateway/disconnect-route.test.ts', 'test/lambda/gateway/default-route.test.ts',
    ],
  },
  'gateway-auth': {
    mutate: ['lambda/gateway/auth/*.ts'],
    tests: ['test/lambda/gateway/authorizer.test.ts', 'test/lambda/gateway/auth-units.test.ts'],
  },
  'delivery-planner': {
    mutate: ['lambda/runtime/delivery/planner.ts'],
    tests: ['test/lambda/runtime/delivery-planner.test.ts'],
  },
};
