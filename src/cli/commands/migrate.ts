/** `conveyor migrate`: applies Conveyor's pending migrations, or lists them with `--dry-run`. */
import { booleanFlag } from '../args.js'
import type { Command } from '../command.js'
import { DATABASE_OPTIONS, databaseSettings } from '../database-settings.js'

/** The `migrate` command. */
export const migrateCommand: Command = {
  name: 'migrate',
  summary: "apply Conveyor's database migrations (--dry-run lists them)",
  details: [
    'Creates the schema and applies every missing migration, each in its own transaction, under an\n' +
      'advisory lock: safe when several deploys run it at once. Run it once per deploy, before workers start.',
  ],
  options: {
    'dry-run': { type: 'boolean', description: 'list the pending migrations without applying them' },
    ...DATABASE_OPTIONS,
  },
  examples: [
    'conveyor migrate --dry-run',
    'DATABASE_URL=postgres://app@db:5432/app conveyor migrate --schema jobs',
  ],
  async run(values, { env, output, useTarget }) {
    const settings = databaseSettings(values, env, 'migrate')
    // Loaded here, so that help and usage errors never load the database driver.
    const [{ openDatabase }, { applyMigrations, listPendingMigrations }] = await Promise.all([
      import('../database.js'),
      import('../migrations.js'),
    ])
    const db = await openDatabase(settings, 1)
    useTarget(db.target)
    try {
      const schema = db.target.schema
      output.line(`Database: ${db.description}, schema "${schema}"`)
      if (booleanFlag(values, 'dry-run')) {
        const pending = await listPendingMigrations(db.pool, schema)
        if (pending.length === 0) output.line('Up to date: no pending migrations.')
        else {
          output.line(
            `${pending.length} pending migration${pending.length === 1 ? '' : 's'} (dry run, nothing applied):`,
          )
          for (const name of pending) output.line(`  ${name}`)
        }
        return 0
      }
      const applied = await applyMigrations(db.pool, schema, output)
      output.line(
        applied.length === 0
          ? 'Up to date: no pending migrations.'
          : `Done: applied ${applied.length} migration${applied.length === 1 ? '' : 's'}.`,
      )
      return 0
    } finally {
      await db.close()
    }
  },
}
