// An application's own code: a job definition and a producer that only needs an Enqueuer.
import conveyor = require('conveyor-jobs')

export const sendWelcome = conveyor.defineJob<{ userId: number; email: string }>({
  kind: 'send-welcome',
  maxAttempts: 5,
})

export async function signUp(queue: conveyor.Enqueuer, user: { id: number; email: string }): Promise<void> {
  await queue.enqueue(sendWelcome, { userId: user.id, email: user.email }, { delayMs: 60_000 })
}
