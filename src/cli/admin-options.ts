/**
 * The admin page's flags and sign-in: credentials from flags or the environment, and a random
 * password (printed once) when none is given.
 */
import { randomBytes } from 'node:crypto'
import { API_TOKEN_RULE, isApiToken } from '../admin/options.js'
import { type FlagValues, type OptionSpec, stringFlag } from './args.js'
import type { EnvironmentConfig } from './config.js'
import { UsageError } from './errors.js'

/** The flags of the admin page's address and sign-in. */
export const ADMIN_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  port: {
    type: 'string',
    short: 'p',
    value: '<port>',
    description: 'port of the admin page (default: 3000; 0 picks a free one)',
  },
  host: {
    type: 'string',
    value: '<host>',
    description: 'address to listen on (default: localhost; 0.0.0.0 for every interface)',
  },
  user: {
    type: 'string',
    value: '<name>',
    description: 'basic-auth user name (default: $CONVEYOR_ADMIN_USER or admin)',
  },
  password: {
    type: 'string',
    value: '<secret>',
    description:
      'basic-auth password, 8+ characters (default: $CONVEYOR_ADMIN_PASSWORD, else a random one is printed)',
  },
}

/** Basic-auth credentials, and whether the password was made up here (so it must be shown). */
export interface AdminCredentials {
  readonly username: string
  readonly password: string
  readonly generated: boolean
}

/** Reads the credentials from flags, then the environment; makes a random password when none is set. */
export function adminCredentials(
  values: FlagValues,
  env: EnvironmentConfig,
  command: string,
): AdminCredentials {
  const username = stringFlag(values, 'user') ?? env.adminUser ?? 'admin'
  if (username === '' || username.includes(':')) {
    throw new UsageError('the user name must not be empty nor contain ":"', command)
  }
  const given = stringFlag(values, 'password') ?? env.adminPassword
  if (given !== undefined && given.length < 8) {
    throw new UsageError('the admin password must be at least 8 characters long', command)
  }
  if (given !== undefined) return { username, password: given, generated: false }
  return { username, password: randomBytes(12).toString('base64url'), generated: true }
}

/** The JSON API's bearer tokens from `CONVEYOR_API_TOKENS` (comma-separated), or undefined when unset. */
export function apiTokens(env: EnvironmentConfig, command: string): string[] | undefined {
  if (env.apiTokens === undefined) return undefined
  const tokens = env.apiTokens
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
  if (tokens.length === 0) return undefined
  for (const [i, token] of tokens.entries()) {
    if (!isApiToken(token))
      throw new UsageError(`CONVEYOR_API_TOKENS: token ${i + 1} ${API_TOKEN_RULE}`, command)
  }
  return tokens
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.')
}
