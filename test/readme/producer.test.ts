import { defineJob, type Enqueuer } from 'conveyor-jobs'
import { createMemoryQueue } from 'conveyor-jobs/memory'
import { expect, test } from 'vitest'
import { z } from 'zod'

// Application code: a job definition and a producer that only needs an Enqueuer.
const sendWelcome = defineJob({
  kind: 'send-welcome',
  schema: z.object({ userId: z.number(), email: z.email() }),
  maxAttempts: 5,
})

async function signUp(queue: Enqueuer, user: { id: number; email: string }) {
  // ... insert the user ...
  await queue.enqueue(sendWelcome, { userId: user.id, email: user.email }, { delayMs: 60_000 })
}

// The unit test: no database, no waiting.
test('signing up queues a welcome email one minute later', async () => {
  const queue = createMemoryQueue()
  await signUp(queue, { id: 7, email: 'ada@example.com' })

  queue.assert.queued(sendWelcome, { userId: 7 }, { runAt: queue.clock.now() + 60_000 })
  queue.assert.queuedTotal(1)

  // Run it as the worker would, once it is due.
  const sent: string[] = []
  queue.register(sendWelcome, async ({ email }) => {
    sent.push(email)
  })
  expect(await queue.drain()).toMatchObject({ total: 0 }) // not due yet
  queue.clock.advance(60_000)
  expect(await queue.drain()).toMatchObject({ succeeded: 1 })
  expect(sent).toEqual(['ada@example.com'])
  queue.assert.empty()
})

test('invalid input is refused at enqueue', async () => {
  const queue = createMemoryQueue()
  await expect(signUp(queue, { id: 8, email: 'not-an-email' })).rejects.toMatchObject({
    code: 'INVALID_PAYLOAD',
  })
  queue.assert.notQueued(sendWelcome)
})
