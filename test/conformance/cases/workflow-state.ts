import { describe, expect, it } from 'vitest'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { JsonValue } from '../../../src/core/domain/json.js'
import type { HarnessFactory } from '../harness.js'
import { job, useHarness } from '../helpers.js'

const workflow = defineJob<{ steps: number }>({ kind: 'workflow' })

/** Workflow state: carried across attempts and snoozes, set by `ctx.setState` or a control. */
export default function workflowStateCases(factory: HarnessFactory): void {
  describe('workflow state', () => {
    const open = useHarness(factory)

    it('is null on the first attempt unless enqueued with state', async () => {
      const h = await open()
      const seen: (JsonValue | null)[] = []
      h.queue.register(workflow, (_p, ctx) => {
        seen.push(ctx.state)
      })
      await h.queue.enqueue(workflow, { steps: 1 })
      await h.queue.enqueue(workflow, { steps: 1 }, { state: { cursor: 'abc' } })
      await h.queue.drain()
      expect(seen).toEqual([null, { cursor: 'abc' }])
    })

    it('carries a multi-step workflow across snoozes with new state', async () => {
      const h = await open()
      const seen: (JsonValue | null)[] = []
      h.queue.register(workflow, ({ steps }, ctx) => {
        seen.push(ctx.state)
        const done = ((ctx.state as { done?: number } | null)?.done ?? 0) + 1
        if (done < steps) return ctx.snooze(60_000, { state: { done } })
        ctx.setState({ done, finished: true })
        return undefined
      })
      const r = await h.queue.enqueue(workflow, { steps: 3 })
      for (let i = 0; i < 3; i++) {
        await h.queue.drain()
        h.clock.advance(60_000)
      }
      expect(seen).toEqual([null, { done: 1 }, { done: 2 }])
      expect(await job(h, r.id)).toMatchObject({
        state: 'succeeded',
        attempt: 1,
        workflowState: { done: 3, finished: true },
      })
    })

    it('keeps state set before a throw for the next attempt', async () => {
      const h = await open({ random: () => 0.5 })
      const seen: (JsonValue | null)[] = []
      h.queue.register(workflow, (_p, ctx) => {
        seen.push(ctx.state)
        ctx.setState({ reached: ctx.attempt })
        if (ctx.attempt < 3) throw new Error('later')
      })
      const r = await h.queue.enqueue(workflow, { steps: 1 })
      await h.queue.drain()
      h.clock.advance(1000)
      await h.queue.drain()
      h.clock.advance(2000)
      await h.queue.drain()
      expect(seen).toEqual([null, { reached: 1 }, { reached: 2 }])
      expect((await job(h, r.id)).workflowState).toEqual({ reached: 3 })
    })

    it('stores state set before a permanent failure', async () => {
      const h = await open()
      h.queue.register(workflow, (_p, ctx) => {
        ctx.setState({ failedAt: 'step-2' })
        return ctx.fail('give up')
      })
      const r = await h.queue.enqueue(workflow, { steps: 1 })
      await h.queue.drain()
      expect(await job(h, r.id)).toMatchObject({ state: 'failed', workflowState: { failedAt: 'step-2' } })
    })

    it('stores state set before a cancel', async () => {
      const h = await open()
      h.queue.register(workflow, (_p, ctx) => {
        ctx.setState({ stage: 'cancelled-here' })
        return ctx.cancel('stop')
      })
      const r = await h.queue.enqueue(workflow, { steps: 1 })
      await h.queue.drain()
      expect(await job(h, r.id)).toMatchObject({
        state: 'cancelled',
        workflowState: { stage: 'cancelled-here' },
      })
    })

    it('the snooze state wins over an earlier setState in the same attempt', async () => {
      const h = await open()
      h.queue.register(workflow, (_p, ctx) => {
        ctx.setState({ from: 'setState' })
        return ctx.snooze(1000, { state: { from: 'snooze' } })
      })
      const r = await h.queue.enqueue(workflow, { steps: 1 })
      await h.queue.drain()
      expect(await job(h, r.id)).toMatchObject({ state: 'scheduled', workflowState: { from: 'snooze' } })
    })

    it('keeps the stored state when an attempt does not change it', async () => {
      const h = await open({ random: () => 0.5 })
      h.queue.register(workflow, () => {
        throw new Error('no change')
      })
      const r = await h.queue.enqueue(workflow, { steps: 1 }, { state: { keep: [1, 2] } })
      await h.queue.drain()
      expect((await job(h, r.id)).workflowState).toEqual({ keep: [1, 2] })
    })

    it('ctx.state reflects setState within the attempt', async () => {
      const h = await open()
      let inside: JsonValue | null = null
      h.queue.register(workflow, (_p, ctx) => {
        ctx.setState({ n: 1 })
        inside = ctx.state
      })
      await h.queue.enqueue(workflow, { steps: 1 })
      await h.queue.drain()
      expect(inside).toEqual({ n: 1 })
    })

    it('setState with a non-JSON value fails the attempt with INVALID_PAYLOAD and keeps the old state', async () => {
      const h = await open({ random: () => 0.5 })
      h.queue.register(workflow, (_p, ctx) => {
        ctx.setState({ when: new Date(0) } as unknown as JsonValue)
      })
      const r = await h.queue.enqueue(workflow, { steps: 1 }, { state: { ok: true } })
      expect(await h.queue.drain()).toMatchObject({ retried: 1 })
      const record = await job(h, r.id)
      expect(record.workflowState).toEqual({ ok: true })
      expect(record.errors[0]?.name).toBe('InvalidPayloadError')
      expect(record.errors[0]?.message).toContain('when')
    })

    it('a snooze with non-JSON state fails the attempt instead of storing it', async () => {
      const h = await open({ random: () => 0.5 })
      h.queue.register(workflow, (_p, ctx) => ctx.snooze(10, { state: { n: 1n } as unknown as JsonValue }))
      const r = await h.queue.enqueue(workflow, { steps: 1 })
      expect(await h.queue.drain()).toMatchObject({ retried: 1, snoozed: 0 })
      expect((await job(h, r.id)).workflowState).toBeNull()
    })
  })
}
