/**
 * Migrating with progress: the pending migrations are applied one call at a time (each call is the
 * adapter's own `migrate`, under its advisory lock, limited to the migrations up to the next one),
 * so each applied migration gets its own line with a counter and a duration.
 */
import type pg from 'pg'
import { loadMigrations, migrate, pendingMigrations } from '../adapters/postgres/migrate.js'
import { sqlNames } from '../adapters/postgres/sql-names.js'
import type { Output } from './output.js'

/** Names of the migrations not yet applied in `schema`. */
export async function listPendingMigrations(pool: pg.Pool, schema: string): Promise<string[]> {
  return pendingMigrations(pool, sqlNames(schema), await loadMigrations())
}

/** Applies the pending migrations, printing `[i/n] applied <name> (<ms> ms)` for each; returns the names applied. */
export async function applyMigrations(pool: pg.Pool, schema: string, output: Output): Promise<string[]> {
  const names = sqlNames(schema)
  const all = await loadMigrations()
  const pending = await pendingMigrations(pool, names, all)
  const applied: string[] = []
  for (const [index, name] of pending.entries()) {
    const counter = `[${index + 1}/${pending.length}]`
    if (output.interactive) output.raw(`${counter} applying ${name}...`)
    const started = performance.now()
    const upTo = all.slice(0, all.findIndex((m) => m.name === name) + 1)
    const result = await migrate(pool, names, upTo)
    const ms = Math.round(performance.now() - started)
    const done = result.applied.includes(name)
    if (done) applied.push(name)
    const text = done
      ? `${counter} applied ${name} (${ms} ms)`
      : `${counter} ${name} was applied by another process`
    if (output.interactive) output.raw('\r\x1b[K')
    output.line(text)
  }
  return applied
}
