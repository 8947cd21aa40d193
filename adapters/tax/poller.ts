/**
 * The tax component's producer: asks the tax service for notices (LayThongBaoThue).
 */
import { refusable, type ProducerContext, type Schedule } from '../component.js'
import type { Logger } from '../../gateway/logger.js'
import type { TaxAdapter } from './adapter.js'
import { TAX_NOTICE, taxNotice } from './codec.js'

/**
 * Optional (`notices.poll`, off by default: in practice DVCQG pushes notices, see
 * routes.ts): asks the tax service for the notice of every dossier submitted
 * to it that has none yet (LayThongBaoThue). A notice is parsed with the hardened XML parser (in the worker pool
 * when large) and accepted as a tax-notice message: status 6 with the amounts, to the
 * notice member's destinations (the one-stop, DVCQG). A malformed or hostile notice is
 * refused and logged, and asked for again next round.
 */
export class TaxNoticePoller {
  readonly destination: string
  readonly #adapter: TaxAdapter
  readonly #context: ProducerContext
  readonly #log: Logger
  readonly #schedule: Schedule
  readonly #enabled: boolean

  constructor (adapter: TaxAdapter, settings: { intervalMs: number, poll?: boolean }, context: ProducerContext) {
    this.destination = adapter.destination
    this.#enabled = settings.poll === true
    this.#adapter = adapter
    this.#context = context
    this.#log = context.log.child({ poller: adapter.destination })
    this.#schedule = context.schedule(`tax-notices:${adapter.destination}`, settings.intervalMs, () => this.pollOnce(), this.#log)
  }

  /** One round; returns how many notices were accepted. */
  async pollOnce (): Promise<number> {
    const member = this.#context.member(this.#adapter.noticeMember)
    if (member === undefined) return 0
    let accepted = 0
    for (const maHoSo of await this.#context.awaitingEvent(this.#adapter.destination, 'submit', TAX_NOTICE, 50)) {
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
        const rows = this.#adapter.rows(await this.#context.xml().parse(xml, { root: 'DATA' }), maHoSo)
        if (rows === undefined) {
          this.#log.warn({ maHoSo }, 'tax notice without usable rows for this dossier')
          return
        }
        await this.#context.acceptNotice(member, taxNotice(maHoSo, rows, xml, Date.now()))
        applied = true
      })
      if (applied) accepted++
    }
    return accepted
  }

  /** Runs only with `notices.poll`; pollOnce may still be called by hand. */
  start (): void { if (this.#enabled) this.#schedule.start() }
  stop (): Promise<void> { return this.#schedule.stop() }
}
