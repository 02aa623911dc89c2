import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { InvalidJobDefinitionError } from '../../src/core/domain/errors.js'
import { defineJob, validatePayload } from '../../src/core/domain/job-definition.js'

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
  ])('rejects %j', (input, message) => {
    expect(() => defineJob(input as never)).toThrow(InvalidJobDefinitionError)
    expect(() => defineJob(input as never)).toThrow(message)
  })

  it('validates payloads with the schema and keeps its output', async () => {
    const job = defineJob({ kind: 'a', schema: z.object({ n: z.coerce.number() }) })
    await expect(validatePayload(job, { n: '5' })).resolves.toEqual({ n: 5 })
    await expect(validatePayload(job, { n: 'x' })).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' })
    await expect(validatePayload(job, { n: 'x' })).rejects.toThrow(/Invalid payload for job "a": n:/)
  })

  it('rejects schema output that is not JSON', async () => {
    const job = defineJob({ kind: 'a', schema: z.object({ at: z.coerce.date() }) })
    await expect(validatePayload(job, { at: '2030-01-01' })).rejects.toThrow(/Date instance/)
  })
})
