// Collects the failures from a TAP stream as it passes, so `npm test` can repeat them after the whole
// output: a CI log that keeps only its tail (the last few hundred lines of ~20,000) still names what failed.

/** How many lines of a failure's diagnostic block (the YAML after `not ok`) are kept. */
const DIAG_LINES = 14

/**
 * A reader fed TAP text in chunks. Subtests nest by four spaces: `# Subtest: name` at an indentation
 * names the subtest whose results follow at that indentation, closed by an `ok`/`not ok` line one level up.
 */
export function tapFailures () {
  /** Names of the open subtests, by depth. */
  const names = []
  /** Each failure: its path of names, and its diagnostic lines. */
  const failures = []
  let partial = ''
  /** The failure whose diagnostic block is being read, and the block's indentation. */
  let diag = null

  function line (text) {
    const indent = text.length - text.trimStart().length
    const body = text.trimStart()
    if (diag !== null) {
      if (indent >= diag.indent && body !== '...') {
        if (body !== '---' && diag.failure.diag.length < DIAG_LINES) diag.failure.diag.push(text.slice(diag.indent))
        return
      }
      diag = null
      if (body === '...') return
    }
    const depth = Math.floor(indent / 4)
    const subtest = /^# Subtest: (.*)$/.exec(body)
    if (subtest !== null) {
      names.length = depth
      names[depth] = subtest[1]
      return
    }
    const notOk = /^not ok \d+ - (.*?)(?: # time=[\d.]+m?s)?$/.exec(body)
    if (notOk === null || / # (?:TODO|SKIP)\b/i.test(body)) return
    const name = notOk[1]
    // A subtest's own `not ok` closes it: its failures were recorded below it already.
    const closes = names[depth] === name && failures.some((f) => f.path.length > depth + 1 && f.path[depth] === name)
    names.length = depth
    if (closes) return
    const failure = { path: [...names, name], diag: [] }
    failures.push(failure)
    diag = { failure, indent: indent + 2 }
  }

  return {
    /** Reads the next chunk of the stream. */
    push (chunk) {
      const lines = (partial + chunk).split('\n')
      partial = lines.pop() ?? ''
      for (const l of lines) line(l)
    },
    /** The failures so far (the stream's last unfinished line read as well). */
    failures () {
      if (partial !== '') { line(partial); partial = '' }
      return failures
    },
  }
}

/** The digest printed after the run: each failure's path, then its diagnostic lines; '' if none. */
export function failureDigest (failures, limit = 20) {
  if (failures.length === 0) return ''
  const out = [`# ${failures.length} failure(s), repeated from above:`]
  for (const f of failures.slice(0, limit)) {
    out.push(`# not ok: ${f.path.join(' > ')}`)
    for (const d of f.diag) out.push(`#     ${d}`)
  }
  if (failures.length > limit) out.push(`# ... and ${failures.length - limit} more (above)`)
  return out.join('\n') + '\n'
}
