/**
 * The POST routes: job actions (one job or a filtered selection) and pause/resume. Each is refused
 * in read-only mode and without a valid CSRF token, asks for confirmation when destructive, and
 * answers with a redirect back carrying a flash message that says what it did (POST-redirect-GET).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ConveyorError } from '../../core/domain/errors.js'
import type { JsonValue } from '../../core/domain/json.js'
import { type AdminContext, makeView, safeBack, sendPage } from '../context.js'
import { CSRF_FIELD, csrfTokenValid } from '../csrf.js'
import { AdminHttpError } from '../errors.js'
import { activeFields, describeFilter, type FilterFields, toJobFilter } from '../filter.js'
import { type Flash, setFlash } from '../flash.js'
import { plural } from '../format.js'
import {
  APPLIES_TO,
  actOnFilter,
  actOnJob,
  DONE,
  JOB_ACTIONS,
  type JobAction,
  NOT_APPLICABLE,
  narrowFilter,
} from '../operations/job-actions.js'
import { updateJob } from '../operations/jobs.js'
import { setQueuePaused } from '../operations/queues.js'
import { type Confirmation, confirmPage } from '../pages/confirm.js'
import { actionBodySchema, actionResponses, bulkBodySchema, editBodySchema, ID_PATTERN } from '../schemas.js'

/** Fields every action form posts. */
interface ActionBody {
  readonly _csrf?: string
  readonly back?: string
  readonly confirmed?: string
}

const NAME = { type: 'string', maxLength: 128, pattern: '^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$' } as const

/** Registers the actions on the plugin's instance. */
export function registerActions(app: FastifyInstance, ctx: AdminContext): void {
  // Checked before the body is validated, so a forged request learns nothing about the fields.
  const preValidation = async (request: FastifyRequest) => {
    if (await ctx.readOnly(request)) {
      throw new AdminHttpError(403, 'This admin page is read-only: actions are turned off.', 'READ_ONLY')
    }
    if (request.headers['sec-fetch-site'] === 'cross-site') {
      throw new AdminHttpError(403, 'Form posts from other sites are refused.', 'CROSS_SITE_REFUSED')
    }
    const token = (request.body as Record<string, unknown> | undefined)?.[CSRF_FIELD]
    if (!csrfTokenValid(request, ctx.secret, token)) {
      throw new AdminHttpError(
        403,
        'The form’s security token is missing or does not match: reload the page and try again.',
        'CSRF_TOKEN_INVALID',
      )
    }
  }

  app.post<{ Params: { id: string }; Body: ActionBody & { workflowState?: string; expression?: string } }>(
    '/jobs/:id/edit',
    {
      preValidation,
      schema: {
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', pattern: ID_PATTERN } },
        },
        body: editBodySchema,
        response: actionResponses,
      },
    },
    async (request, reply) => {
      const { id } = request.params
      const back = safeBack(request.body.back)
      const text = request.body.workflowState?.trim() ?? ''
      const expression = request.body.expression?.trim() ?? ''
      let state: JsonValue | undefined
      if (text !== '') {
        try {
          state = JSON.parse(text) as JsonValue
        } catch {
          return redirect(ctx, request, reply, back, {
            kind: 'error',
            text: `Job ${id} was left as it was: the workflow state is not valid JSON (write null to clear it, or leave the field empty to keep it).`,
          })
        }
      }
      if (state === undefined && expression === '') {
        return redirect(ctx, request, reply, back, {
          kind: 'error',
          text: `Job ${id} was left as it was: give a workflow state or a new expression.`,
        })
      }
      try {
        await updateJob(ctx, id, {
          ...(state !== undefined ? { state } : {}),
          ...(expression !== '' ? { expression } : {}),
        })
      } catch (error) {
        if (!(error instanceof ConveyorError)) throw error
        return redirect(ctx, request, reply, back, {
          kind: 'error',
          text: `Job ${id} was left as it was: ${error.message}`,
        })
      }
      const what = [
        state !== undefined ? 'workflow state' : '',
        expression !== '' ? 'schedule expression' : '',
      ]
        .filter(Boolean)
        .join(' and ')
      return redirect(ctx, request, reply, back, { kind: 'ok', text: `Changed the ${what} of job ${id}.` })
    },
  )

  app.post<{ Params: { id: string; action: JobAction }; Body: ActionBody }>(
    '/jobs/:id/:action',
    {
      preValidation,
      schema: {
        params: {
          type: 'object',
          required: ['id', 'action'],
          properties: {
            id: { type: 'string', pattern: ID_PATTERN },
            action: { type: 'string', enum: JOB_ACTIONS },
          },
        },
        body: actionBodySchema,
        response: actionResponses,
      },
    },
    async (request, reply) => {
      const { id, action } = request.params
      let back = safeBack(request.body.back)
      if ((action === 'cancel' || action === 'delete') && request.body.confirmed !== '1') {
        const question =
          action === 'cancel' ? `Cancel job ${id}?` : `Delete job ${id}? This cannot be undone.`
        return confirm(ctx, request, reply, back, {
          question,
          path: `/jobs/${id}/${action}`,
          label: DONE_LABEL[action],
          fields: {},
        })
      }
      const count = await actOnJob(ctx.queue, action, id)
      if (action === 'delete' && count > 0 && back.startsWith(`/jobs/${id}`)) back = '/jobs'
      const flash: Flash =
        count > 0
          ? { kind: 'ok', text: `${DONE[action]}: job ${id}.` }
          : { kind: 'error', text: `Job ${id} was left as it was: ${NOT_APPLICABLE[action]}.` }
      return redirect(ctx, request, reply, back, flash)
    },
  )

  app.post<{ Params: { action: JobAction }; Body: ActionBody & FilterFields }>(
    '/bulk/:action',
    {
      preValidation,
      schema: {
        params: {
          type: 'object',
          required: ['action'],
          properties: { action: { type: 'string', enum: JOB_ACTIONS } },
        },
        body: bulkBodySchema,
        response: actionResponses,
      },
    },
    async (request, reply) => {
      const { action } = request.params
      const { _csrf, back: rawBack, confirmed, ...fields } = request.body
      const back = safeBack(rawBack)
      const active = activeFields(fields)
      if (Object.keys(active).length === 0) {
        throw new AdminHttpError(
          400,
          'A bulk action needs a filter: choose a queue, kind, state or other criterion first.',
          'FILTER_REQUIRED',
        )
      }
      const filter = toJobFilter(fields)
      const what = describeFilter(fields)
      if (confirmed !== '1') {
        const question = `${DONE_LABEL[action]} every job matching ${what} (${APPLIES_TO[action]})?`
        return confirm(ctx, request, reply, back, {
          question,
          path: `/bulk/${action}`,
          label: DONE_LABEL[action],
          fields: active,
        })
      }
      if (narrowFilter(action, filter) === null) {
        return redirect(ctx, request, reply, back, {
          kind: 'error',
          text: `Nothing to do: ${action} applies to ${APPLIES_TO[action]}, and the filter ${what} selects none of those states.`,
        })
      }
      const count = await actOnFilter(ctx.queue, action, filter)
      return redirect(ctx, request, reply, back, {
        kind: count > 0 ? 'ok' : 'error',
        text: `${DONE[action]}: ${plural(count, 'job')} matching ${what}.`,
      })
    },
  )

  app.post<{ Params: { queue: string; action: 'pause' | 'resume' }; Body: ActionBody }>(
    '/queues/:queue/:action',
    {
      preValidation,
      schema: {
        params: {
          type: 'object',
          required: ['queue', 'action'],
          properties: { queue: NAME, action: { type: 'string', enum: ['pause', 'resume'] } },
        },
        body: actionBodySchema,
        response: actionResponses,
      },
    },
    async (request, reply) => {
      const { queue, action } = request.params
      const back = safeBack(request.body.back)
      if (action === 'pause' && request.body.confirmed !== '1') {
        const question = `Pause queue ${queue}? Workers stop claiming its jobs until it is resumed.`
        return confirm(ctx, request, reply, back, {
          question,
          path: `/queues/${encodeURIComponent(queue)}/pause`,
          label: 'Pause',
          fields: {},
        })
      }
      await setQueuePaused(ctx.queue, queue, action === 'pause')
      return redirect(ctx, request, reply, back, {
        kind: 'ok',
        text:
          action === 'pause'
            ? `Paused queue ${queue}: no worker claims its jobs now.`
            : `Resumed queue ${queue}.`,
      })
    },
  )
}

const DONE_LABEL: Readonly<Record<JobAction, string>> = {
  retry: 'Retry',
  run: 'Run now',
  cancel: 'Cancel',
  delete: 'Delete',
  pause: 'Pause',
  resume: 'Resume',
}

async function confirm(
  ctx: AdminContext,
  request: FastifyRequest,
  reply: FastifyReply,
  back: string,
  confirmation: Confirmation,
): Promise<FastifyReply> {
  const view = await makeView(ctx, request, reply, back)
  return sendPage(ctx, request, reply, view, confirmPage(view, confirmation))
}

function redirect(
  ctx: AdminContext,
  request: FastifyRequest,
  reply: FastifyReply,
  back: string,
  flash: Flash,
): FastifyReply {
  setFlash(request, reply, ctx.secret, ctx.cookiePath, flash)
  return reply.redirect(`${ctx.prefix}${back}`, 303)
}
