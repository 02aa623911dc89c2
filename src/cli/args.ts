/**
 * Command specifications and flag parsing with `node:util`'s `parseArgs`, whose errors become
 * `UsageError`s that name the flag, say what is wrong and suggest the flag that was probably meant.
 */
import { parseArgs } from 'node:util'
import { editDistance } from '../core/domain/edit-distance.js'
import { UsageError } from './errors.js'

/** One flag of a command. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean'
  readonly short?: string
  /** May be given several times (values are collected in order). */
  readonly multiple?: boolean
  /** Placeholder of the value in the help text, e.g. `<url>`. */
  readonly value?: string
  /** One line for the help text. */
  readonly description: string
}

/** A command: its name, help texts and flags. */
export interface CommandSpec {
  readonly name: string
  /** One line, shown in the list of commands. */
  readonly summary: string
  /** Paragraphs shown by `conveyor <command> --help` after the usage line. */
  readonly details?: readonly string[]
  readonly options: Readonly<Record<string, OptionSpec>>
  /** Example command lines. */
  readonly examples?: readonly string[]
}

/** Parsed flag values by long name. */
export type FlagValues = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>

/** The `--help` flag every command accepts. */
export const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' }

/** Parses `argv` (the words after the command name) against the command's flags. */
export function parseFlags(spec: CommandSpec, argv: readonly string[]): FlagValues {
  const options = { ...spec.options, help: HELP_OPTION }
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: Object.fromEntries(
        Object.entries(options).map(([name, o]) => [
          name,
          { type: o.type, ...(o.short ? { short: o.short } : {}), multiple: o.multiple === true },
        ]),
      ),
      strict: true,
      allowPositionals: false,
    })
    return values
  } catch (error) {
    throw translateParseError(error, spec, Object.keys(options))
  }
}

/** The value of a string flag given once (the last one wins when repeated by mistake). */
export function stringFlag(values: FlagValues, name: string): string | undefined {
  const value = values[name]
  if (Array.isArray(value)) return value.length === 0 ? undefined : String(value[value.length - 1])
  return typeof value === 'string' ? value : undefined
}

/** All values of a repeatable string flag, each also split on commas (`--state failed,cancelled`). */
export function listFlag(values: FlagValues, name: string): string[] {
  const value = values[name]
  const raw = Array.isArray(value) ? value : value === undefined ? [] : [value]
  return raw
    .flatMap((v) => String(v).split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '')
}

/** True when a boolean flag was given. */
export function booleanFlag(values: FlagValues, name: string): boolean {
  return values[name] === true
}

/** Parses a TCP port (0 picks a free one). */
export function portFlag(values: FlagValues, name: string, fallback: number, command: string): number {
  const text = stringFlag(values, name)
  if (text === undefined) return fallback
  const port = Number(text)
  if (!/^\d+$/.test(text) || port > 65_535) {
    throw new UsageError(`--${name} must be a port number from 0 to 65535, got "${text}"`, command)
  }
  return port
}

/** Parses a whole number within bounds. */
export function integerFlag(
  values: FlagValues,
  name: string,
  bounds: { fallback: number; min: number; max: number },
  command: string,
): number {
  const text = stringFlag(values, name)
  if (text === undefined) return bounds.fallback
  const n = Number(text)
  if (!/^\d+$/.test(text) || n < bounds.min || n > bounds.max) {
    throw new UsageError(
      `--${name} must be a whole number from ${bounds.min} to ${bounds.max}, got "${text}"`,
      command,
    )
  }
  return n
}

function translateParseError(error: unknown, spec: CommandSpec, known: readonly string[]): unknown {
  const code = (error as { code?: unknown } | null)?.code
  const message = error instanceof Error ? error.message : String(error)
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? ''
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const name = quoted.replace(/^-+/, '').split('=')[0] ?? ''
    const guess = closest(name, known)
    const hint = guess ? ` (did you mean --${guess}?)` : ''
    return new UsageError(`unknown option ${quoted} for \`conveyor ${spec.name}\`${hint}`, spec.name)
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const flag = /--[\w-]+/.exec(quoted)?.[0] ?? quoted
    const option = spec.options[flag.replace(/^-+/, '')]
    if (option?.type === 'boolean' || message.includes('does not take an argument')) {
      return new UsageError(`option ${flag} takes no value`, spec.name)
    }
    return new UsageError(
      `option ${flag} needs a value${option?.value ? `: ${flag} ${option.value}` : ''}`,
      spec.name,
    )
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    return new UsageError(`unexpected argument "${quoted}" for \`conveyor ${spec.name}\``, spec.name)
  }
  return error
}

/** The known name nearest to `name` (edit distance at most 2, or a prefix), for "did you mean". */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined
  for (const candidate of known) {
    const distance = candidate.startsWith(name) && name.length >= 2 ? 1 : editDistance(name, candidate)
    if (distance <= 2 && (best === undefined || distance < best.distance))
      best = { name: candidate, distance }
  }
  return best?.name
}
