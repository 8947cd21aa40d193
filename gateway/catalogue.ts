/**
 * The procedure catalogue: reference data per MaTTHC (field, agency level, fee-bearing,
 * statutory duration, paper result, vertical systems), from a versioned file validated at
 * start-up, refreshed with what DVCQG's own catalogue says (LayDanhSachTTHC, LayThuTuc; see
 * gateway/catalogue-sync.ts). Routing reads HeThongLienThong; the indicators read
 * durations and fees.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import type { Procedure, ProcedureCatalogue } from '../schemas/types.js'
import { lgspError } from './errors.js'
import { schemaDir } from './paths.js'
import { validators } from './validation.js'

export type { Procedure } from '../schemas/types.js'

/** The catalogue bundled with the gateway. */
export const bundledCatalogue = join(schemaDir, 'catalogue', 'procedures.v1.json')

/** A procedure as DVCQG describes it: only the code and name are sure, the rest when DVCQG gives it. */
export interface LearntProcedure {
  MaTTHC: string
  TenTTHC: string
  MaLinhVuc?: string
  CoPhiLePhi?: boolean
  SoNgayGiaiQuyet?: number
  /** When LayThuTuc last described it in detail (epoch ms); absent: only listed. */
  detailedAt?: number
}

/** An agency of DVCQG's list (LayDanhMucCoQuan). */
export interface Agency {
  MaDonVi: string
  TenDonVi: string
  CapDonVi?: string
}

/** What the snapshot file beside the store holds. */
interface Snapshot {
  format: 1
  savedAt: number
  procedures: LearntProcedure[]
  agencies: Agency[]
}

/**
 * Defaults for what DVCQG does not say about a procedure the bundled file lacks: no fee
 * (it is not counted among fee-bearing procedures until DVCQG says so), no paper result,
 * no vertical system, the field unknown. The level is the province's (the gateway serves one).
 */
const learntDefaults = { MaLinhVuc: 'CHUA-XAC-DINH', CapThucHien: 'tinh', CoPhiLePhi: false, KetQuaBanGiay: false } as const

/** The procedures by MaTTHC: the bundled file, refreshed by what DVCQG said. */
export class Catalogue {
  readonly version: string
  readonly #bundled: Map<string, Procedure>
  readonly #learnt = new Map<string, LearntProcedure>()
  /** The merged view: bundled entries refreshed by DVCQG, and DVCQG's own procedures whose duration is known. */
  #byCode = new Map<string, Procedure>()
  /** Short forms real one-stops send (`2.002621.H56`, `2.002621`) → the catalogue's code, when only one matches. */
  #aliases = new Map<string, string>()
  #agencies: Agency[] = []
  #snapshotMtime = 0

  constructor (doc: ProcedureCatalogue) {
    this.version = doc.version
    this.#bundled = new Map()
    for (const p of doc.procedures) {
      if (this.#bundled.has(p.MaTTHC)) throw lgspError('LGSP_ERR_CONFIG_INVALID', `Procedure catalogue ${doc.version}: ${p.MaTTHC} appears twice.`)
      this.#bundled.set(p.MaTTHC, p)
    }
    this.#setCodes(new Map(this.#bundled))
  }

  /** The procedure of a code, in the catalogue's long form or a short form of it. */
  get (maTTHC: string): Procedure | undefined {
    return this.#byCode.get(maTTHC) ?? this.#byCode.get(this.#aliases.get(maTTHC) ?? '')
  }

  #setCodes (byCode: Map<string, Procedure>): void {
    this.#byCode = byCode
    const aliases = new Map<string, string | null>()
    for (const code of byCode.keys()) {
      for (const alias of shortForms(code)) aliases.set(alias, aliases.has(alias) ? null : code)
    }
    this.#aliases = new Map([...aliases].filter((e): e is [string, string] => e[1] !== null && !byCode.has(e[0])))
  }

  get procedures (): Procedure[] {
    return [...this.#byCode.values()]
  }

  /** What DVCQG said of each procedure (including those not served yet for want of a duration). */
  get learnt (): LearntProcedure[] {
    return [...this.#learnt.values()]
  }

  /** DVCQG's agencies (LayDanhMucCoQuan), as last fetched. */
  get agencies (): Agency[] {
    return this.#agencies
  }

  /** Vertical systems named by some procedure that are not among `destinations` (they are not routed). */
  unroutedSystems (destinations: readonly string[]): string[] {
    return [...new Set(this.procedures.flatMap((p) => p.HeThongLienThong))].filter((s) => !destinations.includes(s)).sort()
  }

  /**
   * Adds or refreshes procedures learnt from DVCQG. A bundled entry takes DVCQG's name,
   * field, fee flag and duration when given and keeps its routing (HeThongLienThong) and
   * level; a procedure new to the gateway is served once its statutory duration is known
   * (a made-up duration would make its dossiers late or on time at random), with the
   * defaults above for the rest. Returns how many procedures changed.
   */
  learn (procedures: readonly LearntProcedure[]): number {
    let changed = 0
    for (const p of procedures) {
      const before = this.#learnt.get(p.MaTTHC)
      // A later list (no detail) does not erase what an earlier LayThuTuc said.
      const merged: LearntProcedure = { ...before, ...Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) } as LearntProcedure
      if (before !== undefined && JSON.stringify(before) === JSON.stringify(merged)) continue
      this.#learnt.set(p.MaTTHC, merged)
      changed++
    }
    if (changed > 0) this.#rebuild()
    return changed
  }

  /** Replaces the agency list. */
  learnAgencies (agencies: readonly Agency[]): void {
    this.#agencies = [...agencies]
  }

  #rebuild (): void {
    const out = new Map(this.#bundled)
    for (const l of this.#learnt.values()) {
      const known = this.#bundled.get(l.MaTTHC)
      if (known !== undefined) {
        out.set(l.MaTTHC, {
          ...known,
          TenTTHC: l.TenTTHC.length > 0 ? l.TenTTHC : known.TenTTHC,
          ...(l.MaLinhVuc === undefined ? {} : { MaLinhVuc: l.MaLinhVuc }),
          ...(l.CoPhiLePhi === undefined ? {} : { CoPhiLePhi: l.CoPhiLePhi }),
          ...(l.SoNgayGiaiQuyet === undefined ? {} : { SoNgayGiaiQuyet: l.SoNgayGiaiQuyet })
        })
      } else if (l.SoNgayGiaiQuyet !== undefined) {
        out.set(l.MaTTHC, {
          MaTTHC: l.MaTTHC,
          TenTTHC: l.TenTTHC,
          MaLinhVuc: l.MaLinhVuc ?? learntDefaults.MaLinhVuc,
          CapThucHien: learntDefaults.CapThucHien,
          CoPhiLePhi: l.CoPhiLePhi ?? learntDefaults.CoPhiLePhi,
          SoNgayGiaiQuyet: l.SoNgayGiaiQuyet,
          KetQuaBanGiay: learntDefaults.KetQuaBanGiay,
          HeThongLienThong: []
        })
      }
    }
    this.#setCodes(out)
  }

  /** Writes what was learnt to `path` (write and rename: a crash leaves the old file whole). */
  saveSnapshot (path: string): void {
    const doc: Snapshot = { format: 1, savedAt: Date.now(), procedures: this.learnt, agencies: this.#agencies }
    mkdirSync(dirname(resolve(path)), { recursive: true })
    const tmp = `${path}.tmp`
    writeFileSync(tmp, JSON.stringify(doc))
    renameSync(tmp, path)
    this.#snapshotMtime = statSync(path).mtimeMs
  }

  /**
   * Reads a snapshot written by saveSnapshot, when there is one newer than the last read
   * (instances sharing the file pick up what the one holding the sync lease learnt).
   * Returns whether it read one; an unreadable file is an error that says which file.
   */
  loadSnapshot (path: string): boolean {
    if (!existsSync(path)) return false
    const mtime = statSync(path).mtimeMs
    if (mtime === this.#snapshotMtime) return false
    let doc: Snapshot
    try {
      doc = JSON.parse(readFileSync(path, 'utf8')) as Snapshot
    } catch (err) {
      throw lgspError('LGSP_ERR_CONFIG_INVALID', `Cannot read the DVCQG catalogue snapshot ${path}: ${(err as Error).message}`)
    }
    if (doc?.format !== 1 || !Array.isArray(doc.procedures) || !Array.isArray(doc.agencies)) {
      throw lgspError('LGSP_ERR_CONFIG_INVALID', `The DVCQG catalogue snapshot ${path} is not one this gateway wrote (format 1): delete it, the next catalogue sync writes it again.`)
    }
    this.#snapshotMtime = mtime
    this.learn(doc.procedures.filter((p) => typeof p?.MaTTHC === 'string' && typeof p.TenTTHC === 'string'))
    this.learnAgencies(doc.agencies.filter((a) => typeof a?.MaDonVi === 'string'))
    return true
  }

  /** Reads and validates a catalogue file. */
  static load (path: string = bundledCatalogue): Catalogue {
    let doc: unknown
    try {
      doc = JSON.parse(readFileSync(resolve(path), 'utf8'))
    } catch (err) {
      throw lgspError('LGSP_ERR_CONFIG_INVALID', `Cannot read the procedure catalogue ${path}: ${(err as Error).message}`)
    }
    if (!validators.catalogue(doc)) {
      const lines = (validators.catalogue.errors ?? []).slice(0, 10).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`)
      throw lgspError('LGSP_ERR_CONFIG_INVALID', `Invalid procedure catalogue ${path}:\n  ${lines.join('\n  ')}`)
    }
    return new Catalogue(doc as ProcedureCatalogue)
  }
}

/**
 * The short forms of a national procedure code that real one-stops send: `1.003560.000.00.00.H56`
 * is also written `1.003560.H56` and `1.003560` (the national number, with or without the
 * province's suffix).
 */
function shortForms (code: string): string[] {
  const m = /^([0-9]{1,2}\.[0-9]{6})(?:\.[0-9A-Za-z.]*?)?(\.H[0-9]{2})?$/.exec(code)
  if (m === null) return []
  return [...new Set([m[1]! + (m[2] ?? ''), m[1]!])].filter((a) => a !== code)
}
