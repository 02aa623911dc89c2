/**
 * How connection failures are explained (`explainError`), for the causes a test server cannot
 * produce on demand: a wrong password, a connect timeout, a server starting up. The errors are
 * built in the shapes `pg` and Node give them, wrapped as the adapter wraps them.
 */
import { describe, expect, it } from 'vitest'
import { explainError } from '../../src/cli/errors.js'
import { StorageUnavailableError } from '../../src/core/domain/errors.js'

const target = { where: 'db.example:5432', schema: 'conveyor', flags: '', database: 'app', user: 'ops' }

/** The adapter's error around a driver error with `code` and `message`. */
function unavailable(message: string, code?: string): StorageUnavailableError {
  const cause = Object.assign(new Error(message), code === undefined ? {} : { code })
  return new StorageUnavailableError(`PostgreSQL is unavailable while reading stats: ${message}.`, { cause })
}

describe('explainError for connection failures', () => {
  it('asks whether the server runs only when nothing answered', () => {
    for (const error of [
      unavailable('connect ECONNREFUSED 10.0.0.1:5432', 'ECONNREFUSED'),
      unavailable('getaddrinfo ENOTFOUND db.example', 'ENOTFOUND'),
      unavailable('connect ETIMEDOUT 10.0.0.1:5432', 'ETIMEDOUT'),
      unavailable('timeout exceeded when trying to connect'),
      new StorageUnavailableError('wrapped', {
        cause: new AggregateError([
          Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' }),
        ]),
      }),
    ]) {
      const { message, exitCode } = explainError(error, target)
      expect(exitCode).toBe(1)
      expect(message).toMatch(/^conveyor: cannot reach PostgreSQL at db\.example:5432: /)
      expect(message).toContain('Is the server running?')
    }
  })

  it('says to check the user for a wrong password', () => {
    const error = unavailable('password authentication failed for user "ops"', '28P01')
    const { message, exitCode } = explainError(error, target)
    expect(exitCode).toBe(1)
    expect(message).toContain('refused the user "ops" (password authentication failed for user "ops")')
    expect(message).toContain('check the user name and password')
    expect(message).not.toContain('Is the server running?')
  })

  it('says to create a missing database', () => {
    const { message } = explainError(unavailable('database "app" does not exist', '3D000'), target)
    expect(message).toContain('database "app" does not exist on the PostgreSQL server at db.example:5432')
    expect(message).toContain('create it (createdb app')
    expect(message).not.toContain('Is the server running?')
  })

  it('names other unavailability as it is, without guessing that the server is down', () => {
    const error = unavailable('the database system is starting up', '57P03')
    const { message } = explainError(error, target)
    expect(message).toBe(
      'conveyor: PostgreSQL at db.example:5432 is unavailable: the database system is starting up. Try again once it accepts connections.',
    )
  })
})
