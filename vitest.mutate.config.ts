// The tests `npm run mutate` (stryker.config.mjs) runs against each mutant of the core and the two
// stores: the unit tests, the queue-level suite on memory and on PostgreSQL, the store-level suite
// on memory and on the PostgreSQL server (test/store/postgres.test.ts; the run needs the server,
// without one that file skips and the Postgres store's mutants go uncovered), the Postgres
// adapter's own tests, the instrumentation (middleware, run logs) and isolated handlers. Left out:
// the store suite on PGlite (the same cases again, on the same store code), the client adapters'
// transactions (the adapters are not mutated, and the file runs `prisma generate` from
// <root>/node_modules, which a Stryker sandbox lacks when node_modules is a symlink, as in a git
// worktree), benchmarks, the reliability suites (child processes, soak), the CLI, admin, README and
// package tests, and the isolation test that builds the package.
import { configDefaults, defineConfig } from 'vitest/config'
import base from './vitest.config.js'

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      'test/unit/**/*.test.ts',
      'test/memory/**/*.test.ts',
      'test/store/memory.test.ts',
      'test/store/postgres.test.ts',
      'test/postgres/**/*.test.ts',
      'test/instrumentation/**/*.test.ts',
      'test/isolation/**/*.test.ts',
    ],
    exclude: [
      ...configDefaults.exclude,
      'test/isolation/built-package.test.ts',
      'test/postgres/client-transactions.test.ts',
    ],
  },
})
