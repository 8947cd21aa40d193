/**
 * What every adapter offers the gateway. Adapters translate and transport; they never touch
 * the store: the gateway hands them a unit and records what they answer.
 */
import type { DeliveryErrorCode } from '../gateway/errors.js'
import type { HoSo, QuaTrinhXuLy } from '../schemas/types.js'

/** A message as the gateway accepted it, before any destination's format. */
export type CanonicalMessage =
  | { kind: 'dossier', messageId: string, sender: string, record: HoSo, existed: boolean }
  /**
   * Progress entries in event time. `record` is the dossier's record after them, present when
   * some entries were history (behind its status) and the last one sent is not at the
   * dossier's status: a destination that takes the status from the latest progress call must
   * get the record again after them.
   */
  | { kind: 'progress', messageId: string, sender: string, maHoSo: string, entries: QuaTrinhXuLy[], record?: HoSo }
  /**
   * A component's notice (the tax service's tax notice, …): `type` is the component's own
   * message kind (one of its `produces`), `entry` the progress entry it amounts to (its
   * TrangThai is the dossier's new status), `body` the notice's lines as the system sent them.
   */
  | { kind: 'notice', type: string, messageId: string, sender: string, record: HoSo, entry: QuaTrinhXuLy, body: Record<string, unknown> }
  /** A confirmed payment: `record` is the dossier with DuocThanhToanTrucTuyen and the paid fees. */
  | { kind: 'payment', messageId: string, sender: string, record: HoSo, payment: PaymentNotice }

/** A fee line a notice sets on the dossier (DanhSachLePhi; LoaiPhiLePhi names its kind, e.g. "Thuế"). */
export interface NoticeFee {
  TenPhiLePhi: string
  MaPhiLePhi: string
  Gia: number
  LoaiPhiLePhi: string
}

/**
 * A notice a component brings in (the tax service's tax notice, …): it moves one dossier to
 * a status and sets fee lines. The core accepts it like any message (idempotency, access,
 * the ledger, every destination) without knowing which system sent it.
 */
export interface Notice {
  /** The component's own message kind (one of its `produces`): names the event, the log entry and access rules. */
  kind: string
  maHoSo: string
  /** The progress entry it amounts to: its TrangThai is the dossier's new status, its ThoiDiemXuLy the event time. */
  entry: QuaTrinhXuLy
  fees: NoticeFee[]
  /** The notice's lines as the system sent them, carried to destinations (the one-stop's event data). */
  body: Record<string, unknown>
  /** The document as received, for the message log. */
  raw: string
  /** What makes two arrivals the same notice: the idempotency key is its hash. */
  identity: string
}

/** What destinations are told of a confirmed payment (PayGov's field names). */
export interface PaymentNotice {
  MaHoSo: string
  MaThamChieu: string
  MaGiaoDich: string
  SoTien: number
  MaNganHang: string | null
  ThoiGianGD: string
  DuocThanhToanTrucTuyen: '1' | '2'
  PhiLePhi: Array<{ TenPhiLePhi: string, MaPhiLePhi?: string, Gia: number }>
}

/** One delivery unit cut from a message: an adapter operation and what it needs. */
export interface UnitPlan {
  op: string
  payload: unknown
}

/** A unit handed over for delivery. */
export interface DeliveryUnit {
  id: number
  maHoSo: string
  messageId: string
  /** The member the message came from. */
  sender?: string
  op: string
  payload: unknown
  /** Attempts including this one. */
  attempts: number
  /** An earlier attempt may have been applied (timeout, lost reply, crash): check with the destination before resending. */
  uncertain: boolean
  /**
   * W3C trace context of this attempt (`traceparent`: the trace of the request that brought the
   * message when it carried one, a new span id per attempt); sent as an outbound header.
   */
  traceparent?: string
}

/**
 * What a delivery made true besides the unit's completion, as data: the store writes it in the
 * same transaction (SQLite) or script (Redis) as the completion, so a crash can never keep one
 * without the other. A component returns effects from `deliver`/`resync`; the core never
 * decides them by the destination's name.
 */
export type DeliveryEffect =
  /**
   * The destination now holds the dossier's record: Decision 766's dossier-sync indicator
   * counts the dossiers the national portal holds (DVCQG's DongBoHoSoMC accepted it).
   */
  | { kind: 'dossier-synced', maHoSo: string }
  /** A value the component keeps for later (the destination's own reference, a poller's resume point): a store cursor. */
  | { kind: 'cursor', key: string, value: string }

/** A procedure of the national catalogue (DVCQG's LayDanhSachTTHC / LayThuTuc, read into these names). */
export interface CatalogueProcedure {
  MaTTHC: string
  TenTTHC: string
  MaLinhVuc?: string
  /** Fee-bearing, when the source says. */
  CoPhiLePhi?: boolean
  /** Statutory duration in working days, when the source says. */
  SoNgayGiaiQuyet?: number
}

/** An agency of the national catalogue (DVCQG's LayDanhMucCoQuan). */
export interface CatalogueAgency {
  MaDonVi: string
  TenDonVi: string
  CapDonVi?: string
}

/**
 * What a destination that publishes the national procedure catalogue offers (a component
 * that declares the `catalogue` capability): the catalogue-sync job reads it.
 */
export interface CatalogueSource {
  listProcedures (): Promise<{ ok: true, procedures: CatalogueProcedure[] } | Extract<DeliveryResult, { ok: false }>>
  procedure (maTTHC: string): Promise<{ ok: true, procedure: CatalogueProcedure | undefined } | Extract<DeliveryResult, { ok: false }>>
  listAgencies (): Promise<{ ok: true, agencies: CatalogueAgency[] } | Extract<DeliveryResult, { ok: false }>>
}

/** What a delivery attempt came to. */
export type DeliveryResult =
  | { ok: true, note?: string, effects?: DeliveryEffect[] }
  | {
    ok: false
    /** What an earlier step of this attempt made true even though the attempt failed (a re-sync that went through). */
    effects?: DeliveryEffect[]
    code: DeliveryErrorCode
    /** Safe to log: codes, statuses and scrubbed upstream text only. */
    message: string
    /** The destination may have applied it (timeout after sending, connection lost mid-reply). */
    uncertain: boolean
    /** The destination asked for a pause (Retry-After). */
    retryAfterMs?: number
    /**
     * The destination refused the gateway's own credentials (DVCQG login, a one-stop's 401/403):
     * no message can go until they are fixed, so the worker pauses the whole destination
     * instead of failing unit after unit. Names the setting to fix.
     */
    pause?: { fix: string }
    /**
     * The destination does not hold the dossier this unit belongs to (DVCQG's "Hồ sơ không tồn
     * tại" on CapNhatTienDoHoSoMC): the worker re-syncs the dossier from the ledger
     * (`Adapter.resync`) and then delivers the unit again.
     */
    resync?: true
  }

/** What an outbound message is, for its signature and the message log. */
export interface OutboundMeta {
  destination: string
  messageId: string
  op: string
  /** The member the message came from (its body-logging choice applies). */
  sender?: string
}

/** Signs an outbound message and writes it to the message log before it is sent (the gateway's side). */
export interface OutboundSigner {
  sign (body: string, meta: OutboundMeta): Promise<Record<string, string>>
  /** Logs a message whose signature is inside its body (XML), once sent. */
  logSent (body: string, meta: OutboundMeta, signature: string | null): Promise<void>
}

export interface SignContext extends OutboundMeta {
  signer: OutboundSigner
}

/** Options every adapter takes from the registry. */
export interface AdapterOptions {
  /** Signs delivered messages; absent, nothing is signed. */
  signer?: OutboundSigner
}

/** The signing context of a unit, when the adapter signs. */
export const signContext = (options: AdapterOptions, destination: string, unit: DeliveryUnit): SignContext | undefined =>
  options.signer === undefined ? undefined : { signer: options.signer, destination, messageId: unit.messageId, op: unit.op, ...(unit.sender === undefined ? {} : { sender: unit.sender }) }

/** The environment variable that overrides a destination's setting (gateway/config.ts): `LGSP_DEST_<NAME>_<SUFFIX>`. */
export const destinationEnv = (destination: string, suffix: string): string =>
  `LGSP_DEST_${destination.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${suffix}`

/** One destination's protocol. */
export interface Adapter {
  readonly destination: string
  readonly protocol: string
  /** The member that speaks for this system (e.g. its poller): what it sends is never routed back here. */
  readonly sourceMember?: string
  /** Cuts a message into this destination's delivery units (at accept time, in order). */
  units (message: CanonicalMessage): UnitPlan[]
  deliver (unit: DeliveryUnit): Promise<DeliveryResult>
  /**
   * Sends a dossier's ledger record to a destination that said it does not hold the dossier
   * (answered `resync` for `unit`); the worker calls it, then delivers `unit` again.
   */
  resync? (unit: DeliveryUnit, record: HoSo): Promise<DeliveryResult>
  /**
   * While the destination is paused (credentials refused): tries the credentials alone (a
   * login). Absent, the worker probes with one queued unit.
   */
  probe? (): Promise<DeliveryResult>
  /** The national procedure catalogue, when the destination publishes it (its component declares the `catalogue` capability). */
  readonly catalogue?: CatalogueSource
  close (): Promise<void>
}
