/**
 * The schema name: validated once, quoted in exactly one place. Every SQL text that names a table
 * goes through `quoteIdentifier`; values are always bound parameters.
 */
import { InvalidArgumentError } from '../../core/domain/errors.js'

/** The schema Conveyor uses when none is given. */
export const DEFAULT_SCHEMA = 'conveyor'

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

/** Checks a schema name (lowercase letters, digits and `_`, at most 63 characters) and returns it. */
export function validateSchemaName(name: unknown): string {
  if (typeof name !== 'string' || !SCHEMA_NAME.test(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name) : String(name)
    throw new InvalidArgumentError(
      `Invalid schema name ${shown}: use 1-63 lowercase letters, digits and '_', starting with a letter or '_' (for example 'conveyor').`,
    )
  }
  return name
}

/** Quotes an SQL identifier (the only place identifiers are put into SQL text). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** A 32-bit advisory-lock space for one purpose in one schema, so schemas never block each other. */
export function lockSpace(schema: string, purpose: string): number {
  // FNV-1a over the UTF-16 code units; stable across processes and versions.
  let hash = 0x811c9dc5
  for (const char of `conveyor:${schema}:${purpose}`) {
    hash ^= char.charCodeAt(0)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash | 0
}
