import { describe, expect, it } from 'vitest'
import { AmbiguousJobKeyError, JobKeyNotFoundError } from '../../../src/core/domain/errors.js'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { HarnessFactory } from '../harness.js'
import { T0 } from '../harness.js'
import { expectError, job, useHarness } from '../helpers.js'

// biome-ignore lint/suspicious/noExplicitAny: the cases feed deliberately wrong arguments through the typed API.
type Any = any

const HOUR = 3_600_000
const DAY = 24 * HOUR
const backup = defineJob<{ target: string }>({ kind: 'backup' })
const report = defineJob<{ n: number }>({ kind: 'report' })

/** Jobs by name (qron's `QueryJobByName`, `UpdateJobByName`, `DeleteJobByName`): a name is a unique key. */
export default function jobsByNameCases(factory: HarnessFactory): void {
  describe('jobs by name', () => {
    const open = useHarness(factory)

    it("qron's example: query, update, stop, restart and delete the backup job by its name", async () => {
      const h = await open()
      const ran: string[] = []
      h.queue.register(backup, ({ target }) => {
        ran.push(target)
      })
      const name = { key: 'nightly-backup', kind: 'backup' }
      // CreateJob(ctx, "backup", { Expr: "@after 1 day" }) under a name.
      const created = await h.queue.enqueue(
        backup,
        { target: 's3' },
        { uniqueKey: 'nightly-backup', delayMs: DAY },
      )
      // QueryJobByName(ctx, "backup", "nightly-backup")
      expect(await h.queue.getJob(name)).toMatchObject({
        id: created.id,
        state: 'scheduled',
        runAt: T0 + DAY,
      })
      // UpdateJobByName(ctx, "backup", "nightly-backup", { Expr: "@after 1 hour" })
      const updated = await h.queue.updateJob(name, { runAt: T0 + HOUR })
      expect(updated).toMatchObject({ id: created.id, state: 'scheduled', runAt: T0 + HOUR })
      // StopJob
      expect(await h.queue.cancelJobs(name)).toBe(1)
      expect(await h.queue.getJob(name)).toMatchObject({ id: created.id, state: 'cancelled' })
      // RestartJob
      expect(await h.queue.retryJobs(name)).toBe(1)
      expect(await h.queue.getJob(name)).toMatchObject({ id: created.id, state: 'available' })
      await h.queue.drain()
      expect(ran).toEqual(['s3'])
      expect(await h.queue.getJob(name)).toMatchObject({ id: created.id, state: 'succeeded' })
      // DeleteJobByName
      expect(await h.queue.deleteJobs(name)).toBe(1)
      expect(await h.queue.getJob(name)).toBeNull()
      await expectError(() => h.queue.updateJob(name, { priority: 1 }), 'JOB_KEY_NOT_FOUND', 'nightly-backup')
    })

    it('a name means the job holding the key, else the newest finished job that had it', async () => {
      const h = await open()
      h.queue.register(report, () => {})
      const first = await h.queue.enqueue(report, { n: 1 }, { uniqueKey: 'daily' })
      await h.queue.drain()
      expect(await h.queue.getJob({ key: 'daily' })).toMatchObject({ id: first.id, state: 'succeeded' })
      const second = await h.queue.enqueue(report, { n: 2 }, { uniqueKey: 'daily', delayMs: HOUR })
      expect(second.duplicate).toBe(false)
      expect((await h.queue.getJob({ key: 'daily' }))?.id).toBe(second.id)
      expect((await h.queue.listJobs({ key: 'daily' })).map((j) => j.id)).toEqual([second.id])
      expect((await h.queue.listJobs({ uniqueKey: 'daily' })).map((j) => j.id)).toEqual([second.id, first.id])
      // Deleting by name deletes the named job only; the older one becomes the name's job.
      expect(await h.queue.deleteJobs({ key: 'daily' })).toBe(1)
      expect((await h.queue.getJob({ key: 'daily' }))?.id).toBe(first.id)
      // A finished job named is refused for changes like any finished job.
      const error = await expectError(
        () => h.queue.updateJob({ key: 'daily' }, { priority: 3 }),
        'JOB_NOT_WAITING',
      )
      expect(error).toMatchObject({ jobId: first.id, state: 'succeeded' })
    })

    it('updateJob by name changes the payload, validated with the kind, and answers the job as stored', async () => {
      const h = await open()
      h.queue.register(report, () => {})
      const r = await h.queue.enqueue(report, { n: 1 }, { uniqueKey: 'weekly', delayMs: DAY })
      const updated = await h.queue.updateJob({ key: 'weekly' }, { payload: { n: 2 }, priority: 4 })
      expect(updated).toMatchObject({ id: r.id, payload: { n: 2 }, priority: 4, state: 'scheduled' })
      expect(await job(h, r.id)).toMatchObject({ payload: { n: 2 }, priority: 4 })
    })

    it('updateJob by name replaces the workflow state the next run reads; a paused job is still named', async () => {
      const h = await open()
      const seen: unknown[] = []
      h.queue.register(report, (_p, ctx) => {
        seen.push(ctx.state)
      })
      const r = await h.queue.enqueue(report, { n: 1 }, { uniqueKey: 'monthly', state: { step: 1 } })
      const updated = await h.queue.updateJob({ key: 'monthly' }, { state: { step: 2 } })
      expect(updated).toMatchObject({ id: r.id, state: 'available', workflowState: { step: 2 } })
      // A paused job holds its key: the name still means it, and a change leaves it paused.
      expect(await h.queue.pauseJobs({ ids: [r.id] })).toBe(1)
      expect(await h.queue.getJob({ key: 'monthly' })).toMatchObject({ id: r.id, state: 'paused' })
      const paused = await h.queue.updateJob({ key: 'monthly', kind: 'report' }, { state: { step: 3 } })
      expect(paused).toMatchObject({ id: r.id, state: 'paused', workflowState: { step: 3 } })
      await h.queue.resumeJobs({ ids: [r.id] })
      await h.queue.drain()
      expect(seen).toEqual([{ step: 3 }])
      await expectError(
        () => h.queue.updateJob({ key: 'monthly' }, { state: { step: 4 } }),
        'JOB_NOT_WAITING',
      )
      await expectError(() => h.queue.updateJob({ key: 'nope' }, { state: null }), 'JOB_KEY_NOT_FOUND')
    })

    it('pauseJobs and resumeJobs by name act on the job of that name only, like the other bulk actions', async () => {
      const h = await open()
      const ran: number[] = []
      h.queue.register(report, ({ n }) => {
        ran.push(n)
      })
      const named = await h.queue.enqueue(report, { n: 1 }, { uniqueKey: 'hold-me' })
      const other = await h.queue.enqueue(report, { n: 2 })
      const events: string[] = []
      h.queue.on('paused', ({ job: j }) => events.push(`paused ${j.id}`))
      h.queue.on('resumed', ({ job: j }) => events.push(`resumed ${j.id}`))
      expect(await h.queue.pauseJobs({ key: 'hold-me' })).toBe(1)
      expect((await job(h, named.id)).state).toBe('paused')
      expect((await job(h, other.id)).state).toBe('available')
      // The name combines with the filter's other fields; a name nothing has matches nothing.
      expect(await h.queue.pauseJobs({ key: 'hold-me' })).toBe(0)
      expect(await h.queue.pauseJobs({ key: 'nope' })).toBe(0)
      expect(await h.queue.resumeJobs({ key: 'hold-me', kind: 'backup' })).toBe(0)
      expect(await h.queue.resumeJobs({ key: 'hold-me', ids: [other.id] })).toBe(0)
      expect(await h.queue.resumeJobs({ key: 'nope' })).toBe(0)
      await h.queue.drain()
      expect(ran).toEqual([2])
      expect(await h.queue.resumeJobs({ key: 'hold-me', kind: 'report' })).toBe(1)
      expect(events).toEqual([`paused ${named.id}`, `resumed ${named.id}`])
      await h.queue.drain()
      expect(ran).toEqual([2, 1])
      // Finished, the job is still the name's: nothing to pause.
      expect(await h.queue.pauseJobs({ key: 'hold-me' })).toBe(0)
      await expectError(() => h.queue.pauseJobs({ key: 7 } as Any), 'INVALID_ARGUMENT', 'filter.key')
    })

    it('a key held by jobs of two kinds needs the kind to name one; filters take every holder', async () => {
      const h = await open()
      const a = await h.queue.enqueue(backup, { target: 'a' }, { uniqueKey: 'shared', delayMs: DAY })
      const b = await h.queue.enqueue(report, { n: 1 }, { uniqueKey: 'shared', delayMs: DAY })
      const error = await expectError(
        () => h.queue.getJob({ key: 'shared' }),
        'AMBIGUOUS_JOB_KEY',
        '"backup"',
        '"report"',
        'kind',
      )
      expect(error).toBeInstanceOf(AmbiguousJobKeyError)
      expect(error).toMatchObject({ key: 'shared', kinds: ['report', 'backup'] })
      await expectError(() => h.queue.updateJob({ key: 'shared' }, { priority: 1 }), 'AMBIGUOUS_JOB_KEY')
      expect((await h.queue.getJob({ key: 'shared', kind: 'backup' }))?.id).toBe(a.id)
      expect((await h.queue.updateJob({ key: 'shared', kind: 'report' }, { priority: 9 })).id).toBe(b.id)
      expect((await h.queue.listJobs({ key: 'shared' })).map((j) => j.id)).toEqual([b.id, a.id])
      expect(await h.queue.cancelJobs({ key: 'shared', kind: 'backup' })).toBe(1)
      expect((await job(h, b.id)).state).toBe('scheduled')
      // With backup's job cancelled, only report's job holds the key: the name is no longer ambiguous.
      expect((await h.queue.getJob({ key: 'shared' }))?.id).toBe(b.id)
      expect(await h.queue.cancelJobs({ key: 'shared' })).toBe(1)
    })

    it("a name combines with the filter's other fields, and a name nothing has matches nothing", async () => {
      const h = await open()
      h.queue.register(report, () => {})
      const r = await h.queue.enqueue(report, { n: 1 }, { uniqueKey: 'k' })
      await h.queue.drain()
      const other = await h.queue.enqueue(report, { n: 2 })
      expect(await h.queue.retryJobs({ key: 'k', states: ['failed'] })).toBe(0)
      expect(await h.queue.retryJobs({ key: 'k', ids: [other.id] })).toBe(0)
      expect(await h.queue.deleteJobs({ key: 'k', queue: 'elsewhere' })).toBe(0)
      expect(await h.queue.retryJobs({ key: 'k', kind: 'backup' })).toBe(0)
      expect((await job(h, r.id)).state).toBe('succeeded')
      expect(await h.queue.getJob({ key: 'nope' })).toBeNull()
      expect(await h.queue.getJob({ key: 'k', kind: 'backup' })).toBeNull()
      expect(await h.queue.listJobs({ key: 'nope' })).toEqual([])
      expect(await h.queue.cancelJobs({ key: 'nope' })).toBe(0)
      expect(await h.queue.retryJobs({ key: 'nope' })).toBe(0)
      expect(await h.queue.deleteJobs({ key: 'nope' })).toBe(0)
      const error = await expectError(
        () => h.queue.updateJob({ key: 'nope', kind: 'report' }, { priority: 1 }),
        'JOB_KEY_NOT_FOUND',
        '"nope"',
        '"report"',
      )
      expect(error).toBeInstanceOf(JobKeyNotFoundError)
      expect(error).toMatchObject({ key: 'nope', kind: 'report' })
      expect(await h.queue.retryJobs({ key: 'k', states: ['succeeded'] })).toBe(1)
    })

    it('refuses a bad reference or key filter with INVALID_ARGUMENT, saying what a name is', async () => {
      const h = await open()
      const r = await h.queue.enqueue(report, { n: 1 }, { uniqueKey: 'k', delayMs: DAY })
      const q = h.queue
      for (const bad of [
        {},
        { key: '' },
        { key: 7 },
        { key: null },
        { kind: 'report' },
        null,
        42,
        'abc',
        ['k'],
      ]) {
        await expectError(() => q.getJob(bad as Any), 'INVALID_ARGUMENT', /key|job id/)
        await expectError(() => q.updateJob(bad as Any, { priority: 1 }), 'INVALID_ARGUMENT', /key|job id/)
      }
      await expectError(
        () => q.getJob({ key: 'k', id: r.id } as Any),
        'INVALID_ARGUMENT',
        '"id"',
        'key and kind',
      )
      await expectError(() => q.getJob({ key: 'k', kind: 'no spaces' }), 'INVALID_ARGUMENT', 'kind')
      await expectError(() => q.getJob({ key: 'x'.repeat(513) }), 'INVALID_ARGUMENT', '512')
      await expectError(() => q.cancelJobs({ key: 7 } as Any), 'INVALID_ARGUMENT', 'filter.key')
      await expectError(() => q.listJobs({ key: ['k'] } as Any), 'INVALID_ARGUMENT', 'filter.key')
      expect((await job(h, r.id)).state).toBe('scheduled')
    })

    it('an id with leading zeros is the same job on every store', async () => {
      const h = await open()
      const r = await h.queue.enqueue(report, { n: 1 })
      expect((await h.queue.getJob(`00${r.id}`))?.id).toBe(r.id)
    })
  })
}
