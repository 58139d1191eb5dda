// Where a request carries its API key (legacy-api.md §1), in one place: the path segment after
// `/webapi/`, the `key` query parameter, the X-API-Key header. The auth plugin reads the key from
// here, and log lines and error messages remove it with the same understanding, applied to the URL
// as the router and the query parser decode it: `/%77ebapi/K/…` and `?%6bey=K` authenticate too,
// so redaction decodes before it looks. Decoding only happens when the URL has a `%` (hot path).

export const KEY_HEADER = 'x-api-key'
export const KEY_QUERY_PARAM = 'key'
export const REDACTED = '[redacted]'

/** Headers a key (or another credential) may arrive in; censored wherever headers are logged. */
export const CREDENTIAL_HEADERS = [KEY_HEADER, 'authorization', 'proxy-authorization', 'cookie']

/** Path segments whose next segment is a credential: `/webapi/{key}/…`, `/recordings/{token}/{file}`. */
const SECRET_AFTER = new Set(['webapi', 'recordings'])
/** Cheap test: can an undecoded path hold one of SECRET_AFTER at all? */
const SECRET_AFTER_HINT = /webapi|recordings/i
/**
 * Query/matrix parameter names whose value is redacted, compared lower-case without punctuation
 * and without a `[…]` suffix: `key`, `Key[]`, `api_key`, `X-API-Key`, and other credential names
 * clients guess. Over-redacting a log line is harmless; under-redacting leaks a key.
 */
const SECRET_PARAMS = new Set(['key', 'apikey', 'xapikey', 'authorization', 'auth', 'token', 'accesstoken', 'apitoken'])

interface KeyCarrier {
  params?: unknown
  query?: unknown
  headers: Record<string, string | string[] | undefined>
}

/** The key a request presents, read where the router and query parser put it: path, query, header. */
export function presentedKey (req: KeyCarrier): string | undefined {
  const fromPath = (req.params as { key?: unknown } | undefined)?.key
  if (typeof fromPath === 'string') return fromPath
  const fromQuery = (req.query as Record<string, unknown> | undefined)?.[KEY_QUERY_PARAM]
  if (typeof fromQuery === 'string') return fromQuery
  const fromHeader = req.headers[KEY_HEADER]
  return typeof fromHeader === 'string' ? fromHeader : undefined
}

/**
 * The places a request carries its key in (path, `key` parameter, X-API-Key header), for the error,
 * when they hold different keys; null when there is one key, or the same one in several places.
 * presentedKey() would take the path's: the gateway never picks one of two keys for the caller.
 */
export function conflictingKeyPlaces (req: KeyCarrier): string[] | null {
  const fromPath = (req.params as { key?: unknown } | undefined)?.key
  const fromQuery = (req.query as Record<string, unknown> | undefined)?.[KEY_QUERY_PARAM]
  const fromHeader = req.headers[KEY_HEADER]
  // Hot path: a request with its key in one place (the usual) is answered after three reads.
  if ((typeof fromPath === 'string' ? 1 : 0) + (typeof fromQuery === 'string' ? 1 : 0) + (typeof fromHeader === 'string' ? 1 : 0) < 2) return null
  const given = ([['the path', fromPath], ['the key parameter', fromQuery], ['the X-API-Key header', fromHeader]] as const).filter(([, v]) => typeof v === 'string')
  return given.every(([, v]) => v === given[0][1]) ? null : given.map(([place]) => place)
}

/**
 * How many keys the X-API-Key header carries when it carries more than one, else 0: sent twice, Node
 * joins the values with ", "; a client may also join them itself. A key never holds "," (config.ts),
 * so a comma always separates two values.
 */
export function repeatedKeyHeader (headers: KeyCarrier['headers']): number {
  const value = headers[KEY_HEADER]
  if (Array.isArray(value)) return value.length > 1 ? value.length : 0
  return value === undefined || !value.includes(',') ? 0 : value.split(',').length
}

/**
 * A URL (or any text holding one) fit for a log line or an error message: the segment after
 * `webapi` or `recordings` and the value of every credential-named parameter replaced by
 * `[redacted]`. A URL with `%` escapes is decoded first (the logged form is then the decoded one).
 */
export function redactUrl (url: string): string {
  const text = url.includes('%') ? decodeAscii(url) : url
  const end = pathEnd(text)
  const path = text.slice(0, end)
  const redactedPath = redactPath(path)
  return redactPairs(redactedPath === path ? text : redactedPath + text.slice(end))
}

/** Where the router ends the path: the first `?` or `#` after the first character. */
function pathEnd (url: string): number {
  let end = url.length
  const q = url.indexOf('?', 1)
  if (q !== -1) end = q
  const h = url.indexOf('#', 1)
  if (h !== -1 && h < end) end = h
  return end
}

/** The credential segment after every `webapi`/`recordings` segment redacted (a plain scan: hot path). */
function redactPath (path: string): string {
  if (!SECRET_AFTER_HINT.test(path)) return path
  let out = ''
  let copied = 0
  let redactNext = false
  const separator = path.includes('\\') ? /[/\\]/g : /\//g
  for (let i = 0; i <= path.length;) {
    separator.lastIndex = i
    const j = separator.test(path) ? separator.lastIndex - 1 : path.length
    const segment = path.slice(i, j)
    if (!redactNext) {
      redactNext = isSecretSegment(segment)
    } else if (segment !== '' && segment !== '.' && segment !== '..') {
      // `/webapi//K/…` and `/webapi/./K/…`: the credential is the next real segment.
      out += path.slice(copied, i) + REDACTED
      copied = j
      redactNext = false
      if (!SECRET_AFTER_HINT.test(path.slice(j))) break
    }
    i = j + 1
  }
  return copied === 0 ? path : out + path.slice(copied)
}

function isSecretSegment (segment: string): boolean {
  if (segment.length < 6) return false
  const lower = segment.toLowerCase()
  return SECRET_AFTER.has(lower) || SECRET_AFTER.has(lower.split(';')[0].trim())
}

/** `?`, `&`, `;`, `#`: every separator a parser might use between pairs, not only the router's. */
function isPairSeparator (c: number): boolean {
  return c === 63 || c === 38 || c === 59 || c === 35
}

function isNameBoundary (c: number): boolean {
  return isPairSeparator(c) || c === 32 || c === 9 || c === 10
}

/** The value of every `name=value` pair with a credential-like name replaced (a plain scan: hot path). */
function redactPairs (s: string): string {
  let out = ''
  let copied = 0
  let eq = s.indexOf('=')
  while (eq !== -1) {
    // The name starts after a separator, or (in a message quoting `key=…`) after a space or at the start.
    let start = eq - 1
    while (start >= 0 && !isNameBoundary(s.charCodeAt(start)) && s.charCodeAt(start) !== 61) start--
    if ((start < 0 || isNameBoundary(s.charCodeAt(start))) && isSecretParam(s.slice(start + 1, eq))) {
      let end = eq + 1
      while (end < s.length && !isPairSeparator(s.charCodeAt(end))) end++
      out += s.slice(copied, eq + 1) + REDACTED
      copied = end
      eq = s.indexOf('=', end)
    } else {
      eq = s.indexOf('=', eq + 1)
    }
  }
  return copied === 0 ? s : out + s.slice(copied)
}

/** True for a parameter name that may carry a credential (`key`, `ke+y`, `api_key`, `key[]`, …). */
export function isSecretParam (name: string): boolean {
  const lower = name.toLowerCase()
  if (SECRET_PARAMS.has(lower)) return true
  if (!/[^a-z0-9]/.test(lower)) return false
  return SECRET_PARAMS.has(lower.replace(/\[.*$/s, '').replace(/[^a-z0-9]/g, ''))
}

/**
 * `%XX` escapes of ASCII characters decoded, repeatedly (a double-encoded `%2577ebapi` still reads
 * `webapi`); others kept. Everything redaction looks for is ASCII, and this cannot throw on bad input.
 */
function decodeAscii (s: string): string {
  for (let round = 0; round < 3 && s.includes('%'); round++) {
    const decoded = s.replace(/%([0-7][0-9a-f])/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    if (decoded === s) break
    s = decoded
  }
  return s
}
