import { defineJob } from 'conveyor-jobs'
import { adaptPrismaTransaction, createPostgresQueue } from 'conveyor-jobs/postgres'
import { expect } from 'vitest'
import { exampleDatabase, testWithPostgres } from './example-database.js'
import { examplePrismaClient } from './example-prisma.js'

const sendReceipt = defineJob<{ orderId: number }>({ kind: 'send-receipt' })

testWithPostgres(
  'Prisma: the job exists if and only if the transaction commits',
  async () => {
    const { connectionString, schema } = exampleDatabase()
    const queue = createPostgresQueue({ connectionString, schema })
    await queue.migrate()
    // new PrismaClient({ adapter: new PrismaPg({ connectionString }, { schema }) }), model Order { id, total }
    const prisma = await examplePrismaClient(connectionString, schema)
    await prisma.$executeRawUnsafe(
      `CREATE TABLE "${schema}".orders (id serial PRIMARY KEY, total int NOT NULL)`,
    )

    async function placeOrder(total: number, fail: boolean) {
      await prisma.$transaction(async (tx) => {
        const order = await tx.order.create({ data: { total } })
        await queue.enqueue(sendReceipt, { orderId: order.id }, { tx: adaptPrismaTransaction(tx) })
        if (fail) throw new Error('payment declined') // rolls back the order and its job
      })
    }

    await placeOrder(100, false)
    await expect(placeOrder(200, true)).rejects.toThrow('payment declined')

    const jobs = await queue.listJobs({ kind: 'send-receipt' })
    expect(jobs.map((j) => j.payload)).toEqual([{ orderId: 1 }]) // the rolled-back order has no job
    expect((await prisma.order.findMany()).map((o) => o.total)).toEqual([100])

    await queue.shutdown()
    await prisma.$disconnect()
  },
  120_000,
)
