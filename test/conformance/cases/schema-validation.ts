import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { InvalidPayloadError } from '../../../src/core/domain/errors.js'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { HarnessFactory } from '../harness.js'
import { expectError, job, useHarness } from '../helpers.js'

// biome-ignore lint/suspicious/noExplicitAny: the cases feed deliberately wrong payloads through the typed API.
type Any = any

const sendEmail = defineJob({
  kind: 'send-email',
  schema: z.object({ to: z.string().email(), cc: z.array(z.string().email()).optional() }),
})
const resize = defineJob({
  kind: 'resize',
  schema: z.object({
    width: z.string().transform((s) => Number.parseInt(s, 10)),
    label: z.string().default('thumb'),
  }),
})
const positive = defineJob({
  kind: 'positive',
  schema: z.object({ n: z.number() }).refine(async (v) => v.n > 0, { message: 'n must be positive' }),
})
const datey = defineJob({ kind: 'datey', schema: z.object({ at: z.coerce.date() }) })

/** Standard Schema validation at enqueue (zod): issues with paths, transforms, async schemas. */
export default function schemaValidationCases(factory: HarnessFactory): void {
  describe('schema validation', () => {
    const open = useHarness(factory)

    it('accepts a payload that passes the schema', async () => {
      const h = await open()
      const r = await h.queue.enqueue(sendEmail, { to: 'a@b.co' })
      expect((await job(h, r.id)).payload).toEqual({ to: 'a@b.co' })
    })

    it('rejects an invalid payload with INVALID_PAYLOAD naming the kind, field and problem', async () => {
      const h = await open()
      const error = await expectError(
        () => h.queue.enqueue(sendEmail, { to: 'not-an-email' }),
        'INVALID_PAYLOAD',
        '"send-email"',
        'to',
      )
      expect(error).toBeInstanceOf(InvalidPayloadError)
      expect((error as InvalidPayloadError).issues).toEqual([expect.objectContaining({ path: ['to'] })])
      expect(await h.queue.listJobs()).toEqual([])
    })

    it('reports every issue, with nested array paths', async () => {
      const h = await open()
      const error = (await expectError(
        () => h.queue.enqueue(sendEmail, { to: 'x', cc: ['ok@b.co', 'nope'] }),
        'INVALID_PAYLOAD',
        'cc.1',
      )) as InvalidPayloadError
      expect(error.issues.map((i) => i.path)).toEqual([['to'], ['cc', 1]])
    })

    it('rejects a payload with a missing required field', async () => {
      const h = await open()
      const error = (await expectError(
        () => h.queue.enqueue(sendEmail, {} as Any),
        'INVALID_PAYLOAD',
        'to',
      )) as InvalidPayloadError
      expect(error.issues[0]?.path).toEqual(['to'])
    })

    it('stores the output of a transforming schema (with defaults applied)', async () => {
      const h = await open()
      const r = await h.queue.enqueue(resize, { width: '640' } as Any)
      expect((await job(h, r.id)).payload).toEqual({ width: 640, label: 'thumb' })
    })

    it('hands the transformed payload to the handler', async () => {
      const h = await open()
      const seen: unknown[] = []
      h.queue.register(resize, (payload) => {
        seen.push(payload)
      })
      await h.queue.enqueue(resize, { width: '32', label: 'icon' } as Any)
      await h.queue.drain()
      expect(seen).toEqual([{ width: 32, label: 'icon' }])
    })

    it('awaits an async schema and accepts a valid payload', async () => {
      const h = await open()
      const r = await h.queue.enqueue(positive, { n: 3 })
      expect(r.state).toBe('available')
    })

    it('awaits an async schema and rejects an invalid payload with its message', async () => {
      const h = await open()
      await expectError(() => h.queue.enqueue(positive, { n: -3 }), 'INVALID_PAYLOAD', 'n must be positive')
      expect(await h.queue.listJobs()).toEqual([])
    })

    it('rejects a schema output that is not JSON (a coerced Date)', async () => {
      const h = await open()
      await expectError(
        () => h.queue.enqueue(datey, { at: '2030-01-01' } as Any),
        'INVALID_PAYLOAD',
        'at',
        'Date',
      )
      expect(await h.queue.listJobs()).toEqual([])
    })

    it('validates the payload of a schedule the same way', async () => {
      const h = await open()
      await expectError(
        () => h.queue.schedule('@every 1 hour', sendEmail, { to: 'nope' }),
        'INVALID_PAYLOAD',
        'to',
      )
      expect(await h.queue.listSchedules()).toEqual([])
    })

    it('validates the payload of performJob the same way', async () => {
      const h = await open()
      h.queue.register(sendEmail, () => undefined)
      await expectError(() => h.queue.performJob(sendEmail, { to: 'nope' }), 'INVALID_PAYLOAD', 'to')
    })

    it('rejects a definition whose schema is not a Standard Schema', async () => {
      await expectError(
        () => defineJob({ kind: 'x', schema: { parse: () => 1 } as Any }),
        'INVALID_JOB_DEFINITION',
        'Standard Schema',
      )
    })
  })
}
