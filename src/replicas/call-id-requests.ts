// makecall on a standby (docs/operating.md "Replicas on one database"): a call's legacy ids belong to
// the holder's call model, the one that sees the call's participants and announces its webhooks. So
// the standby places the call itself (authenticated, rate-limited and answered where it arrived) and
// then asks the holder, through the database, for the ids of the PBX's call id: the holder reserves
// them in its model (CallModel.reserve) and answers. Only the PBX call id and a time cross.
export interface CallIds { chid: string, legacyId: string }

/** Where a standby's requests go and the holder's answers come from (store/pg/pg-call-ids.ts). */
export interface CallIdChannel {
  /** Standby: the holder's ids of call `callid` placed at `at`; null when none came within `waitMs`. */
  request: (callid: number, at: number, waitMs: number) => Promise<CallIds | null>
  /** Holder: answers every request with `reserve` until the returned stop. */
  serve: (reserve: (callid: number, at: number) => CallIds) => Promise<() => Promise<void>>
  /** Stops waiting for answers (the standby's listener). */
  close: () => Promise<void>
}

/** How long a standby's makecall waits for the holder's ids before it answers 503. */
export const CALL_ID_WAIT_MS = 5000
