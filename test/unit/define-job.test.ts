import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { InvalidJobDefinitionError } from '../../src/core/domain/errors.js'
import { defineJob, isJobDefinition, validatePayload } from '../../src/core/domain/job-definition.js'

describe('defineJob', () => {
  it('applies defaults', () => {
    const job = defineJob({ kind: 'a' })
    expect(job.defaults).toEqual({
      queue: 'default',
      priority: 0,
      maxAttempts: 25,
      timeoutMs: 0,
      weight: 1,
      backoff: undefined,
    })
  })

  it.each([
    [{ kind: '' }, 'kind must be'],
    [{ kind: 'has space' }, 'kind must be'],
    [{ kind: 'x'.repeat(129) }, 'kind must be'],
    [{ kind: 'a', queue: 'bad queue' }, 'queue must be'],
    [{ kind: 'a', priority: 1.5 }, 'priority must be an integer'],
    [{ kind: 'a', maxAttempts: 0 }, 'maxAttempts must be an integer from 1'],
    [{ kind: 'a', timeoutMs: -1 }, 'timeoutMs must be an integer from 0'],
    [{ kind: 'a', weight: 0 }, 'weight must be an integer from 1'],
    [{ kind: 'a', backoff: { factor: 0.5 } }, 'factor'],
    [{ kind: 'a', backoff: { nope: 1 } }, 'unknown field "nope"'],
    [{ kind: 'a', retries: 3 }, 'unknown option "retries"'],
    [{ kind: 'a', schema: { parse() {} } }, 'Standard Schema'],
    [{ kind: 'a', schema: null }, 'Standard Schema'],
    [{ kind: 'a', schema: 'zod' }, 'Standard Schema'],
    [{ kind: 'a', groupMode: 'lifo' }, "groupMode must be 'fifo'"],
    [{ kind: 'a', timeoutMs: 1000, groupLockTimeoutMs: 999 }, 'groupLockTimeoutMs (999 ms) is shorter'],
  ])('rejects %j', (input, message) => {
    expect(() => defineJob(input as never)).toThrow(InvalidJobDefinitionError)
    expect(() => defineJob(input as never)).toThrow(message)
  })

  it.each([null, 'send-email'])('refuses %j as its input', (input) => {
    expect(() => defineJob(input as never)).toThrow(InvalidJobDefinitionError)
    expect(() => defineJob(input as never)).toThrow('defineJob(input) needs an object')
  })

  it('names the kind in a wrapped error and keeps the cause', () => {
    const error = catchError(() => defineJob({ kind: 'a', priority: 1.5 }))
    expect(error).toBeInstanceOf(InvalidJobDefinitionError)
    expect((error as Error).message).toMatch(/^defineJob\("a"\): priority must be an integer/)
    expect((error as Error).cause).toMatchObject({ code: 'INVALID_ARGUMENT' })
  })

  it('keeps groupMode and groupLockTimeoutMs only when given', () => {
    expect(defineJob({ kind: 'a', groupMode: 'release', groupLockTimeoutMs: 5000 }).defaults).toMatchObject({
      groupMode: 'release',
      groupLockTimeoutMs: 5000,
    })
    const plain = defineJob({ kind: 'a' }).defaults
    expect('groupMode' in plain).toBe(false)
    expect('groupLockTimeoutMs' in plain).toBe(false)
  })

  it('recognises definitions made by defineJob and nothing else', () => {
    expect(isJobDefinition(defineJob({ kind: 'a' }))).toBe(true)
    const defaults = defineJob({ kind: 'a' }).defaults
    for (const value of [
      null,
      'a',
      { kind: 'a' },
      { kind: 1, defaults },
      { kind: 'bad kind', defaults },
      { kind: 'a', defaults: null },
      { kind: 'a', defaults: { ...defaults, queue: 1 } },
      { kind: 'a', defaults: { ...defaults, queue: 'bad queue' } },
      { kind: 'a', defaults: { ...defaults, weight: 1.5 } },
      { kind: 'a', defaults: { ...defaults, priority: undefined } },
    ])
      expect(isJobDefinition(value), JSON.stringify(value)).toBe(false)
  })

  it('validates payloads with the schema and keeps its output', async () => {
    const job = defineJob({ kind: 'a', schema: z.object({ n: z.coerce.number() }) })
    await expect(validatePayload(job, { n: '5' })).resolves.toEqual({ n: 5 })
    await expect(validatePayload(job, { n: 'x' })).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' })
    await expect(validatePayload(job, { n: 'x' })).rejects.toThrow(/Invalid payload for job "a": n:/)
  })

  it('awaits an async schema and names the paths of its issues', async () => {
    const job = defineJob({ kind: 'a', schema: z.object({ user: z.object({ id: z.number() }) }) })
    const asyncJob = defineJob({
      kind: 'b',
      schema: z.object({ n: z.number() }).refine(async () => true),
    })
    await expect(validatePayload(asyncJob, { n: 1 })).resolves.toEqual({ n: 1 })
    await expect(validatePayload(asyncJob, { n: 'x' })).rejects.toThrow(/Invalid payload for job "b": n:/)
    const error = await validatePayload(job, { user: { id: 'x' } }).catch((e: unknown) => e)
    expect((error as Error).message).toMatch(/: user\.id: /)
    expect((error as { issues: { path?: unknown }[] }).issues[0]?.path).toEqual(['user', 'id'])
  })

  it('gives the message alone for an issue without a path, and reads path segments given as { key }', async () => {
    const schema = (issues: { message: string; path?: unknown[] }[]) => ({
      '~standard': { version: 1, vendor: 'test', validate: () => ({ issues }) },
    })
    const noPath = defineJob({ kind: 'a', schema: schema([{ message: 'bad' }]) as never })
    await expect(validatePayload(noPath, 1)).rejects.toThrow(/^Invalid payload for job "a": bad$/)
    const keyed = defineJob({
      kind: 'a',
      schema: schema([{ message: 'bad', path: [{ key: 'user' }, 'id'] }]) as never,
    })
    const error = await validatePayload(keyed, 1).catch((e: unknown) => e)
    expect((error as Error).message).toBe('Invalid payload for job "a": user.id: bad')
    expect((error as { issues: unknown[] }).issues).toEqual([{ message: 'bad', path: ['user', 'id'] }])
  })

  it('rejects schema output that is not JSON', async () => {
    const job = defineJob({ kind: 'a', schema: z.object({ at: z.coerce.date() }) })
    await expect(validatePayload(job, { at: '2030-01-01' })).rejects.toThrow(/Date instance/)
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
