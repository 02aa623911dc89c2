// A mutation run of the Postgres store's files that nearly every test goes through
// (`npm run mutate:postgres-narrow`): the claim cursor, the jobs notification, row mapping, the
// history SQL and migrations, against the narrower test set of vitest.mutate-postgres-narrow.config.ts
// (the store suite on the server and the adapter's claim, cursor, notification, migration and
// history tests). Needs the server (127.0.0.1:5432 or DATABASE_URL). Narrow it further with
// `npm run mutate:postgres-narrow -- --mutate src/adapters/postgres/row-mapping.ts`.
import base from './stryker.config.mjs'

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  mutate: [
    'src/adapters/postgres/claim-cursor.ts',
    'src/adapters/postgres/jobs-notification.ts',
    'src/adapters/postgres/row-mapping.ts',
    'src/adapters/postgres/history-sql.ts',
    'src/adapters/postgres/migrate.ts',
  ],
  vitest: { configFile: 'vitest.mutate-postgres-narrow.config.ts', related: false },
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/postgres-narrow.html' },
  jsonReporter: { fileName: 'reports/mutation/postgres-narrow.json' },
}
