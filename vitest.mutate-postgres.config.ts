// The tests `stryker.postgres.config.mjs` runs against each mutant of the Postgres store: the
// store-level suite on the PostgreSQL server (test/store/postgres.test.ts; the run needs the server,
// without one that file skips and every mutant goes uncovered) and the Postgres adapter's own tests
// of claiming, completing, rescuing and inserting (plans, locking, cursors, notifications, history,
// the completer's faults). Left out: the queue-level suite on PostgreSQL (test/postgres/conformance,
// about 50 s for each mutant it covers, which is most of the claim's and the completion's), and the
// suites with child processes; `npm run mutate` runs those. Added for the admin, update and schedule
// files (nothing removed): the adapter's tests of updateJob under a racing claim, of schedule ticks
// raced by several processes, of the getJobsByKey plans, and of errors (a connection that breaks
// mid-transaction, which fireScheduleTick must discard). Added for the insert statements, the claim
// cursor and the jobs notification (nothing removed): the cursor's and the notification payload's
// unit tests, and the adapter's tests of inserting inside a caller's transaction. Added for row
// mapping, migrations, the listener, storage health and the helpers (nothing removed): the adapter's
// tests of migrations (migrate, migration 009 under load), of storage health, and of job transactions.
// Added for the narrow tables of migration 011 (nothing removed): migration 011 under load and the
// narrow-table repair pass.
import { defineConfig } from 'vitest/config'
import base from './vitest.config.js'

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      'test/store/postgres.test.ts',
      'test/postgres/claim*.test.ts',
      'test/postgres/complete-plan.test.ts',
      'test/postgres/completer-faults.test.ts',
      'test/postgres/concurrency.test.ts',
      'test/postgres/errors.test.ts',
      'test/postgres/history.test.ts',
      'test/postgres/hot-path.test.ts',
      'test/postgres/insert.test.ts',
      'test/postgres/job-transaction.test.ts',
      'test/postgres/jobs-by-key-plan.test.ts',
      'test/postgres/migrate-history.test.ts',
      'test/postgres/migrate-ready.test.ts',
      'test/postgres/migrate.test.ts',
      'test/postgres/narrow-tables.test.ts',
      'test/postgres/notifications.test.ts',
      'test/postgres/outcome-events.test.ts',
      'test/postgres/rescue.test.ts',
      'test/postgres/schedules.test.ts',
      'test/postgres/storage-health.test.ts',
      'test/postgres/transactional.test.ts',
      'test/postgres/update-job.test.ts',
      'test/unit/claim-cursors.test.ts',
      'test/unit/jobs-notification.test.ts',
    ],
  },
})
