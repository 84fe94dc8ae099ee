/** Native ESM jest: TypeScript is stripped by swc, type-checking is `npm run typecheck`. */
export default {
  testEnvironment: '<rootDir>/test/helpers/jest-environment.cjs',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 60000,
};
