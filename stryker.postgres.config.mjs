// A mutation run of the Postgres store for the shared machine (`npm run mutate:postgres`): its files
// (`postgresStoreFiles`), against the store-level suite on the PostgreSQL server and the adapter's
// own claim, completion, rescue and insert tests (vitest.mutate-postgres.config.ts), not the
// queue-level suite. Needs the server (127.0.0.1:5432 or DATABASE_URL). Narrow it to the files you
// are working on: `npm run mutate:postgres -- --mutate src/adapters/postgres/complete.ts`.
import base, { postgresStoreFiles } from './stryker.config.mjs'

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  mutate: postgresStoreFiles,
  vitest: { configFile: 'vitest.mutate-postgres.config.ts', related: false },
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/postgres-store.html' },
  jsonReporter: { fileName: 'reports/mutation/postgres-store.json' },
}
