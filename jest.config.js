// The AWS SDK warns once per process that its 2027 releases will need Node 22 (this machine runs Node 20,
// the Lambda runtime is nodejs22.x); the notice is known and would repeat in every test worker's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // .ts first: `npm run build` emits .js next to the sources (the CDK library convention).
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] },
  snapshotSerializers: [],
  testTimeout: 60000,
};
