// The tests of the notification listener alone, for a quick mutation run of
// src/adapters/postgres/notification-listener.ts (`stryker.postgres-listener.config.mjs`): its own
// life-cycle tests and the store's LISTEN/NOTIFY tests. Every store builds a listener, so under
// vitest.mutate-postgres.config.ts each surviving mutant of its constructor costs a run of every test.
import { defineConfig } from 'vitest/config'
import base from './vitest.config.js'

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/postgres/notification-listener.test.ts', 'test/postgres/notifications.test.ts'],
  },
})
