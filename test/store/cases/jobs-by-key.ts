/**
 * `getJobsByKey`: the jobs a unique key names (a job's name). The holder of the key (waiting or
 * running) wins; with no holder, the newest finished job with the key; `kind` scopes the name.
 */
import { describe, expect, it } from 'vitest'
import type { StoreFactory } from '../factory.js'
import { attemptError, claimIds, ids, insertIds, T0, useStore } from '../helpers.js'

export default function jobsByKeyCases(factory: StoreFactory): void {
  describe('getJobsByKey', () => {
    const store = useStore(factory)
    const byKey = async (uniqueKey: string, kind?: string) =>
      ids(await store().getJobsByKey({ uniqueKey, ...(kind !== undefined ? { kind } : {}) }))
    const finish = async (id: string, outcome: 'succeeded' | 'failed' | 'cancelled', now = T0) => {
      await claimIds(store(), { now, kinds: ['test', 'other'] })
      const completion =
        outcome === 'succeeded'
          ? { id, outcome }
          : outcome === 'failed'
            ? { id, outcome, error: attemptError(1) }
            : { id, outcome }
      await store().completeJobs({ completions: [completion], now })
    }

    it('names nothing for a key no job has (nor a job without a key, nor a prefix of a key)', async () => {
      await insertIds(store(), [{}, { uniqueKey: 'nightly-report' }])
      expect(await byKey('nightly')).toEqual([])
      expect(await byKey('nightly-report-2')).toEqual([])
      expect(await byKey('nightly-report', 'other')).toEqual([])
    })

    it('names the waiting holder of the key, with its fields', async () => {
      const [a] = await insertIds(store(), [{ uniqueKey: 'k', runAt: T0 + 60_000, payload: { n: 1 } }])
      const [job] = await store().getJobsByKey({ uniqueKey: 'k' })
      expect(job).toMatchObject({ id: a, state: 'scheduled', uniqueKey: 'k', payload: { n: 1 } })
      expect(await byKey('k', 'test')).toEqual([a])
    })

    it('names the running holder before every finished job with the key, newer ones included', async () => {
      const [old] = await insertIds(store(), [{ uniqueKey: 'k' }])
      await finish(old!, 'failed')
      const [newer] = await insertIds(store(), [{ uniqueKey: 'k' }])
      await finish(newer!, 'succeeded')
      // The old job comes back and holds the key again, though a newer finished job has it too.
      expect(await store().retryJobs({ filter: { ids: [old!] }, now: T0 + 1 })).toBe(1)
      expect(await byKey('k')).toEqual([old])
      await claimIds(store(), { now: T0 + 2 })
      expect((await store().getJobsByKey({ uniqueKey: 'k' }))[0]?.state).toBe('running')
      expect(await byKey('k')).toEqual([old])
    })

    it('without a holder, names the newest finished job with the key, whatever its final state', async () => {
      const [a] = await insertIds(store(), [{ uniqueKey: 'k' }])
      await finish(a!, 'succeeded')
      expect(await byKey('k')).toEqual([a])
      const [b] = await insertIds(store(), [{ uniqueKey: 'k' }])
      await store().cancelJobs({ filter: { ids: [b!] }, now: T0 + 1 })
      expect(await byKey('k')).toEqual([b])
      const [c] = await insertIds(store(), [{ uniqueKey: 'k', maxAttempts: 1 }])
      await finish(c!, 'failed', T0 + 2)
      expect(await byKey('k')).toEqual([c])
      await store().deleteJobs({ filter: { ids: [c!] } })
      expect(await byKey('k')).toEqual([b])
    })

    it('scopes the name to a kind when given; without one, names every holder, newest first', async () => {
      const [x, y] = await insertIds(store(), [
        { uniqueKey: 'k', kind: 'test' },
        { uniqueKey: 'k', kind: 'other' },
      ])
      expect(await byKey('k')).toEqual([y, x])
      expect(await byKey('k', 'test')).toEqual([x])
      expect(await byKey('k', 'other')).toEqual([y])
      expect(await byKey('k', 'third')).toEqual([])
      // A holder of one kind hides the finished jobs of every kind; a kind without holder has its own.
      await finish(y!, 'succeeded')
      const [z] = await insertIds(store(), [{ uniqueKey: 'k', kind: 'other' }])
      await store().cancelJobs({ filter: { ids: [z!] }, now: T0 + 1 })
      expect(await byKey('k')).toEqual([x])
      expect(await byKey('k', 'other')).toEqual([z])
    })

    it('names the newest finished job across kinds when no kind holds the key', async () => {
      const [x, y] = await insertIds(store(), [
        { uniqueKey: 'k', kind: 'test' },
        { uniqueKey: 'k', kind: 'other' },
      ])
      await store().cancelJobs({ filter: { ids: [y!] }, now: T0 })
      await store().cancelJobs({ filter: { ids: [x!] }, now: T0 + 1 })
      // Newest means the largest id (the most recently enqueued), not the latest to finish.
      expect(await byKey('k')).toEqual([y])
      expect(await byKey('k', 'test')).toEqual([x])
    })

    it('filters refuse key (the core resolves names to ids first), and nothing is touched', async () => {
      const [a] = await insertIds(store(), [{ uniqueKey: 'k' }, {}])
      const filter = { key: 'k' } as never
      await expect(store().listJobs({ filter, limit: 10 })).rejects.toThrow(/key/)
      await expect(store().retryJobs({ filter, now: T0 })).rejects.toThrow(/key/)
      await expect(store().cancelJobs({ filter, now: T0 })).rejects.toThrow(/key/)
      await expect(store().deleteJobs({ filter })).rejects.toThrow(/key/)
      expect((await store().listJobs({ filter: {}, limit: 10 })).map((j) => j.state)).toEqual([
        'available',
        'available',
      ])
      expect(a).toBeDefined()
    })

    it('returns the named job with its run logs, as getJob does', async () => {
      const [a] = await insertIds(store(), [{ uniqueKey: 'k' }])
      await claimIds(store())
      const logs = { attempt: 1, lines: [{ at: T0, level: 'info' as const, message: 'hi' }] }
      await store().completeJobs({ completions: [{ id: a!, outcome: 'succeeded', logs }], now: T0 })
      const [job] = await store().getJobsByKey({ uniqueKey: 'k' })
      expect(job?.logs).toEqual((await store().getJob({ id: a! }))?.logs)
      expect(job?.logs?.[0]?.lines[0]?.message).toBe('hi')
    })
  })
}
