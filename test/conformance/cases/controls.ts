import { describe, expect, it } from 'vitest'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { JobContext } from '../../../src/core/ports/queue.js'
import type { HarnessFactory } from '../harness.js'
import { T0 } from '../harness.js'
import { job, useHarness } from '../helpers.js'

const task = defineJob<{ mode: string }>({ kind: 'task' })

type Mode = (ctx: JobContext) => unknown

const MODES: Record<string, Mode> = {
  'return fail': (ctx) => ctx.fail('bad input'),
  'throw fail': (ctx) => {
    throw ctx.fail('bad input')
  },
  'return cancel': (ctx) => ctx.cancel('no longer needed'),
  'throw cancel': (ctx) => {
    throw ctx.cancel('no longer needed')
  },
  'return snooze': (ctx) => ctx.snooze(30_000),
  'throw snooze': (ctx) => {
    throw ctx.snooze(30_000)
  },
  'async fail': async (ctx) => ctx.fail('bad input'),
}

/** Explicit handler outcomes: fail permanently, cancel, snooze. */
export default function controlCases(factory: HarnessFactory): void {
  describe('explicit controls', () => {
    const open = useHarness(factory)

    async function run(mode: string, options: { maxAttempts?: number } = {}) {
      const h = await open({ random: () => 0.5 })
      const attempts: number[] = []
      h.queue.register(task, (p, ctx) => {
        attempts.push(ctx.attempt)
        return MODES[p.mode]!(ctx)
      })
      const r = await h.queue.enqueue(task, { mode }, options)
      const drained = await h.queue.drain()
      return { h, r, drained, attempts, record: await job(h, r.id) }
    }

    for (const mode of ['return fail', 'throw fail', 'async fail']) {
      it(`${mode}: fails the job permanently on the first attempt, keeping the reason`, async () => {
        const { record, drained, attempts, h } = await run(mode, { maxAttempts: 10 })
        expect(drained).toMatchObject({ failed: 1, retried: 0, total: 1 })
        expect(record).toMatchObject({ state: 'failed', attempt: 1, finishedAt: T0 })
        expect(record.errors).toEqual([expect.objectContaining({ attempt: 1, at: T0, message: 'bad input' })])
        h.clock.advance(3600_000)
        await h.queue.drain({ withScheduled: true })
        expect(attempts).toEqual([1])
      })
    }

    for (const mode of ['return cancel', 'throw cancel']) {
      it(`${mode}: cancels the job with its reason`, async () => {
        const { record, drained, attempts, h } = await run(mode, { maxAttempts: 10 })
        expect(drained).toMatchObject({ cancelled: 1, total: 1 })
        expect(record).toMatchObject({ state: 'cancelled', attempt: 1, finishedAt: T0 })
        expect(record.errors.at(-1)?.message ?? '').toContain('no longer needed')
        h.clock.advance(3600_000)
        await h.queue.drain({ withScheduled: true })
        expect(attempts).toEqual([1])
      })
    }

    for (const mode of ['return snooze', 'throw snooze']) {
      it(`${mode}: reschedules the job without counting the attempt`, async () => {
        const { record, drained } = await run(mode, { maxAttempts: 1 })
        expect(drained).toMatchObject({ snoozed: 1, total: 1 })
        expect(record).toMatchObject({
          state: 'scheduled',
          runAt: T0 + 30_000,
          attempt: 0,
          errors: [],
          finishedAt: null,
        })
      })
    }

    it('a snoozed job does not run before its time and runs after it', async () => {
      const h = await open()
      const runs: [number, number][] = []
      h.queue.register(task, (_p, ctx) => {
        runs.push([h.clock.now() - T0, ctx.attempt])
        if (runs.length === 1) return ctx.snooze(10_000)
        return undefined
      })
      const r = await h.queue.enqueue(task, { mode: '' })
      await h.queue.drain()
      h.clock.advance(9999)
      expect((await h.queue.drain()).total).toBe(0)
      h.clock.advance(1)
      expect(await h.queue.drain()).toMatchObject({ succeeded: 1 })
      expect(runs).toEqual([
        [0, 1],
        [10_000, 1],
      ])
      expect(await job(h, r.id)).toMatchObject({ state: 'succeeded', attempt: 1 })
    })

    it('snoozing many times never exhausts maxAttempts', async () => {
      const h = await open()
      let runs = 0
      h.queue.register(task, (_p, ctx) => {
        runs++
        return runs <= 5 ? ctx.snooze(1000) : 'done'
      })
      const r = await h.queue.enqueue(task, { mode: '' }, { maxAttempts: 1 })
      for (let i = 0; i < 6; i++) {
        await h.queue.drain()
        h.clock.advance(1000)
      }
      expect(runs).toBe(6)
      expect(await job(h, r.id)).toMatchObject({ state: 'succeeded', attempt: 1, errors: [] })
    })

    it('snooze(0) makes the job due again at once', async () => {
      const h = await open()
      let runs = 0
      h.queue.register(task, (_p, ctx) => (++runs === 1 ? ctx.snooze(0) : undefined))
      const r = await h.queue.enqueue(task, { mode: '' })
      await h.queue.drain()
      expect((await job(h, r.id)).runAt).toBe(T0)
      await h.queue.drain()
      expect(runs).toBe(2)
    })

    it('an invalid snooze delay counts as a failed attempt with a clear error', async () => {
      const h = await open({ random: () => 0.5 })
      h.queue.register(task, (_p, ctx) => ctx.snooze(-1))
      const r = await h.queue.enqueue(task, { mode: '' })
      expect(await h.queue.drain()).toMatchObject({ retried: 1 })
      const record = await job(h, r.id)
      expect(record.state).toBe('retryable')
      expect(record.errors[0]?.message).toContain('snooze')
    })

    it('a failure after earlier retries keeps all errors and stops', async () => {
      const h = await open({ random: () => 0.5 })
      h.queue.register(task, (_p, ctx) => {
        if (ctx.attempt === 1) throw new Error('transient')
        return ctx.fail('permanent')
      })
      const r = await h.queue.enqueue(task, { mode: '' })
      await h.queue.drain()
      h.clock.advance(1000)
      await h.queue.drain()
      const record = await job(h, r.id)
      expect(record).toMatchObject({ state: 'failed', attempt: 2 })
      expect(record.errors.map((e) => e.message)).toEqual(['transient', 'permanent'])
    })

    it('a returned value that is not a control is a success', async () => {
      const h = await open()
      h.queue.register(task, () => ({ fail: true, cancel: 'x', snooze: 1 }))
      const r = await h.queue.enqueue(task, { mode: '' })
      expect(await h.queue.drain()).toMatchObject({ succeeded: 1 })
      expect((await job(h, r.id)).state).toBe('succeeded')
    })

    it.each([
      ['fail', (ctx: JobContext) => void ctx.fail('bad image')],
      ['snooze', (ctx: JobContext) => void ctx.snooze(1000)],
      ['cancel', (ctx: JobContext) => void ctx.cancel('not needed')],
    ])(
      'a control called without return (ctx.%s) keeps the outcome and warns through the logger',
      async (name, call) => {
        const warnings: { message: string; fields?: Record<string, unknown> }[] = []
        const logger = {
          debug() {},
          info() {},
          warn: (message: string, fields?: Record<string, unknown>) =>
            void warnings.push({ message, fields }),
          error() {},
        }
        const h = await open({ logger })
        const resize = defineJob<{ url: string }>({ kind: 'resize-image' })
        h.queue.register(resize, async (_p, ctx) => {
          call(ctx)
        })
        const r = await h.queue.enqueue(resize, { url: 'a.png' })
        await h.queue.drain()
        expect((await job(h, r.id)).state).toBe('succeeded')
        const warned = warnings.filter((w) => w.message.includes(`ctx.${name}(`))
        expect(warned).toHaveLength(1)
        expect(warned[0]!.message).toContain('"resize-image"')
        expect(warned[0]!.message).toContain(`return ctx.${name}(...)`)
        expect(warned[0]!.fields).toMatchObject({ jobId: r.id, kind: 'resize-image' })
      },
    )

    it('warns about no control that the handler returned, or replaced by the one it returned', async () => {
      const warnings: string[] = []
      const logger = { debug() {}, info() {}, warn: (m: string) => void warnings.push(m), error() {} }
      const h = await open({ logger })
      h.queue.register(task, (_p, ctx) => {
        ctx.snooze(1000)
        return ctx.fail('changed my mind')
      })
      const r = await h.queue.enqueue(task, { mode: 'x' })
      await h.queue.drain()
      expect((await job(h, r.id)).state).toBe('failed')
      expect(warnings).toEqual([])
    })
  })
}
