/** The GET routes: overview, job list, job detail and schedules. */
import type { FastifyInstance } from 'fastify'
import { type AdminContext, makeView, sendPage } from '../context.js'
import { AdminHttpError } from '../errors.js'
import { type FilterFields, toJobFilter } from '../filter.js'
import { queueOverviews } from '../metrics.js'
import { jobDetailPage } from '../pages/job-detail.js'
import { jobsPage } from '../pages/jobs.js'
import { overviewPage } from '../pages/overview.js'
import { schedulesPage } from '../pages/schedules.js'
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
    const queues = await queueOverviews(ctx.queue, view.now, ctx.sampleSize)
    queueNames.remember(queues.map((q) => q.queue))
    return sendPage(ctx, request, reply, view, overviewPage(view, queues))
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
      // One extra row tells whether an older page exists; keyset paging never counts or skips rows.
      const [rows, names] = await Promise.all([
        ctx.queue.listJobs(filter, { limit: limit + 1, ...(before ? { beforeId: before } : {}) }),
        queueNames.get(),
      ])
      const page = jobsPage(view, {
        fields,
        jobs: rows.slice(0, limit),
        hasMore: rows.length > limit,
        before,
        limit: rawLimit,
        queueNames: names,
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
      const job = await ctx.queue.getJob(request.params.id)
      if (job === null)
        throw new AdminHttpError(
          404,
          `There is no job ${request.params.id} (it may have been deleted or pruned).`,
        )
      const view = await makeView(ctx, request, reply)
      return sendPage(ctx, request, reply, view, jobDetailPage(view, job))
    },
  )

  app.get('/schedules', { schema: pageSchema }, async (request, reply) => {
    const view = await makeView(ctx, request, reply)
    const schedules = await ctx.queue.listSchedules()
    return sendPage(ctx, request, reply, view, schedulesPage(view, schedules))
  })
}
