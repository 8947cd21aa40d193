/**
 * A component that exists only in the tests: a provincial e-archive (lưu trữ điện tử) that
 * takes each dossier the gateway routes to it and answers with its own archive reference, and
 * that reports, when polled, the dossiers its archivists have closed. It proves that a new
 * outside system is this folder plus one `registerComponent` line: a config section with its
 * own schema, a consumer (units and deliveries), an effect (the archive reference, kept with the
 * delivery's completion) and a producer (a poller that brings progress in under its member).
 */
import { request } from 'undici'
import type { Adapter, CanonicalMessage, Component, DeliveryResult, DeliveryUnit, Producer, ProducerContext, UnitPlan } from '../../../adapters/registry.js'

export interface ArchiveConfig {
  adapter: 'archive'
  url: string
  /** The member its closures are accepted under. */
  member: string
  intervalMs: number
}

/** The key of the archive reference the gateway keeps for a dossier. */
export const referenceKey = (destination: string, maHoSo: string): string => `archive:${destination}:${maHoSo}`

class ArchiveAdapter implements Adapter {
  readonly protocol = 'archive'
  readonly destination: string
  readonly config: ArchiveConfig

  constructor (destination: string, config: ArchiveConfig) {
    this.destination = destination
    this.config = config
  }

  get sourceMember (): string {
    return this.config.member
  }

  units (message: CanonicalMessage): UnitPlan[] {
    return message.kind === 'dossier' ? [{ op: 'archive', payload: { MaHoSo: message.record.MaHoSo, TrangThaiHoSo: message.record.TrangThaiHoSo } }] : []
  }

  async deliver (unit: DeliveryUnit): Promise<DeliveryResult> {
    try {
      const res = await request(`${this.config.url}/archive`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(unit.payload) })
      const body = await res.body.json() as { ref?: string }
      if (res.statusCode !== 200 || typeof body.ref !== 'string') return { ok: false, code: 'LGSP_ERR_UPSTREAM_REJECTED', message: `archive answered ${res.statusCode}`, uncertain: false }
      return { ok: true, effects: [{ kind: 'cursor', key: referenceKey(this.destination, unit.maHoSo), value: body.ref }] }
    } catch {
      return { ok: false, code: 'LGSP_ERR_UPSTREAM_UNAVAILABLE', message: 'archive unreachable', uncertain: true }
    }
  }

  async close (): Promise<void> {}
}

/** Brings the archive's closures in as progress entries (status 10: result returned and archived). */
export class ArchivePoller implements Producer {
  readonly destination: string
  readonly #adapter: ArchiveAdapter
  readonly #context: ProducerContext
  readonly #schedule

  constructor (adapter: ArchiveAdapter, context: ProducerContext) {
    this.destination = adapter.destination
    this.#adapter = adapter
    this.#context = context
    this.#schedule = context.schedule(`archive:${adapter.destination}`, adapter.config.intervalMs, () => this.pollOnce(), context.log)
  }

  async pollOnce (): Promise<number> {
    const member = this.#context.member(this.#adapter.config.member)
    if (member === undefined) return 0
    const key = `archive-poll:${this.destination}`
    const after = Number(await this.#context.getCursor(key) ?? '0')
    const res = await request(`${this.#adapter.config.url}/closed?after=${after}`)
    const closed = await res.body.json() as Array<{ seq: number, MaHoSo: string, at: string }>
    let applied = 0
    for (const c of closed) {
      const entry = { MaHoSo: c.MaHoSo, NguoiXuLy: 'Lưu trữ', ChucDanh: 'Lưu trữ viên', ThoiDiemXuLy: c.at, PhongBanXuLy: 'Lưu trữ', NoiDungXuLy: 'Đã lưu trữ hồ sơ', TrangThai: 10 }
      await this.#context.acceptProgress(member, c.MaHoSo, [entry], `archive:${c.seq}`)
      await this.#context.setCursor(key, String(c.seq))
      applied++
    }
    return applied
  }

  start (): void { this.#schedule.start() }
  stop (): Promise<void> { return this.#schedule.stop() }
}

export const archive: Component<ArchiveConfig> = {
  name: 'archive',
  description: 'A provincial e-archive (tests only).',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['adapter', 'url', 'member'],
    properties: {
      adapter: { const: 'archive' },
      url: { type: 'string', format: 'uri', description: 'Base URL of the archive service.' },
      member: { type: 'string', minLength: 1, description: 'The member its closures are accepted under.' },
      intervalMs: { type: 'integer', minimum: 10, default: 3_600_000, description: 'How often the archive is polled.' }
    }
  },
  consumes: ['dossier'],
  produces: ['progress'],
  effects: ['cursor'],
  create: async (destination, config) => new ArchiveAdapter(destination, config),
  checkConfig: (destination, config, gateway) => gateway.members.some((m) => m.id === config.member) ? [] : [`destinations.${destination}.member: "${config.member}" is not a member`],
  producers: async (adapter, _config, context) => [new ArchivePoller(adapter as ArchiveAdapter, context)],
  simulator: '../tests/components/archive/simulator.js'
}
