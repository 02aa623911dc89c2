/** `conveyor admin`: serves the admin page (queues, jobs, schedules, actions) behind basic authentication. */

import { ADMIN_OPTIONS, adminCredentials, apiTokens } from '../admin-options.js'
import { booleanFlag, portFlag, stringFlag } from '../args.js'
import type { Command } from '../command.js'
import { DATABASE_OPTIONS } from '../database-settings.js'
import { withFastify } from '../optional-packages.js'
import { withQueue } from '../queue-session.js'

/** The `admin` command. */
export const adminCommand: Command = {
  name: 'admin',
  summary: 'serve the admin page for a database (basic authentication)',
  details: [
    'Serves the pages to watch queues and jobs and to retry, cancel or delete them. Every request needs\n' +
      'the user name and password; prefer CONVEYOR_ADMIN_PASSWORD to --password, which other users can\n' +
      'see in the process list. Runs until Ctrl-C.',
    'The command line has no job definitions of your application, so here the JSON API cannot enqueue\n' +
      'jobs, put schedules or change payloads (422 UNKNOWN_JOB_KIND); for that, mount adminPlugin in your\n' +
      'application with its `jobs` option. Every other action works.',
  ],
  options: {
    ...ADMIN_OPTIONS,
    'read-only': {
      type: 'boolean',
      description: 'hide and refuse every action (retry, cancel, delete, pause)',
    },
    ...DATABASE_OPTIONS,
  },
  examples: [
    'CONVEYOR_ADMIN_PASSWORD=s3cret-pass conveyor admin --port 8080',
    'conveyor admin --read-only --host 0.0.0.0 --user ops',
    'CONVEYOR_API_TOKENS=$(openssl rand -hex 32) conveyor admin   # bearer token for the JSON API',
  ],
  run: (values, context) => {
    const port = portFlag(values, 'port', 3000, 'admin')
    const host = stringFlag(values, 'host') ?? 'localhost'
    const credentials = adminCredentials(values, context.env, 'admin')
    const tokens = apiTokens(context.env, 'admin')
    return withQueue(values, context, 'admin', async (queue, db) => {
      await queue.stats() // fails now, with a clear message, on an unreachable or unmigrated database
      const { serveAdmin } = await withFastify('admin', () => import('../admin-server.js'))
      const admin = await serveAdmin({
        queue,
        host,
        port,
        credentials,
        readOnly: booleanFlag(values, 'read-only'),
        apiTokens: tokens,
      })
      const { output } = context
      output.line(`Database: ${db.description}, schema "${db.target.schema}"`)
      output.line(`Admin page: ${admin.url}`)
      output.line(
        credentials.generated
          ? `Sign in as "${credentials.username}" with the password ${credentials.password} (made up for this run; set CONVEYOR_ADMIN_PASSWORD to choose one)`
          : `Sign in as "${credentials.username}".`,
      )
      output.line(
        tokens === undefined
          ? `JSON API: ${admin.url}api/v1/openapi.json (sign in as above, or set CONVEYOR_API_TOKENS for machine clients)`
          : `JSON API: ${tokens.length} bearer token${tokens.length === 1 ? '' : 's'} from CONVEYOR_API_TOKENS; document at ${admin.url}api/v1/openapi.json`,
      )
      output.line('Press Ctrl-C to stop.')
      const signal = await context.untilStopped()
      output.line(`Received ${signal}, stopping.`)
      await admin.close()
      return 0
    })
  },
}
