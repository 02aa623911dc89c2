/** Running a command's work on a queue that is not started (no workers): open, use, close. */
import type { PostgresQueue } from '../adapters/postgres/index.js'
import type { FlagValues } from './args.js'
import type { CommandContext } from './command.js'
import type { OpenDatabase } from './database.js'
import { databaseSettings } from './database-settings.js'

/** Opens the database the flags choose, runs `work` with a queue on it, then closes both. */
export async function withQueue<T>(
  values: FlagValues,
  context: CommandContext,
  command: string,
  work: (queue: PostgresQueue, db: OpenDatabase) => Promise<T>,
): Promise<T> {
  const settings = databaseSettings(values, context.env, command)
  // Loaded here, so that help and usage errors never load the database driver.
  const [{ createPostgresQueue }, { openDatabase }] = await Promise.all([
    import('../adapters/postgres/index.js'),
    import('./database.js'),
  ])
  const db = await openDatabase(settings, 2)
  context.useTarget(db.target)
  const queue = createPostgresQueue({ pool: db.pool, schema: db.target.schema })
  try {
    return await work(queue, db)
  } finally {
    await queue.shutdown().catch(() => {})
    await db.close()
  }
}
