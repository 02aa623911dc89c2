/** The parent-side driver of every queue system. */
import type { QueueSystem, SystemDriver } from '../lib/types.js'
import { bullmqDriver } from './bullmq.js'
import { conveyorDriver } from './conveyor.js'
import { graphileWorkerDriver } from './graphile-worker.js'
import { pgBossDriver } from './pg-boss.js'

export const DRIVERS: Record<QueueSystem, SystemDriver> = {
  conveyor: conveyorDriver,
  'pg-boss': pgBossDriver,
  'graphile-worker': graphileWorkerDriver,
  bullmq: bullmqDriver,
}
