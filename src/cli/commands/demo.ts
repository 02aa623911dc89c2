/**
 * `conveyor demo`: workers processing example jobs, with the admin page, in one command. Without a
 * database configured it runs on an embedded PostgreSQL kept in `.demo-data/`, so a restart shows
 * the jobs of the previous run.
 */

import { DEFAULT_SCHEMA } from '../../adapters/postgres/schema-name.js'
import { ADMIN_OPTIONS, adminCredentials, isLoopback } from '../admin-options.js'
import { integerFlag, portFlag, stringFlag } from '../args.js'
import type { Command } from '../command.js'
import { DATABASE_OPTIONS, databaseSettings, PGLITE_INSTALL } from '../database-settings.js'
import { CLEAN_UP_SCHEDULE } from '../demo/jobs.js'
import { FASTIFY_INSTALL, isMissingPackage, withFastify } from '../optional-packages.js'

/** Where the embedded database of the demo lives unless `--data-dir` says otherwise. */
export const DEMO_DATA_DIR = '.demo-data'

/** The demo's schema on a PostgreSQL server, away from the application's `conveyor` schema. */
export const DEMO_SERVER_SCHEMA = 'conveyor_demo'

/** The `demo` command. */
export const demoCommand: Command = {
  name: 'demo',
  summary: 'run workers on example jobs and serve the admin page (embedded PostgreSQL by default)',
  details: [
    `Without DATABASE_URL or --database-url, the demo starts an embedded PostgreSQL (PGlite) stored in\n` +
      `${DEMO_DATA_DIR}/, so a restart shows the same jobs; in an application, install it first:\n` +
      `${PGLITE_INSTALL}. It serves the admin page with fastify (in an application, install it\n` +
      `first: ${FASTIFY_INSTALL}). On a server it uses the schema ${DEMO_SERVER_SCHEMA}.\n` +
      `It migrates, enqueues a first batch of jobs, keeps enqueueing a few every second, runs workers for\n` +
      `four kinds (quick emails, a flaky webhook that retries, slow reports, a clean-up scheduled\n` +
      `${CLEAN_UP_SCHEDULE}), and serves the admin page. On localhost the page needs no sign-in.\n` +
      'Ctrl-C stops it gracefully.',
  ],
  options: {
    ...ADMIN_OPTIONS,
    seed: {
      type: 'string',
      value: '<n>',
      description: 'jobs to enqueue when the database has none yet (default: 100)',
    },
    rate: {
      type: 'string',
      value: '<n>',
      description: 'jobs to enqueue per second while running (default: 2; 0 for none)',
    },
    ...DATABASE_OPTIONS,
    schema: {
      ...DATABASE_OPTIONS.schema!,
      description: `schema of Conveyor's tables (default: ${DEMO_SERVER_SCHEMA} on a server, ${DEFAULT_SCHEMA} embedded)`,
    },
  },
  examples: [
    'npm run demo',
    'conveyor demo --port 8080 --seed 5000',
    'DATABASE_URL=postgres://localhost/app conveyor demo',
  ],
  async run(values, context) {
    const host = stringFlag(values, 'host') ?? 'localhost'
    const wantsSignIn =
      stringFlag(values, 'password') ?? stringFlag(values, 'user') ?? context.env.adminPassword
    const chosen = databaseSettings(values, context.env, 'demo', { embeddedDir: DEMO_DATA_DIR })
    const options = {
      host,
      port: portFlag(values, 'port', 3000, 'demo'),
      seed: integerFlag(values, 'seed', { fallback: 100, min: 0, max: 1_000_000 }, 'demo'),
      rate: integerFlag(values, 'rate', { fallback: 2, min: 0, max: 1000 }, 'demo'),
      // Open on localhost, so that the one command shows the page; anywhere else it needs a password.
      credentials:
        isLoopback(host) && wantsSignIn === undefined ? null : adminCredentials(values, context.env, 'demo'),
      database:
        chosen.kind === 'server' && stringFlag(values, 'schema') === undefined
          ? { ...chosen, schema: DEMO_SERVER_SCHEMA }
          : chosen,
    }
    // The embedded database also needs PGlite: one message names both installs when both are missing.
    const pgliteMissing =
      options.database.kind !== 'server' &&
      (await import('@electric-sql/pglite').then(
        () => false,
        (error: unknown) => isMissingPackage(error, '@electric-sql/pglite'),
      ))
    const { runDemo } = await withFastify(
      'demo',
      () => import('../demo/run-demo.js'),
      pgliteMissing ? `, and \`${PGLITE_INSTALL}\` for the embedded PostgreSQL (or set DATABASE_URL)` : '',
    )
    return runDemo(options, context)
  },
}
