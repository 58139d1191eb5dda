// Legacy call ids `YYMMDDhhmmss_N-L` (webhooks.md §2): the time prefix is when the call reached the
// PBX, in the PBX's time zone; N is 3CX's runtime callid; L the link counter the gateway keeps.
// The chain id (`chid`) is the same for every link: `YYMMDDhhmmss_N`.

const formatters = new Map<string, Intl.DateTimeFormat>()
const PARTS = ['year', 'month', 'day', 'hour', 'minute', 'second'] as const

function formatterFor (timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (f === undefined) {
    const twoDigits = Object.fromEntries(PARTS.map((p) => [p, '2-digit']))
    f = new Intl.DateTimeFormat('en-GB', { timeZone, hourCycle: 'h23', ...twoDigits })
    formatters.set(timeZone, f)
  }
  return f
}

const two = (n: number): string => (n < 10 ? `0${n}` : String(n))

/** `YYMMDDhhmmss` of `at` in UTC, without Intl (whose first formatter loads time zone data: ~25 ms of start-up). */
function utcPrefix (at: number): string {
  const d = new Date(at)
  return two(d.getUTCFullYear() % 100) + two(d.getUTCMonth() + 1) + two(d.getUTCDate()) + two(d.getUTCHours()) + two(d.getUTCMinutes()) + two(d.getUTCSeconds())
}

/** `YYMMDDhhmmss` of `at` (ms since epoch) in `timeZone` (IANA name). */
export function legacyTimePrefix (at: number, timeZone: string): string {
  if (timeZone === 'UTC') return utcPrefix(at)
  const parts: Record<string, string> = {}
  for (const p of formatterFor(timeZone).formatToParts(new Date(at))) parts[p.type] = p.value
  return PARTS.map((p) => parts[p]).join('')
}

/** `YYMMDDhhmmss_N`: one value for every link of a call chain. */
export function chainId (prefix: string, callid: number): string {
  return `${prefix}_${callid}`
}

/** `YYMMDDhhmmss_N-L`. */
export function legacyCallId (chid: string, link: number): string {
  return `${chid}-${link}`
}

export interface ParsedLegacyCallId { chid: string, prefix: string, callid: number, link: number }

/** Splits a legacy call id; null when it does not have the `YYMMDDhhmmss_N-L` shape. */
export function parseLegacyCallId (id: string): ParsedLegacyCallId | null {
  const m = /^(\d{12})_(\d+)-(\d+)$/.exec(id)
  if (m === null) return null
  return { chid: `${m[1]}_${m[2]}`, prefix: m[1], callid: Number(m[2]), link: Number(m[3]) }
}
