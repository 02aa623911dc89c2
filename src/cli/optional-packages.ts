/**
 * The optional peer packages some commands load only when they run: fastify for the admin page
 * (`admin`, `demo`), @electric-sql/pglite for the embedded PostgreSQL. A missing one is reported as
 * one line with the command that installs it, not as a module-resolution stack trace.
 */
import { CliError } from './errors.js'

/** The fastify versions the admin page works with (package.json's peer range), and its install. */
export const FASTIFY_RANGE = '^5.0.0'
export const FASTIFY_INSTALL = 'npm install fastify@5'

/** True when `error` says that package `name` could not be found (ESM or CommonJS loader). */
export function isMissingPackage(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false
  return typeof message === 'string' && (message.includes(`'${name}'`) || message.includes(`"${name}"`))
}

/**
 * Runs `load` (a dynamic import of code that imports fastify); a missing fastify becomes a
 * `CliError` naming `command` and the install, with `more` appended (another missing package).
 */
export async function withFastify<T>(command: string, load: () => Promise<T>, more = ''): Promise<T> {
  try {
    return await load()
  } catch (error) {
    if (!isMissingPackage(error, 'fastify')) throw error
    throw new CliError(
      `conveyor ${command} serves the admin page with fastify (${FASTIFY_RANGE}), a peer dependency of conveyor-jobs that is not installed: run \`${FASTIFY_INSTALL}\`${more}`,
      { cause: error },
    )
  }
}
