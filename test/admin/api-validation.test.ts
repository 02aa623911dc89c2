/**
 * The JSON API's validation messages: each names the field once, and says what would be accepted
 * (the known fields, the closest one, the allowed values). They do not depend on the adapter.
 */
import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { unknownFieldError } from '../../src/admin/api/errors.js'
import type { CoreQueue } from '../../src/core/create-queue.js'
import { JOB_STATES } from '../../src/core/domain/job.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { ApiClient } from './api-client.js'
import { adapters, adminApp } from './helpers.js'

const TOKEN = 'test-token-0123456789abcdef0123456789abcdef'
const note = defineJob<{ text?: string }>({ kind: 'note.save' })

describe('admin API validation messages', () => {
  let queue: CoreQueue
  let close: () => Promise<void>
  let app: FastifyInstance
  let api: ApiClient

  beforeEach(async () => {
    const memory = adapters[0]
    if (!memory) throw new Error('no memory adapter')
    ;({ queue, close } = await memory.create())
    app = await adminApp(queue, { apiTokens: [TOKEN], authorize: () => false, jobs: [note] })
    api = new ApiClient(app, { headers: { authorization: `Bearer ${TOKEN}` } })
  })

  afterEach(async () => {
    await app.close()
    await close()
  })

  it('names an unknown field once, suggests the closest known one and lists them all', async () => {
    const answer = await api.post('/jobs', {
      body: { kind: note.kind, payload: {}, options: { delay: 60_000 } },
    })
    expect(answer.status).toBe(400)
    expect(answer.body.error.code).toBe('VALIDATION_FAILED')
    const { message, details } = answer.body.error
    expect(message).toMatch(
      /^The body is not valid: options\.delay is not a known field \(did you mean delayMs\?\); /,
    )
    expect(message).toContain('known fields: queue, priority, ')
    expect(message).toContain(', delayMs, ')
    expect(message).not.toContain('more')
    expect(details.issues).toEqual([
      expect.objectContaining({
        field: 'options.delay',
        message: expect.stringContaining('did you mean delayMs?'),
      }),
    ])
    expect(details.issues[0].allowed).toContain('delayMs')
  })

  it('names a misspelt required field as unknown, with the field it meant, not as the required one missing', async () => {
    const answer = await api.post('/jobs', { body: { knd: note.kind, payload: {} } })
    expect(answer.status).toBe(400)
    expect(answer.body.error.code).toBe('VALIDATION_FAILED')
    expect(answer.body.error.message).toMatch(
      /^The body is not valid: knd is not a known field \(did you mean kind\?\); known fields: kind, /,
    )
    expect(answer.body.error.details.issues).toEqual([
      expect.objectContaining({ field: 'knd', allowed: expect.arrayContaining(['kind', 'payload']) }),
    ])
    // One level down too: a misspelt option beside a missing required field still says what it meant.
    const nested = await api.post('/jobs', { body: { payload: {}, options: { delay: 1 } } })
    expect(nested.body.error.message).toMatch(
      /^The body is not valid: options\.delay is not a known field \(did you mean delayMs\?\)/,
    )
    // And in a query string: GET /jobs/by-key needs key.
    const query = await api.get('/jobs/by-key?kye=order-1')
    expect(query.status).toBe(400)
    expect(query.body.error.message).toBe(
      'The query string is not valid: kye is not a known field (did you mean key?); known fields: key, kind.',
    )
    // Fastify's order stays: a bad path first, then the body, then the query string.
    const badPath = await api.patch('/jobs/abc', { body: { priorty: 1 } })
    expect(badPath.body.error.message).toMatch(/^The path is not valid: id /)
    const badBody = await api.patch('/jobs/by-key?key=k1&kye=x', { body: { priority: 'high' } })
    expect(badBody.body.error.message).toMatch(/^The body is not valid: priority /)
    // Without an unknown field, a missing required one is still reported as such.
    const missing = await api.post('/jobs', { body: { payload: {} } })
    expect(missing.body.error.message).toBe('The body is not valid: kind is required.')
  })

  it('walks only the fields a schema lists (a deep __proto__ chain is not followed)', () => {
    const deep = JSON.parse(`${'{"__proto__":'.repeat(20_000)}{}${'}'.repeat(20_000)}`)
    expect(unknownFieldError({ type: 'object', properties: {} }, deep)).toBeUndefined()
  })

  it('points PATCH /jobs/:id state to workflowState', async () => {
    const job = await queue.enqueue(note, {})
    const answer = await api.patch(`/jobs/${job.id}`, { body: { state: { step: 2 } } })
    expect(answer.status).toBe(400)
    expect(answer.body.error.message).toBe(
      'The body is not valid: state is not a known field (did you mean workflowState?); known fields: runAt, priority, payload, workflowState, expression.',
    )
    expect(answer.body.error.details.issues).toHaveLength(1)
  })

  it('lists the known fields when none is close', async () => {
    const answer = await api.get('/jobs?everything=1')
    expect(answer.status).toBe(400)
    expect(answer.body.error.message).toMatch(
      /^The query string is not valid: everything is not a known field; known fields: queue, kind, /,
    )
    expect(answer.body.error.message).not.toContain('did you mean')
    expect(answer.body.error.details.issues).toHaveLength(1)
  })

  it('lists the allowed values of a field that takes one of a few', async () => {
    const answer = await api.post('/jobs/actions/cancel', { body: { queue: 'default', states: ['bogus'] } })
    expect(answer.status).toBe(400)
    expect(answer.body.error.message).toBe(
      `The body is not valid: states.0 must be one of ${JOB_STATES.join(', ')}.`,
    )
    expect(answer.body.error.details.issues).toEqual([
      expect.objectContaining({ field: 'states.0', allowed: [...JOB_STATES] }),
    ])
  })

  it('still counts the further issues of one request, each once', async () => {
    const job = await queue.enqueue(note, {})
    const answer = await api.patch(`/jobs/${job.id}`, { body: { state: {}, prio: 1 } })
    expect(answer.status).toBe(400)
    const fields = (answer.body.error.details.issues as { field: string }[]).map((i) => i.field)
    expect(fields).toEqual([...new Set(fields)])
    expect(answer.body.error.message).toMatch(/is not a known field/)
  })
})
