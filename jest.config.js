/** Unit and template tests run anywhere; the e2e project needs the emulator (scripts/emulator). */
const transform = { '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] };
const common = {
  testEnvironment: 'node',
  transform,
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean'],
};
module.exports = {
  // testTimeout is a global option (ignored inside a project). A whole e2e workflow, the inventory
  // of every emulated region included, takes seconds on a busy 2-core machine.
  testTimeout: 60_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'template', testMatch: ['<rootDir>/test/template/**/*.test.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/test/e2e/global-setup.ts',
    },
  ],
};
