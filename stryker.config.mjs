// Mutation testing (`npm run mutate`, not part of `npm test`): mutates the core and both adapters'
// stores and runs the tests that cover each mutant. The machine is shared: one test process at a
// time. Narrow a run with `npm run mutate -- --mutate src/adapters/memory/memory-store.ts`.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.config.ts', related: true },
  mutate: [
    'src/core/**/*.ts',
    'src/adapters/memory/memory-store.ts',
    'src/adapters/memory/job-admin.ts',
    'src/adapters/memory/process-liveness.ts',
    'src/adapters/postgres/postgres-store.ts',
  ],
  coverageAnalysis: 'perTest',
  concurrency: 1,
  timeoutMS: 20_000,
  reporters: ['clear-text', 'progress', 'html'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
}
