/**
 * The GPLX component's producer (the ministry does not call the province back).
 *
 * DanhSachHoSo lists the dossiers the ministry received between two dates
 * (`ngayNhan1`..`ngayNhan2`); each listed one is read with TraCuuHoSo for its status
 * (`MaTrangThai`). A dossier new to the gateway is accepted as a HoSo, a known one whose
 * status changed as a progress entry, both under the destination's `poll.member` and
 * through the same intake as any member's message. The cursor kept in the store is the
 * last receive date fully read plus the dossiers still open at the ministry (each with the
 * code last handled): a round asks again from `overlapDays` before the cursor (the
 * ministry lists some dossiers late at a day's edge), walks up to today in windows of
 * `windowDays`, then looks up the open dossiers that left the window. The cursor moves
 * only past dossiers that were accepted or refused on their merits; a repeat has no second
 * effect (the status is compared with the ledger's, and idempotency keys name the ledger
 * version a change applies to).
 */
import { refusable, type ProducerContext, type Schedule } from '../component.js'
import { formatDvcqgDate, vnDate } from '../../gateway/ledger/dates.js'
import type { DossierState } from '../../gateway/ledger/state-machine.js'
import type { Logger } from '../../gateway/logger.js'
import type { Member } from '../../schemas/types.js'
import type { GplxAdapter } from './adapter.js'
import { addDays, isFinal, statusOf, toHoSo, toProgress, type GplxDetail, type GplxListItem } from './codec.js'

/** The GPLX poller's cursor, as stored (JSON). */
export interface GplxCursor {
  /** The last receive date (yyyy-MM-dd, Vietnam) whose window was fully read. */
  through?: string
  /** Dossiers not final at the ministry: the MaTrangThai last handled and the day first seen. */
  open: Record<string, { code: string, since: string }>
}

/** What one round did (for operators and tests). */
export interface GplxRound {
  applied: number
  refused: number
  /** MaTrangThai codes not in the table: not applied, logged. */
  unknownCodes: Array<{ maHoSo: string, code: string }>
  /** False when the ministry failed mid-round (the cursor kept its place). */
  complete: boolean
}

function readCursor (text: string | undefined): GplxCursor {
  if (text === undefined) return { open: {} }
  try {
    const c = JSON.parse(text) as GplxCursor
    if (c !== null && typeof c === 'object' && typeof c.open === 'object' && c.open !== null) return c
  } catch {}
  // An older cursor (a change number) means nothing to the date windows: start afresh.
  return { open: {} }
}

export class GplxPoller {
  readonly destination: string
  readonly #adapter: GplxAdapter
  readonly #context: ProducerContext
  readonly #log: Logger
  readonly #key: string
  readonly #schedule: Schedule
  /** The poller's time (tests set it; else now). */
  clock: () => number = Date.now
  /** The last round's summary. */
  last: GplxRound | undefined

  constructor (adapter: GplxAdapter, context: ProducerContext) {
    this.destination = adapter.destination
    this.#adapter = adapter
    this.#context = context
    this.#log = context.log.child({ poller: adapter.destination })
    this.#key = `gplx:${adapter.destination}`
    this.#schedule = context.schedule(this.#key, adapter.settings.poll.intervalMs, () => this.pollOnce(), this.#log)
  }

  /** The stored cursor. */
  async cursor (): Promise<GplxCursor> {
    return readCursor(await this.#context.getCursor(this.#key))
  }

  /** One round: the windows from the cursor to today, then the open dossiers. Returns how many dossiers changed in the ledger. */
  async pollOnce (): Promise<number> {
    const round: GplxRound = { applied: 0, refused: 0, unknownCodes: [], complete: false }
    this.last = round
    const member = this.#context.member(this.#adapter.settings.poll.member)
    if (member === undefined) return 0
    const poll = this.#adapter.settings.poll
    const cursor = await this.cursor()
    const save = (): Promise<void> => this.#context.setCursor(this.#key, JSON.stringify(cursor))
    const today = vnDate(this.clock())
    const seen = new Set<string>()
    let from = cursor.through === undefined ? addDays(today, -(poll.windowDays - 1)) : addDays(cursor.through, -poll.overlapDays)
    while (from <= today) {
      const to = addDays(from, poll.windowDays - 1) < today ? addDays(from, poll.windowDays - 1) : today
      const page = await this.#adapter.client.list(from, to)
      if (!page.ok) {
        this.#log.warn({ code: page.code, reason: page.message, from, to }, 'DanhSachHoSo failed; the cursor keeps its place')
        await save()
        return round.applied
      }
      for (const item of page.items) {
        if (seen.has(item.maHoSo)) continue
        seen.add(item.maHoSo)
        if (!await this.#follow(member, item.maHoSo, item, cursor, round, today)) {
          await save()
          return round.applied
        }
      }
      if (cursor.through === undefined || to > cursor.through) cursor.through = to
      await save()
      from = addDays(to, 1)
    }
    // Status changes of dossiers received before the window: DanhSachHoSo no longer lists them.
    for (const [maHoSo, open] of Object.entries(cursor.open)) {
      if (seen.has(maHoSo)) continue
      if (open.since < addDays(today, -poll.followDays)) {
        this.#log.warn({ maHoSo, code: open.code, since: open.since }, 'GPLX dossier still open after followDays: no longer looked up')
        delete cursor.open[maHoSo]
        continue
      }
      if (!await this.#follow(member, maHoSo, undefined, cursor, round, today)) {
        await save()
        return round.applied
      }
    }
    await save()
    round.complete = true
    return round.applied
  }

  /** Reads one dossier's status and applies it; false when the ministry failed (the round ends). */
  async #follow (member: Member, maHoSo: string, item: GplxListItem | undefined, cursor: GplxCursor, round: GplxRound, today: string): Promise<boolean> {
    const found = await this.#adapter.client.lookUp(maHoSo)
    if (!found.ok) {
      this.#log.warn({ code: found.code, reason: found.message, maHoSo }, 'TraCuuHoSo failed; will retry from here')
      return false
    }
    const detail = found.detail
    const since = cursor.open[maHoSo]?.since ?? today
    if (detail === undefined) {
      delete cursor.open[maHoSo]
      return true
    }
    const code = String(detail.MaTrangThai ?? '').trim()
    // Not received yet at the ministry (no NgayTiepNhan): looked at again later.
    if (typeof detail.NgayTiepNhan !== 'string' || detail.NgayTiepNhan.trim() === '') {
      cursor.open[maHoSo] = { code: '', since }
      return true
    }
    if (cursor.open[maHoSo]?.code === code) return true
    const state = statusOf(code, this.#adapter.settings.statusCodes)
    if (state === undefined) {
      round.unknownCodes.push({ maHoSo, code })
      this.#log.warn({ maHoSo, MaTrangThai: code }, 'GPLX status code not in the table: not applied (add it to statusCodes)')
      cursor.open[maHoSo] = { code, since }
      return true
    }
    const applied = await this.#apply(member, maHoSo, item, detail, state)
    if (applied === true) round.applied++
    if (applied === false) round.refused++
    if (isFinal(state)) delete cursor.open[maHoSo]
    else cursor.open[maHoSo] = { code, since }
    return true
  }

  /** Accepts one status; true applied, false refused on its merits (logged), undefined nothing to do. */
  async #apply (member: Member, maHoSo: string, item: GplxListItem | undefined, detail: GplxDetail, state: DossierState): Promise<boolean | undefined> {
    const [row] = await this.#context.dossierRows([maHoSo])
    const fields = { maHoSo, MaTrangThai: detail.MaTrangThai }
    if (row === undefined) {
      const record = toHoSo(maHoSo, item, detail, state)
      return refusable(this.#log, fields, () => this.#context.acceptDossiers(member, record, `gplx:${maHoSo}:new`))
    }
    if (row.state === state) return undefined
    const at = formatDvcqgDate(this.clock())
    // TraCuuHoSo shows the status now, not the steps: "returned" seen straight after
    // "processing" is one combined move (4 → 10), which the state machine allows.
    const entries = [toProgress(maHoSo, state, at, detail.TrangThaiHoSo)]
    // Keyed by the ledger version it applies to: a repeat after a crash replays, 4 → 5 → 4 → 5 does not.
    return refusable(this.#log, fields, () => this.#context.acceptProgress(member, maHoSo, entries, `gplx:${maHoSo}:v${row.version}:${state}`))
  }

  start (): void { this.#schedule.start() }
  stop (): Promise<void> { return this.#schedule.stop() }
}
