/**
 * Why a PostgreSQL server could not be used, in words that say what to do: a server that does not
 * answer (is it running?), a database that does not exist (create it), or a user the server refuses
 * (check the user and password). Each cause gets its own message; only the first asks whether the
 * server is running.
 */
import type { DatabaseTarget } from './errors.js'

/** Socket codes and driver messages meaning that nothing answered at the address. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
])
const UNREACHABLE_MESSAGES = ['timeout exceeded when trying to connect', 'connection timeout']

/** SQLSTATEs of a refused login: invalid_authorization_specification, invalid_password. */
const AUTH_CODES = new Set(['28000', '28P01'])

/** The message for a connection failure whose driver error is somewhere in `error`'s causes. */
export function explainConnectionFailure(error: Error, target: DatabaseTarget | undefined): string {
  const cause = rootCause(error)
  const code = (cause as { code?: unknown } | null)?.code
  const detail =
    (cause instanceof Error ? cause.message : '') || (typeof code === 'string' ? code : error.message)
  const where = target?.where ?? 'the configured address'
  const setting = 'DATABASE_URL or --database-url'
  if (code === '3D000') {
    const name = target?.database ?? /database "([^"]+)"/.exec(detail)?.[1] ?? '<name>'
    return (
      `conveyor: database "${name}" does not exist on the PostgreSQL server at ${where}: ` +
      `create it (createdb ${name}, or CREATE DATABASE ${name}; in psql) or set ${setting} to an existing database.`
    )
  }
  if ((typeof code === 'string' && AUTH_CODES.has(code)) || detail.startsWith('SASL')) {
    const user = target?.user ?? /role "([^"]+)"/.exec(detail)?.[1]
    return (
      `conveyor: PostgreSQL at ${where} refused the user${user ? ` "${user}"` : ''} (${detail}): ` +
      `check the user name and password in ${setting}, that the role exists and may log in ` +
      `(CREATE ROLE ${user ?? '<user>'} LOGIN PASSWORD '...'), and the server's pg_hba.conf for this host.`
    )
  }
  const unreachable =
    (typeof code === 'string' && UNREACHABLE_CODES.has(code)) ||
    UNREACHABLE_MESSAGES.some((m) => detail.includes(m))
  if (unreachable) {
    return `conveyor: cannot reach PostgreSQL at ${where}: ${detail}.\nIs the server running? Set ${setting} to the database to use.`
  }
  return `conveyor: PostgreSQL at ${where} is unavailable: ${detail}. Try again once it accepts connections.`
}

/** The driver's own error under the Conveyor errors that wrap it (the first of an `AggregateError`). */
function rootCause(error: Error): unknown {
  let cause: unknown = error
  for (let depth = 0; depth < 10; depth++) {
    if (cause instanceof AggregateError && cause.errors.length > 0) cause = cause.errors[0]
    else if (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause
    else break
  }
  return cause
}
