/** The JSON API's storage health route. */
import type { FastifyInstance } from 'fastify'
import type { AdminContext } from '../context.js'
import { readStorageHealth } from '../operations/storage.js'
import { storageHealthDto } from './dto.js'
import { documented, errorResponses } from './schemas.js'
import { storageHealthSchema } from './schemas-storage.js'

/** Registers `GET /storage/health` on the API scope. */
export function registerStorageRoutes(api: FastifyInstance, ctx: AdminContext): void {
  api.get(
    '/storage/health',
    {
      schema: documented({
        summary:
          'Storage health: dead tuples and sizes of the queue’s tables, what holds the xmin horizon, and warnings (null on a store that cannot read it, such as the memory store)',
        tags: ['queues'],
        response: {
          200: {
            type: 'object',
            required: ['storageHealth'],
            properties: { storageHealth: { ...storageHealthSchema, type: ['object', 'null'] } },
          },
          ...errorResponses(),
        },
      }),
    },
    async () => {
      const health = await readStorageHealth(ctx.queue)
      return { storageHealth: health === null ? null : storageHealthDto(health) }
    },
  )
}
