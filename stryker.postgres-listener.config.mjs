// A quick mutation run of the Postgres store's notification listener against its own tests only
// (vitest.mutate-listener.config.ts): `npx stryker run stryker.postgres-listener.config.mjs`.
import postgres from './stryker.postgres.config.mjs'

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...postgres,
  mutate: ['src/adapters/postgres/notification-listener.ts'],
  vitest: { configFile: 'vitest.mutate-listener.config.ts', related: false },
  htmlReporter: { fileName: 'reports/mutation/postgres-listener.html' },
  jsonReporter: { fileName: 'reports/mutation/postgres-listener.json' },
}
