// Quick mutation reruns of the Postgres store's listener and small helpers against their own tests
// only (vitest.mutate-postgres-small.config.ts): `npx stryker run stryker.postgres-small.config.mjs`.
import postgres from './stryker.postgres.config.mjs'

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...postgres,
  mutate: [
    'src/adapters/postgres/notification-listener.ts',
    'src/adapters/postgres/errors.ts',
    'src/adapters/postgres/claim-pool.ts',
    'src/adapters/postgres/store-options.ts',
    'src/adapters/postgres/queryable.ts',
    'src/adapters/postgres/sql-names.ts',
    'src/adapters/postgres/schema-name.ts',
    'src/adapters/postgres/job-transaction.ts',
  ],
  vitest: { configFile: 'vitest.mutate-postgres-small.config.ts', related: false },
  htmlReporter: { fileName: 'reports/mutation/postgres-small.html' },
  jsonReporter: { fileName: 'reports/mutation/postgres-small.json' },
}
