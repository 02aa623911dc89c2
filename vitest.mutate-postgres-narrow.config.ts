// The tests `stryker.postgres-narrow.config.mjs` runs against each mutant of the Postgres store files
// that nearly every test goes through (the claim cursor, the jobs notification, row mapping, the
// history SQL, migrations): with vitest.mutate-postgres.config.ts a surviving mutant of those costs
// a run of all its tests (about a minute); with these, about 25 s. The store-level suite on the
// PostgreSQL server (it maps every field of a job and a schedule and claims with and without the
// cursor), the adapter's claim, cursor and notification tests, its migration and history tests, and
// the cursor's and the notification payload's unit tests.
import { defineConfig } from 'vitest/config'
import base from './vitest.config.js'

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      'test/store/postgres.test.ts',
      'test/postgres/claim*.test.ts',
      'test/postgres/history.test.ts',
      'test/postgres/migrate*.test.ts',
      'test/postgres/notifications.test.ts',
      'test/unit/claim-cursors.test.ts',
      'test/unit/jobs-notification.test.ts',
    ],
  },
})
