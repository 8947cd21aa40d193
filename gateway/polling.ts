/**
 * Pollers of vertical systems that do not call the province back. For each GPLX
 * destination: read DanhSachHoSo after the stored cursor, fetch each changed dossier with
 * TraCuuHoSo, and accept it through the same intake as any member's message (under the
 * destination's `poll.member`): a dossier new to the gateway as a HoSo, a known one as a
 * progress entry. Idempotency keys name the ministry's change (phienBan), so reading the
 * same change twice (a crash before the cursor moved) has no second effect. The cursor moves
 * only past changes that were accepted or refused on their merits.
 */
import type { GplxAdapter, GplxRecord } from '../adapters/gplx/index.js'
import type { TaxAdapter } from '../adapters/tax/index.js'
import type { XmlParserPool } from '../adapters/xml/index.js'
import { toHoSo, toProgress } from '../adapters/gplx/index.js'
import { LgspError } from './errors.js'
import { acceptDossiers, acceptProgress, acceptTaxNotice, type IntakeDeps } from './intake.js'
import type { Logger } from './logger.js'
import type { Members } from './members.js'
import { Periodic } from './periodic.js'

/**
 * Runs one accept; a refusal on the message's own merits (4xx) is logged and skipped,
 * anything else (store or server trouble) propagates and ends the round.
 */
async function refusable (log: Logger, fields: Record<string, unknown>, accept: () => Promise<unknown>): Promise<boolean> {
  try {
    await accept()
    return true
  } catch (err) {
    if (!(err instanceof LgspError) || err.status >= 500) throw err
    log.warn({ ...fields, code: err.code }, 'change from a vertical system refused')
    return false
  }
}

export class GplxPoller {
  readonly #adapter: GplxAdapter
  readonly #deps: IntakeDeps
  readonly #members: Members
  readonly #log: Logger
  readonly #key: string
  readonly #schedule: Periodic

  constructor (adapter: GplxAdapter, deps: IntakeDeps, members: Members, log: Logger) {
    this.#adapter = adapter
    this.#deps = deps
    this.#members = members
    this.#log = log.child({ poller: adapter.destination })
    this.#key = `gplx:${adapter.destination}`
    this.#schedule = new Periodic('poll', adapter.settings.poll.intervalMs, () => this.pollOnce(), this.#log, { store: deps.store, name: this.#key })
  }

  /** One round: every change after the cursor, in the ministry's order. Returns how many were applied. */
  async pollOnce (): Promise<number> {
    const member = this.#members.get(this.#adapter.settings.poll.member)
    if (member === undefined) return 0
    let cursor = Number(await this.#deps.store.getCursor(this.#key) ?? 0)
    let applied = 0
    for (;;) {
      const page = await this.#adapter.client.changes(cursor, this.#adapter.settings.poll.batch)
      if (!page.ok) {
        this.#log.warn({ code: page.code, reason: page.message }, 'DanhSachHoSo failed')
        return applied
      }
      if (page.items.length === 0) return applied
      for (const change of page.items) {
        const found = await this.#adapter.client.lookUp(change.maHoSo)
        if (!found.ok) {
          this.#log.warn({ code: found.code, maHoSo: change.maHoSo }, 'TraCuuHoSo failed; will retry from here')
          return applied
        }
        // The record may have moved on since the list was read: apply what it says now, keyed by its version.
        if (await this.#apply(member, found.record)) applied++
        cursor = Math.max(change.phienBan, found.record.phienBan)
        await this.#deps.store.setCursor(this.#key, String(cursor))
      }
    }
  }

  /** Accepts one ministry record; false when everything in it was refused on its merits (logged, not retried). */
  async #apply (member: NonNullable<ReturnType<Members['get']>>, g: GplxRecord): Promise<boolean> {
    if (await this.#deps.store.dossierState(g.maHoSo) === undefined) {
      const record = toHoSo(g)
      return refusable(this.#log, { maHoSo: g.maHoSo, phienBan: g.phienBan }, () => acceptDossiers(this.#deps, { member, body: record, raw: JSON.stringify(record), idempotencyKey: `gplx:${g.maHoSo}:${g.phienBan}` }))
    }
    // Replay every step of the ministry's history: a poll may have missed some (2 → 9 → 10
    // read as 2 → 10), and steps already applied come back as idempotent repeats.
    let any = false
    for (const step of g.lichSu) {
      const entry = toProgress(g.maHoSo, step)
      any = await refusable(this.#log, { maHoSo: g.maHoSo, phienBan: step.phienBan }, () => acceptProgress(this.#deps, { member, body: entry, raw: JSON.stringify(entry), idempotencyKey: `gplx:${g.maHoSo}:${step.phienBan}` }, g.maHoSo)) || any
    }
    return any
  }

  start (): void { this.#schedule.start() }
  stop (): Promise<void> { return this.#schedule.stop() }
}

/**
 * Asks the tax service for the notice of every dossier submitted to it that has none yet
 * (LayThongBaoThue). A notice is parsed with the hardened XML parser (in the worker pool
 * when large) and accepted as a tax-notice message: status 6 with the amounts, to the
 * notice member's destinations (the one-stop, DVCQG). A malformed or hostile notice is
 * refused and logged, and asked for again next round.
 */
export class TaxNoticePoller {
  readonly #adapter: TaxAdapter
  readonly #deps: IntakeDeps
  readonly #members: Members
  readonly #xml: XmlParserPool
  readonly #log: Logger
  readonly #schedule: Periodic

  constructor (adapter: TaxAdapter, intervalMs: number, deps: IntakeDeps, members: Members, xml: XmlParserPool, log: Logger) {
    this.#adapter = adapter
    this.#deps = deps
    this.#members = members
    this.#xml = xml
    this.#log = log.child({ poller: adapter.destination })
    this.#schedule = new Periodic('poll', intervalMs, () => this.pollOnce(), this.#log, { store: deps.store, name: `tax-notices:${adapter.destination}` })
  }

  /** One round; returns how many notices were accepted. */
  async pollOnce (): Promise<number> {
    const member = this.#members.get(this.#adapter.noticeMember)
    if (member === undefined) return 0
    let accepted = 0
    for (const maHoSo of await this.#deps.store.awaitingEvent(this.#adapter.destination, 'submit', 'tax-notice', 50)) {
      const n = await this.#adapter.notice(maHoSo)
      if (!n.ok) {
        this.#log.warn({ code: n.code, maHoSo }, 'LayThongBaoThue failed')
        return accepted
      }
      const xml = n.xml
      if (xml === undefined) continue
      // A hostile or malformed notice, or one the state machine refuses, is logged and asked for again next round.
      let applied = false
      await refusable(this.#log, { maHoSo }, async () => {
        const rows = this.#adapter.rows(await this.#xml.parse(xml, { root: 'DATA' }), maHoSo)
        if (rows === undefined) {
          this.#log.warn({ maHoSo }, 'tax notice without usable rows for this dossier')
          return
        }
        await acceptTaxNotice(this.#deps, member, maHoSo, rows, xml)
        applied = true
      })
      if (applied) accepted++
    }
    return accepted
  }

  start (): void { this.#schedule.start() }
  stop (): Promise<void> { return this.#schedule.stop() }
}
