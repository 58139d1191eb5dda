// LOG_FORMAT: JSON lines for log collectors (journald, Docker, Loki), or pino-pretty's readable lines
// for a person at a terminal. Unset (auto): pretty when the output is a terminal, JSON otherwise.
import { createRequire } from 'node:module'
import type { DestinationStream } from 'pino'
import type Pretty from 'pino-pretty'

export const LOG_FORMATS = ['json', 'pretty', 'auto'] as const
export type LogFormatSetting = typeof LOG_FORMATS[number]
export type LogFormat = 'json' | 'pretty'

/** `auto` → pretty for a terminal, JSON for a pipe or a file. */
export function resolveLogFormat (setting: LogFormatSetting, isTTY: boolean): LogFormat {
  return setting === 'auto' ? (isTTY ? 'pretty' : 'json') : setting
}

/**
 * Where pino writes: `out` itself for JSON (undefined = pino's own fast stdout), or a pino-pretty
 * stream into `out` (colours only on a terminal).
 */
export function logDestination (setting: LogFormatSetting, out?: NodeJS.WritableStream): DestinationStream | undefined {
  const target = out ?? process.stdout
  const isTTY = (target as { isTTY?: boolean }).isTTY === true
  if (resolveLogFormat(setting, isTTY) === 'json') return out as DestinationStream | undefined
  // Loaded only here (issue 16, start-up): 32 modules a gateway logging JSON never uses.
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof Pretty
  // stdout as fd 1 with sync writes: the last lines before process.exit() ("shutdown complete") are not lost.
  return pretty({ destination: out ?? 1, colorize: isTTY, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true, sync: true })
}
