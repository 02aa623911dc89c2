/**
 * Smaller parts of src/core/domain at their edges: the event bus, the error classes, job ids and
 * references, job filters and updateJob patches.
 */
import { describe, expect, it } from 'vitest'
import {
  CompletionNotWrittenError,
  ConveyorError,
  IndexBuildPendingError,
  InvalidArgumentError,
  InvalidPayloadError,
  IsolatedRunnerExitError,
  JobKeyNotFoundError,
  JobNotWaitingError,
  SchemaNotMigratedError,
  SchemaPrivilegeError,
  SchemaTooNewError,
  StorageConflictError,
  StorageInconsistentError,
  StorageUnavailableError,
  UnknownJobKindError,
  UnknownQueueError,
} from '../../src/core/domain/errors.js'
import { EventBus } from '../../src/core/domain/events.js'
import { validateJobFilter } from '../../src/core/domain/filter.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { isJobId } from '../../src/core/domain/job-id.js'
import { resolveJobChanges, validateJobPatch } from '../../src/core/domain/job-patch.js'
import { describeJobRef, validateJobRef } from '../../src/core/domain/job-ref.js'
import { newJobRecord } from '../../src/core/domain/new-job-record.js'
import { checkInstant, MAX_DATE_MS } from '../../src/core/domain/schedules/time-units.js'
import { newJobBuilder } from '../support/new-job.js'

describe('EventBus', () => {
  it('refuses an unknown event and a listener that is not a function', () => {
    const bus = new EventBus()
    expect(() => bus.on('nope' as never, () => {})).toThrow(InvalidArgumentError)
    expect(() => bus.on('nope' as never, () => {})).toThrow('Unknown queue event "nope"')
    expect(() => bus.on('failed', 'x' as never)).toThrow(
      'on("failed", listener): listener must be a function.',
    )
  })

  it('calls every listener of an event, and has() follows adding and removing them', () => {
    const bus = new EventBus()
    expect(bus.has('failed')).toBe(false)
    const seen: string[] = []
    const offA = bus.on('failed', () => seen.push('a'))
    const offB = bus.on('failed', () => seen.push('b'))
    expect(bus.has('failed')).toBe(true)
    bus.emit('failed', {} as never)
    expect(seen).toEqual(['a', 'b'])
    offA()
    offB()
    expect(bus.has('failed')).toBe(false)
  })

  it('reports a throwing listener on error, and an error listener that throws is not reported again', () => {
    const bus = new EventBus()
    const reported: unknown[] = []
    bus.on('error', (event) => {
      reported.push(event)
      throw new Error('error listener broke')
    })
    const boom = new Error('listener broke')
    bus.on('failed', () => {
      throw boom
    })
    bus.emit('failed', {} as never)
    expect(reported).toEqual([{ error: boom, during: 'failed listener' }])
  })
})

describe('error classes', () => {
  it.each([
    [StorageUnavailableError, 'STORAGE_UNAVAILABLE'],
    [StorageConflictError, 'STORAGE_CONFLICT'],
    [CompletionNotWrittenError, 'COMPLETION_NOT_WRITTEN'],
    [StorageInconsistentError, 'STORAGE_INCONSISTENT'],
    [SchemaNotMigratedError, 'SCHEMA_NOT_MIGRATED'],
    [SchemaTooNewError, 'SCHEMA_TOO_NEW'],
    [SchemaPrivilegeError, 'SCHEMA_PRIVILEGE'],
    [IndexBuildPendingError, 'INDEX_BUILD_PENDING'],
  ] as const)('%o carries its code, message and cause', (ErrorClass, code) => {
    const cause = new Error('underlying')
    const error = new ErrorClass('what went wrong', { cause })
    expect(error).toBeInstanceOf(ConveyorError)
    expect(error).toMatchObject({ code, message: 'what went wrong', cause })
  })

  it('names the configured queues, or none', () => {
    expect(new UnknownQueueError('q', ['a', 'b']).message).toContain('Configured queues: "a", "b"')
    expect(new UnknownQueueError('q', []).message).toContain('Configured queues: (none)')
    expect(new UnknownQueueError('q', []).code).toBe('UNKNOWN_QUEUE')
  })

  it('says whether a job key was looked up with or without a kind', () => {
    expect(new JobKeyNotFoundError('k', 'report').message).toMatch(
      /^No job of kind "report" has the unique key "k"/,
    )
    expect(new JobKeyNotFoundError('k', null).message).toMatch(/^No job has the unique key "k"/)
  })

  it('tells a running job apart from a finished one in JobNotWaitingError', () => {
    const running = new JobNotWaitingError('7', 'running').message
    const done = new JobNotWaitingError('7', 'succeeded').message
    expect(running).not.toBe(done)
    expect(running).toContain('running')
    expect(done).toContain('succeeded')
    expect(running).toContain('Wait for this attempt to end')
    expect(done).toContain('retryJobs')
    expect(done).not.toContain('Wait for this attempt to end')
  })

  it('keeps payload issues, none by default', () => {
    expect(new InvalidPayloadError('bad').issues).toEqual([])
  })

  it('describes how an isolated runner ended', () => {
    const error = new IsolatedRunnerExitError('process', 1, null, 'out of memory')
    expect(error).toBeInstanceOf(ConveyorError)
    expect(error.message).toContain('out of memory')
  })
})

describe('isJobId', () => {
  it.each(['1', '42', '9223372036854775807', '123456789012345678'])('accepts %s', (id) => {
    expect(isJobId(id)).toBe(true)
  })

  it.each([1, '', 'x', '-1', '1.5', '9223372036854775808', '99999999999999999999'])('refuses %j', (id) => {
    expect(isJobId(id)).toBe(false)
  })
})

describe('job references', () => {
  it('refuses a name without a key', () => {
    expect(() => validateJobRef({ kind: 'report' }, 'getJob(job)')).toThrow(
      'getJob(job): a job name needs its key, the uniqueKey the job was enqueued with',
    )
  })

  it('reads ids and names in messages', () => {
    expect(describeJobRef('42')).toBe('job "42"')
    expect(describeJobRef({ key: 'nightly' })).toBe('the job named "nightly"')
    expect(describeJobRef({ key: 'nightly', kind: 'report' })).toBe('the job named "nightly" (kind "report")')
  })
})

describe('validateJobFilter', () => {
  it.each([
    ['null', null, 'A job filter must be an object'],
    ['an array', [], 'A job filter must be an object'],
    ['a string', 'failed', 'A job filter must be an object'],
    ['a bad id', { ids: ['1', 'x'] }, 'filter.ids must be an array of job id strings; filter.ids[1] is "x".'],
    ['ids that are no array', { ids: '1' }, 'filter.ids must be an array of job id strings; got "1".'],
    [
      'an unknown state',
      { states: ['failed', 'done'] },
      'filter.states must be an array of scheduled, available, running, retryable, paused, succeeded, failed, cancelled; filter.states[1] is "done".',
    ],
    ['a bad queue', { queue: 'bad queue' }, 'filter.queue must be'],
    ['a bad kind', { kind: 'bad kind' }, 'filter.kind must be'],
    ['a groupKey of 1001 characters', { groupKey: 'x'.repeat(1001) }, 'filter.groupKey must be a string'],
    ['a key that is a number', { key: 5 }, 'filter.key must be a string'],
    [
      'createdAfter as a Date',
      { createdAfter: new Date(0) },
      'filter.createdAfter must be epoch milliseconds',
    ],
    [
      'a pattern that is not JSON',
      { payloadIncludes: { a: undefined } },
      'filter.payloadIncludes.a is undefined',
    ],
    [
      'a pattern over 10,000 characters',
      { payloadIncludes: { a: 'x'.repeat(10_000) } },
      'at most 10000 are allowed',
    ],
  ])('refuses %s', (_name, filter, message) => {
    expect(() => validateJobFilter(filter)).toThrow(InvalidArgumentError)
    expect(() => validateJobFilter(filter)).toThrow(message)
  })

  it('accepts the longest strings and patterns', () => {
    expect(() => validateJobFilter({ groupKey: 'x'.repeat(1000) })).not.toThrow()
    const pattern = { a: 'x'.repeat(10_000 - '{"a":""}'.length) }
    expect(JSON.stringify(pattern)).toHaveLength(10_000)
    expect(() => validateJobFilter({ payloadIncludes: pattern })).not.toThrow()
  })

  it('keeps the JSON error of a pattern as the cause', () => {
    try {
      validateJobFilter({ payloadIncludes: { a: undefined } })
      expect.unreachable()
    } catch (error) {
      expect((error as Error).cause).toMatchObject({ code: 'INVALID_PAYLOAD' })
    }
  })

  it('refuses a filter with only undefined fields where a criterion is required', () => {
    expect(() => validateJobFilter({ queue: undefined }, true)).toThrow('needs at least one filter criterion')
    expect(() => validateJobFilter({ queue: 'default' }, true)).not.toThrow()
    expect(() => validateJobFilter({}, false)).not.toThrow()
  })
})

describe('updateJob patches', () => {
  it('refuses a patch that is not an object', () => {
    expect(() => validateJobPatch('1', null, undefined)).toThrow('patch must be an object')
    expect(() => validateJobPatch('1', [], undefined)).toThrow('patch must be an object')
  })

  it('says whether the patch was empty or held only undefined fields', () => {
    expect(() => validateJobPatch('1', {}, undefined)).toThrow('got an empty patch')
    expect(() => validateJobPatch('1', { runAt: undefined }, undefined)).toThrow('got only undefined fields')
  })

  it('keeps only the fields given', () => {
    expect(validateJobPatch('1', { priority: 3, runAt: undefined }, undefined).patch).toStrictEqual({
      priority: 3,
    })
    expect(validateJobPatch('1', { state: null }, undefined).patch).toStrictEqual({ state: null })
    expect(validateJobPatch('1', { payload: { a: 1 } }, undefined).patch).toStrictEqual({ payload: { a: 1 } })
    expect(validateJobPatch('1', { runAt: new Date(5) }, undefined).patch).toStrictEqual({ runAt: 5 })
  })

  it('refuses an expression that is not a string or blank', () => {
    expect(() => validateJobPatch('1', { expression: 5 }, undefined)).toThrow(
      'patch.expression must be a schedule',
    )
    expect(() => validateJobPatch('1', { expression: '  ' }, undefined)).toThrow(
      'patch.expression must be a schedule',
    )
  })

  it('writes only the changes given', async () => {
    const none = () => undefined
    const valid = validateJobPatch('1', { priority: 3 }, undefined)
    expect(await resolveJobChanges(valid, '1', 'report', none)).toStrictEqual({ priority: 3 })
    const state = validateJobPatch('1', { state: { step: 2 }, runAt: 7 }, undefined)
    expect(await resolveJobChanges(state, '1', 'report', none)).toStrictEqual({
      workflowState: { step: 2 },
      runAt: 7,
    })
  })

  it('needs the kind, and a definition of that kind, to change a payload', async () => {
    const report = defineJob({ kind: 'report' })
    const valid = validateJobPatch('1', { payload: { a: 1 } }, undefined)
    await expect(resolveJobChanges(valid, '1', undefined, () => report)).rejects.toThrow(TypeError)
    await expect(resolveJobChanges(valid, '1', 'report', () => undefined)).rejects.toThrow(
      UnknownJobKindError,
    )
    expect(await resolveJobChanges(valid, '1', 'report', () => report)).toEqual({ payload: { a: 1 } })
    const withJob = validateJobPatch('1', { payload: { a: 1 } }, { job: defineJob({ kind: 'other' }) })
    await expect(resolveJobChanges(withJob, '1', 'report', () => report)).rejects.toThrow(
      'options.job is the definition of "other", but job "1" is of kind "report"',
    )
  })
})

describe('newJobRecord', () => {
  const newJob = newJobBuilder({})

  it('starts without attempts or errors; only a job stored cancelled is finished', () => {
    const waiting = newJobRecord('1', newJob(), 'available', 1_000)
    expect(waiting).toMatchObject({
      id: '1',
      state: 'available',
      attempt: 0,
      runs: 0,
      errors: [],
      finishedAt: null,
    })
    expect(waiting.createdAt).toBe(1_000)
    expect(newJobRecord('2', newJob(), 'cancelled', 1_000).finishedAt).toBe(1_000)
  })
})

describe('checkInstant', () => {
  it('takes the whole Date range and nothing past it', () => {
    expect(() => checkInstant('at', MAX_DATE_MS)).not.toThrow()
    expect(() => checkInstant('at', -MAX_DATE_MS)).not.toThrow()
    expect(() => checkInstant('at', MAX_DATE_MS + 1)).toThrow(
      'at must be a finite epoch time in milliseconds',
    )
    expect(() => checkInstant('at', Number.NaN)).toThrow(InvalidArgumentError)
    expect(() => checkInstant('at', '5' as never)).toThrow(InvalidArgumentError)
  })
})
