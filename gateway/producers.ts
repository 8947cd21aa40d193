/**
 * The components' producers (pollers of systems that do not call the province back): the
 * core builds one context for them all (the same intake as any member's message, the
 * store's cursors, schedules that run on one instance at a time), and starts and stops
 * whatever each component declares. Nothing here knows which systems they are.
 */
import type { Accepted, AdapterRegistry, ComponentConfig, Producer, ProducerContext } from '../adapters/registry.js'
import { XmlParserPool } from '../adapters/xml/index.js'
import type { GatewayConfig } from '../schemas/types.js'
import { acceptDossiers, acceptNotice, acceptProgress, type IntakeDeps, type IntakeResult } from './intake.js'
import type { Logger } from './logger.js'
import type { Member, Members } from './members.js'
import { Periodic } from './periodic.js'

const accepted = (r: IntakeResult): Accepted => ({ messageId: r.reply.messageId, replayed: r.replayed })

/**
 * What the components' producers and routes may do: accept messages through the same intake
 * as any member, read the ledger, keep cursors, schedule rounds, parse XML.
 */
export function producerContext (intake: IntakeDeps, member: (id: string) => Member | undefined, log: Logger, xml: () => XmlParserPool): ProducerContext {
  return {
    log,
    member,
    acceptDossiers: async (member, records, idempotencyKey) => accepted(await acceptDossiers(intake, { member, body: records, raw: JSON.stringify(records), idempotencyKey })),
    acceptProgress: async (member, maHoSo, entries, idempotencyKey, raw) => accepted(await acceptProgress(intake, { member, body: entries, raw: raw ?? JSON.stringify(entries), idempotencyKey }, maHoSo)),
    acceptNotice: async (member, notice) => accepted(await acceptNotice(intake, member, notice)),
    dossierRows: (maHoSo) => intake.store.dossierRows(maHoSo),
    awaitingEvent: (destination, op, kind, limit) => intake.store.awaitingEvent(destination, op, kind, limit),
    getCursor: (key) => intake.store.getCursor(key),
    setCursor: (key, value) => intake.store.setCursor(key, value),
    schedule: (name, intervalMs, run, jobLog) => new Periodic('poll', intervalMs, run, jobLog, { store: intake.store, name }),
    xml
  }
}

/** The producers of every configured destination, and what they share. */
export class Producers {
  readonly all: Producer[] = []
  #xml: XmlParserPool | undefined

  private constructor () {}

  /** Builds every destination's producers (each component loads its producer modules then). */
  static async create (config: GatewayConfig, adapters: AdapterRegistry, intake: IntakeDeps, members: Members, log: Logger): Promise<Producers> {
    const producers = new Producers()
    await producers.#build(config, adapters, intake, members, log)
    return producers
  }

  async #build (config: GatewayConfig, adapters: AdapterRegistry, intake: IntakeDeps, members: Members, log: Logger): Promise<void> {
    const context = producerContext(intake, (id) => members.get(id), log, () => (this.#xml ??= new XmlParserPool()))
    for (const [name, cfg] of Object.entries(config.destinations)) {
      const adapter = adapters.get(name)
      const component = adapters.componentOf(name)
      if (adapter === undefined || component?.producers === undefined || cfg === undefined) continue
      this.all.push(...await component.producers(adapter, cfg as unknown as ComponentConfig, context))
    }
  }

  start (): void {
    for (const p of this.all) p.start()
  }

  async stop (): Promise<void> {
    await Promise.all(this.all.map((p) => p.stop()))
    await this.#xml?.close()
  }
}
