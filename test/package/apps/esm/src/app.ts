// An application's own code: a job definition and a producer that only needs an Enqueuer.
import { defineJob, type Enqueuer } from 'conveyor-jobs'

export const sendWelcome = defineJob<{ userId: number; email: string }>({
  kind: 'send-welcome',
  maxAttempts: 5,
})

export async function signUp(queue: Enqueuer, user: { id: number; email: string }): Promise<void> {
  await queue.enqueue(sendWelcome, { userId: user.id, email: user.email }, { delayMs: 60_000 })
}
