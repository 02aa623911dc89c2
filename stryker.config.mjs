// Mutation testing (`npm run mutate`, not part of `npm test`): mutates the core and both adapters'
// stores and runs the tests that cover each mutant (vitest.mutate.config.ts: the suites of the
// core and the stores, with the store suite on the PostgreSQL server). The machine is shared: one
// test process at a time. Narrow a run with
// `npm run mutate -- --mutate src/adapters/memory/job-table.ts`.

/** The memory store: every file of the memory adapter but its entry point and the test assertions. */
export const memoryStoreFiles = [
  'src/adapters/memory/**/*.ts',
  '!src/adapters/memory/index.ts',
  '!src/adapters/memory/assertion*.ts',
  '!src/adapters/memory/deep-partial.ts',
]

/**
 * The Postgres store: `postgres-store.ts` and the files it is made of (claim, complete, insert,
 * admin, rescue, schedules, migrations, ...); not the queue factory, the client adapters, the
 * PGlite pool, the ambient transaction or the database clock.
 */
export const postgresStoreFiles = [
  'src/adapters/postgres/**/*.ts',
  '!src/adapters/postgres/index.ts',
  '!src/adapters/postgres/clients/**',
  '!src/adapters/postgres/pglite-pool.ts',
  '!src/adapters/postgres/ambient-transaction.ts',
  '!src/adapters/postgres/database-clock.ts',
]

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.mutate.config.ts', related: true },
  mutate: ['src/core/**/*.ts', ...memoryStoreFiles, ...postgresStoreFiles],
  coverageAnalysis: 'perTest',
  concurrency: 1,
  timeoutMS: 20_000,
  reporters: ['clear-text', 'progress', 'html'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
}
