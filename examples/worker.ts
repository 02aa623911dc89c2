// worker.ts: run with `DATABASE_URL=postgres://user@host/db npx tsx worker.ts` (ESM, Node >= 20)
import { defineJob } from 'conveyor-jobs'
import { createPostgresQueue } from 'conveyor-jobs/postgres'

const sendEmail = defineJob<{ to: string }>({ kind: 'send-email' })

const queue = createPostgresQueue({ connectionString: process.env.DATABASE_URL })
await queue.migrate() // creates the tables in schema "conveyor" the first time; safe on every start

queue.register(sendEmail, async ({ to }, ctx) => {
  console.log(`sent to ${to} (attempt ${ctx.attempt})`)
})
await queue.start()
await queue.enqueue(sendEmail, { to: 'ada@example.com' }) // usually done by your web app

// Ctrl-C (SIGINT), docker stop, Kubernetes and systemd (SIGTERM): finish running jobs, then exit
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void queue.shutdown())
