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
};
