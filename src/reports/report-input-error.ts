// A report parameter a person got wrong. Shared by the HTTP routes (→ 400 BAD_PARAMETER) and the
// export command (→ a one-line error and exit code 2), so both say the same thing.

export class ReportInputError extends Error {
  override name = 'ReportInputError'
  constructor (
    /** The parameter's name as the caller wrote it (`from`, `queue`, …). */
    readonly param: string,
    /** What is wrong and what a valid value looks like, e.g. `must be a date such as 2026-11-01`. */
    readonly problem: string
  ) {
    super(`${param} ${problem}`)
  }
}
