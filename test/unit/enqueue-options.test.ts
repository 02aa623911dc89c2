/**
 * Enqueue options (src/core/domain/enqueue-options.ts): the checks at their edges, each refused with
 * `InvalidOptionsError` (the `InvalidArgumentError` behind it kept as the cause), and the row built
 * from a definition and the options.
 */
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import {
  backoffFunctionOf,
  resolveNewJob,
  validateEnqueueOptions,
} from '../../src/core/domain/enqueue-options.js'
import { InvalidOptionsError, StorageUnavailableError } from '../../src/core/domain/errors.js'
import { defineJob } from '../../src/core/domain/job-definition.js'

const refuses = (options: unknown, message: string) => {
  expect(() => validateEnqueueOptions(options)).toThrow(InvalidOptionsError)
  expect(() => validateEnqueueOptions(options)).toThrow(message)
}

describe('validateEnqueueOptions', () => {
  it.each([
    ['null', null],
    ['a string', 'default'],
    ['an array', []],
  ])('refuses %s as the options', (_name, options) => {
    refuses(options, 'Enqueue options must be an object')
  })

  it('refuses a connection pool as tx: a job inserted through it would commit on its own', async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/unused' })
    try {
      refuses(
        { tx: pool },
        "tx is a connection pool (such as a pg.Pool), not a client inside an open transaction: the job would be committed on its own, whatever happens to your transaction. Pass the client of your open transaction (const client = await pool.connect(), then client.query('BEGIN')",
      )
    } finally {
      await pool.end()
    }
  })

  it('keeps the InvalidArgumentError of a field as the cause', () => {
    const error = catchError(() => validateEnqueueOptions({ priority: 1.5 }))
    expect(error).toBeInstanceOf(InvalidOptionsError)
    expect((error as Error).cause).toMatchObject({ code: 'INVALID_ARGUMENT' })
  })

  it('turns an InvalidPayloadError of metadata or state into InvalidOptionsError', () => {
    refuses({ metadata: { at: new Date(0) } }, 'metadata.at is a Date instance')
    refuses({ state: { n: Number.NaN } }, 'state.n is NaN')
    const error = catchError(() => validateEnqueueOptions({ state: { n: Number.NaN } }))
    expect((error as Error).cause).toMatchObject({ code: 'INVALID_PAYLOAD' })
  })

  it('turns an option that throws when read into InvalidOptionsError', () => {
    const options = {
      get priority(): never {
        throw new Error('getter failed')
      },
    }
    refuses(options, 'Enqueue options could not be read: Error: getter failed.')
    const error = catchError(() => validateEnqueueOptions(options))
    expect((error as Error).cause).toMatchObject({ message: 'getter failed' })
  })

  it('passes on a ConveyorError thrown while an option is read', () => {
    const typed = new StorageUnavailableError('down')
    const options = {
      get priority(): never {
        throw typed
      },
    }
    expect(catchError(() => validateEnqueueOptions(options))).toBe(typed)
  })

  it.each([
    ['delayMs as a string', { delayMs: '5' }, 'delayMs must be a number'],
    ['delayMs Infinity', { delayMs: Number.POSITIVE_INFINITY }, 'delayMs must be a number'],
    ['delayMs below 0', { delayMs: -1 }, 'delayMs must be a number'],
    ['delayMs past 1000 years', { delayMs: 31_557_600_000_001 }, 'delayMs must be a number'],
    [
      'dependsOn a number',
      { dependsOn: 5 },
      'dependsOn must be a job id or an array of job ids (strings, as returned by enqueue); got number 5.',
    ],
    ['dependsOn a bad id', { dependsOn: '0' }, 'dependsOn must be a job id'],
    ['dependsOn a bad id in an array', { dependsOn: ['1', 'x'] }, '; dependsOn[1] is "x".'],
    ['dependsOn a number in an array', { dependsOn: ['1', 2] }, '; dependsOn[1] is number 2.'],
    [
      'dependsOn [1]',
      { dependsOn: [1] },
      'dependsOn must be a job id or an array of job ids (strings, as returned by enqueue); dependsOn[0] is number 1.',
    ],
    ['metadata null', { metadata: null }, 'metadata must be a plain object'],
    ['metadata a string', { metadata: 'x' }, 'metadata must be a plain object'],
    ['metadata an array', { metadata: [] }, 'metadata must be a plain object'],
    ['tags a string', { tags: 'a' }, 'tags must be an array'],
    ['an empty tag', { tags: [''] }, 'tags[0] is ""'],
    ['a tag of 129 characters', { tags: ['x'.repeat(129)] }, 'tags must be an array'],
    ['a tag that is a number', { tags: ['a', 1] }, 'lone surrogates); tags[1] is number 1.'],
    ['a tag with \\u0000', { tags: ['a\u0000'] }, 'tags must be an array'],
    [
      'backoff as a function',
      { backoff: () => 1 },
      'backoff as a function can only be set on the job definition',
    ],
    ['tx null', { tx: null }, 'tx must be a client inside an open transaction'],
    ['tx a string', { tx: 'tx' }, 'tx must be a client inside an open transaction'],
    ['tx without query', { tx: {} }, 'tx must be a client inside an open transaction'],
    ['groupMode without groupKey', { groupMode: 'fifo' }, 'groupMode applies to jobs of a group'],
    ['runAt and delayMs', { runAt: 0, delayMs: 0 }, 'Give either runAt or delayMs, not both.'],
  ])('refuses %s', (_name, options, message) => {
    refuses(options, message)
  })

  it.each([
    ['delayMs of 1000 years', { delayMs: 31_557_600_000_000 }],
    ['delayMs 0', { delayMs: 0 }],
    ['dependsOn one id', { dependsOn: '12' }],
    ['dependsOn ids', { dependsOn: ['1', '2'] }],
    ['a tag of 128 characters', { tags: ['x'.repeat(128)] }],
    ['metadata', { metadata: { a: 1 } }],
    ['a backoff policy', { backoff: { baseMs: 5 } }],
    ['tx with query', { tx: { query: async () => ({ rows: [] }) } }],
  ])('accepts %s', (_name, options) => {
    expect(validateEnqueueOptions(options)).toBe(options)
  })
})

describe('resolveNewJob', () => {
  const now = 1_000

  it('takes groupLockTimeoutMs from the options, else the definition, and only for a group', () => {
    const def = defineJob({ kind: 'a', groupLockTimeoutMs: 7_000 })
    expect(resolveNewJob(def, null, { groupKey: 'g' }, now).groupLockTimeoutMs).toBe(7_000)
    expect(
      resolveNewJob(def, null, { groupKey: 'g', groupLockTimeoutMs: 9_000 }, now).groupLockTimeoutMs,
    ).toBe(9_000)
    expect(resolveNewJob(def, null, {}, now).groupLockTimeoutMs).toBeNull()
    expect(
      resolveNewJob(defineJob({ kind: 'a' }), null, { groupKey: 'g' }, now).groupLockTimeoutMs,
    ).toBeNull()
  })

  it('refuses a group lock timeout shorter than the timeout, with the cause', () => {
    const def = defineJob({ kind: 'a', timeoutMs: 5_000 })
    const error = catchError(() =>
      resolveNewJob(def, null, { groupKey: 'g', groupLockTimeoutMs: 4_000 }, now),
    )
    expect(error).toBeInstanceOf(InvalidOptionsError)
    expect((error as Error).message).toContain('groupLockTimeoutMs (4000 ms) is shorter')
    expect((error as Error).cause).toMatchObject({ code: 'INVALID_ARGUMENT' })
  })

  it('keeps the trace context given, else null', () => {
    const def = defineJob({ kind: 'a' })
    expect(resolveNewJob(def, null, {}, now, { traceContext: { traceparent: 'x' } }).traceContext).toEqual({
      traceparent: 'x',
    })
    expect(resolveNewJob(def, null, {}, now).traceContext).toBeNull()
  })
})

describe('backoffFunctionOf', () => {
  it('gives the definition backoff function, and nothing for a policy or no definition', () => {
    const fn = () => 5
    expect(backoffFunctionOf(defineJob({ kind: 'a', backoff: fn }))).toBe(fn)
    expect(backoffFunctionOf(defineJob({ kind: 'a', backoff: { baseMs: 5 } }))).toBeUndefined()
    expect(backoffFunctionOf(undefined)).toBeUndefined()
  })
})

function catchError(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}
