// The tests of the Postgres store's listener and small helpers alone, for quick mutation reruns of
// those files (`stryker.postgres-small.config.mjs`): the listener's life-cycle tests, the store's
// LISTEN/NOTIFY tests, error translation, the helpers, and job transactions. Every store builds a
// listener, names, statements and pools, so under vitest.mutate-postgres.config.ts each surviving
// mutant of that code costs a run of every test; a score here is a lower bound of that config's.
import { defineConfig } from 'vitest/config'
import base from './vitest.config.js'

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      'test/postgres/notification-listener.test.ts',
      'test/postgres/notifications.test.ts',
      'test/postgres/error-translation.test.ts',
      'test/postgres/errors.test.ts',
      'test/postgres/store-helpers.test.ts',
      'test/postgres/job-transaction.test.ts',
    ],
  },
})
