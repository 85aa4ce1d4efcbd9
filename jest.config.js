// Three projects so CI can run the fast ones first and a developer can pick one:
//   unit        pure domain code, no services
//   integration real Kafka, Redis, SQLite and moto (started by scripts/stack.sh; run --runInBand)
//   infra       CDK synth + assertions + cdk-nag, no AWS account
// ESM throughout because @platformatic/kafka and @middy/core ship only ESM;
// scripts/dev.sh runs jest with --experimental-vm-modules.
const transform = {
  '^.+\\.(t|j)sx?$': ['@swc/jest', {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  }],
};
const common = {
  transform,
  extensionsToTreatAsEsm: ['.ts'],
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json', 'mjs'],
};
export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    { ...common, displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
  ],
};
