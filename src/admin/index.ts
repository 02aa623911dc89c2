/**
 * `conveyor-jobs/admin`: the admin pages (queues, jobs, schedules, actions) and their JSON API (`/api/v1`)
 * as a Fastify plugin to mount in an application, and as a standalone server with basic
 * authentication for the command line.
 */
export type { AdminOptions, ApiTokenCheck, RequestCheck } from './options.js'
export { ADMIN_MAX_PARAM_LENGTH, adminPlugin } from './plugin.js'
export type { AdminServerOptions, BasicAuthOptions } from './server.js'
export { createAdminServer } from './server.js'
