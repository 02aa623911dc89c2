/** The GET routes: overview, job list, job detail and schedules. */
import type { FastifyInstance } from 'fastify'
import { type AdminContext, makeView, sendPage } from '../context.js'
import { type FilterFields, toJobFilter } from '../filter.js'
import { findJob, searchJobs } from '../operations/jobs.js'
import { listOrphans, listQueues } from '../operations/queues.js'
import { listSchedules } from '../operations/schedules.js'
import { readStorageHealth } from '../operations/storage.js'
import { jobDetailPage } from '../pages/job-detail.js'
import { jobsPage } from '../pages/jobs.js'
import { overviewPage } from '../pages/overview.js'
import { schedulesPage } from '../pages/schedules.js'
import type { StorageHealthState } from '../pages/storage-health.js'
import { cachedQueueNames } from '../queue-names.js'
import { htmlResponse, ID_PATTERN, jobListQuerySchema } from '../schemas.js'

/** Query string of the job list. */
interface JobListQuery extends FilterFields {
  readonly before?: string
  readonly limit?: number
}

const pageSchema = { response: { 200: htmlResponse } }

/** Registers the pages on the plugin's instance. */
export function registerPages(app: FastifyInstance, ctx: AdminContext): void {
  const queueNames = cachedQueueNames(ctx.queue)

  app.get('/', { schema: pageSchema }, async (request, reply) => {
    const view = await makeView(ctx, request, reply)
    const [queues, orphans, health] = await Promise.all([
      listQueues(ctx.queue, view.now, ctx.sampleSize),
      listOrphans(ctx.queue),
      // A failed health read must not take the queues overview down with it.
      readStorageHealth(ctx.queue).catch((error: unknown): StorageHealthState => {
        request.log.warn({ err: error }, 'conveyor admin: could not read the storage health')
        return 'unavailable'
      }),
    ])
    queueNames.remember(queues.map((q) => q.queue))
    return sendPage(ctx, request, reply, view, overviewPage(view, queues, orphans, health))
  })

  app.get<{ Querystring: JobListQuery }>(
    '/jobs',
    { schema: { querystring: jobListQuerySchema, ...pageSchema } },
    async (request, reply) => {
      const { before: rawBefore, limit: rawLimit, ...fields } = request.query
      const filter = toJobFilter(fields)
      const limit = rawLimit ?? ctx.pageSize
      const before = rawBefore ? rawBefore : undefined
      const view = await makeView(ctx, request, reply)
      const [found, names, orphans] = await Promise.all([
        searchJobs(ctx.queue, filter, { limit, before }),
        queueNames.get(),
        listOrphans(ctx.queue),
      ])
      const page = jobsPage(view, {
        fields,
        jobs: found.jobs,
        hasMore: found.nextCursor !== null,
        before,
        limit: rawLimit,
        queueNames: names,
        orphans: orphans.jobs,
      })
      return sendPage(ctx, request, reply, view, page)
    },
  )

  app.get<{ Params: { id: string } }>(
    '/jobs/:id',
    {
      schema: {
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', pattern: ID_PATTERN } },
        },
        ...pageSchema,
      },
    },
    async (request, reply) => {
      const job = await findJob(ctx.queue, request.params.id)
      const view = await makeView(ctx, request, reply)
      return sendPage(ctx, request, reply, view, jobDetailPage(view, job))
    },
  )

  app.get('/schedules', { schema: pageSchema }, async (request, reply) => {
    const view = await makeView(ctx, request, reply)
    const schedules = await listSchedules(ctx)
    return sendPage(ctx, request, reply, view, schedulesPage(view, schedules))
  })
}
