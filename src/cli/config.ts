/**
 * The command line's configuration from the environment. This is the only place in Conveyor that
 * reads `process.env`; everything else receives these values as arguments.
 */

/** Settings the environment may provide; flags override them. */
export interface EnvironmentConfig {
  /** `DATABASE_URL`: the PostgreSQL server to use. */
  readonly databaseUrl: string | undefined
  /** `CONVEYOR_ADMIN_USER`: user name of the admin page's basic authentication. */
  readonly adminUser: string | undefined
  /** `CONVEYOR_ADMIN_PASSWORD`: password of the admin page (safer than a flag, which `ps` shows). */
  readonly adminPassword: string | undefined
  /** `CONVEYOR_API_TOKENS`: comma-separated bearer tokens that open the admin's JSON API to machine clients. */
  readonly apiTokens: string | undefined
}

/** Reads the command line's settings from the process environment (empty values count as unset). */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env): EnvironmentConfig {
  const value = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name])
  return {
    databaseUrl: value('DATABASE_URL'),
    adminUser: value('CONVEYOR_ADMIN_USER'),
    adminPassword: value('CONVEYOR_ADMIN_PASSWORD'),
    apiTokens: value('CONVEYOR_API_TOKENS'),
  }
}
