/**
 * Who may write what to which dossier: the config's `access` section read as data, decided by
 * pure functions. The stores run these checks inside their atomic section (the plan closures
 * of intake.ts), against the dossier's row as it is at that moment, so an ownership check and
 * the write that depends on it can never be split by another instance.
 *
 * Owner: the member that created the dossier, or the member named for the agency code its
 * MaHoSo begins with (`access.agencyOwners`; DVCQG's MaHoSo is `<MaDonVi>-<yyMMdd>-<n>`).
 * Owners write every kind their messageKinds allow; another member only what a rule grants.
 */
import type { AccessRule, GatewayConfig } from '../schemas/types.js'
import { lgspError } from './errors.js'

/** What a message does to a dossier (a rule's `kinds`). */
export type WriteKind = AccessRule['kinds'][number]

/** The `access` section of the config. */
export type AccessConfig = GatewayConfig['access']

/** The dossier a message writes to: its row's owner when the gateway knows it. */
export interface WriteTarget {
  maHoSo: string
  /** The procedure (MaTTHC): the row's, or the record's for a dossier not yet known. */
  maTTHC: string
  /** The member that created it; undefined for a dossier the gateway does not know yet. */
  creator?: string | undefined
}

/** The member named for the longest agency code `maHoSo` begins with. */
export function agencyOwner (access: AccessConfig, maHoSo: string): string | undefined {
  let best: string | undefined
  let owner: string | undefined
  for (const [prefix, member] of Object.entries(access.agencyOwners)) {
    if (maHoSo.startsWith(prefix) && (best === undefined || prefix.length > best.length)) {
      best = prefix
      owner = member
    }
  }
  return owner
}

/** Whether `member` owns the dossier: it created it, or its agency code is mapped to it. */
export function isOwner (access: AccessConfig, member: string, target: WriteTarget): boolean {
  if (target.creator === member) return true
  return agencyOwner(access, target.maHoSo) === member
}

function ruleMatches (rule: AccessRule, target: WriteTarget): boolean {
  if (rule.allDossiers === true) return true
  if (rule.procedures?.includes(target.maTTHC) === true) return true
  return rule.agencies?.some((prefix) => target.maHoSo.startsWith(prefix)) === true
}

/**
 * Whether `member` may post `kind` to the dossier. A dossier the gateway does not know yet
 * (`creator` undefined) may be created by anyone allowed to send dossiers, unless its agency
 * code belongs to another member: then a rule must grant it (a vertical system bringing in
 * dossiers received at the ministry).
 */
export function mayWrite (access: AccessConfig, member: string, kind: WriteKind, target: WriteTarget): boolean {
  if (isOwner(access, member, target)) return true
  if (target.creator === undefined && kind === 'dossier' && agencyOwner(access, target.maHoSo) === undefined) return true
  return access.rules.some((r) => r.member === member && r.kinds.includes(kind) && ruleMatches(r, target))
}

/** Throws LGSP_ERR_AUTH_DOSSIER_FORBIDDEN unless `mayWrite`. */
export function checkWrite (access: AccessConfig, member: string, kind: WriteKind, target: WriteTarget): void {
  if (mayWrite(access, member, kind, target)) return
  throw lgspError('LGSP_ERR_AUTH_DOSSIER_FORBIDDEN', `Member ${member} may not post ${kind} to dossier ${target.maHoSo}: it belongs to another member and no access rule grants it.`, { maHoSo: target.maHoSo, kind })
}
