/**
 * What a gateway checks before it opens anything (folders, files, keys: every problem in
 * one message), and the lock that keeps a second gateway off a SQLite store.
 */
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs'
import { hostname, userInfo } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import type { GatewayConfig } from '../schemas/types.js'
import { lgspError } from './errors.js'

const user = (): string => {
  try { return userInfo().username } catch { return `uid ${process.getuid?.() ?? '?'}` }
}

/** The nearest folder that exists at or above `dir`. */
function existingAncestor (dir: string): string {
  let d = resolve(dir)
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d)
  return d
}

const can = (path: string, mode: number): boolean => {
  try { accessSync(path, mode); return true } catch { return false }
}

/** A folder the gateway must be able to create files in (made when missing). */
function writableFolder (dir: string, key: string, env: string | undefined, problems: string[]): void {
  const at = existingAncestor(dir)
  if (!statSync(at).isDirectory()) {
    problems.push(`${key}: ${at} is a file, not a folder: set ${key}${env === undefined ? '' : ` (${env})`} to a folder path`)
  } else if (!can(at, constants.W_OK | constants.X_OK)) {
    problems.push(`${key}: the folder ${at} is not writable by ${user()}: give that user write access (chown/chmod) or set ${key}${env === undefined ? '' : ` (${env})`} to a writable place`)
  }
}

function readableFile (path: string, key: string, problems: string[]): void {
  if (!existsSync(path)) problems.push(`${key}: ${path} does not exist`)
  else if (!can(path, constants.R_OK)) problems.push(`${key}: ${path} is not readable by ${user()}: fix its permissions`)
}

const SQLITE_HEADER = 'SQLite format 3\0'

/** Whether a file is empty or starts with the SQLite header. */
function looksLikeSqlite (path: string): boolean {
  const fd = openSync(path, 'r')
  try {
    const head = Buffer.alloc(16)
    const n = readSync(fd, head, 0, 16, 0)
    return n === 0 || head.toString('latin1') === SQLITE_HEADER
  } finally {
    closeSync(fd)
  }
}

/** Every problem with the folders, files and keys a configuration names (empty when none). */
export function prerequisites (config: GatewayConfig): string[] {
  const problems: string[] = []
  if (config.store.kind === 'sqlite' && config.store.path !== ':memory:') {
    const path = config.store.path
    writableFolder(dirname(path), 'store.path', 'LGSP_STORE_PATH', problems)
    if (existsSync(path)) {
      if (!can(path, constants.R_OK | constants.W_OK)) problems.push(`store.path: ${path} is not readable and writable by ${user()}: fix its owner or permissions`)
      else if (!statSync(path).isFile() || !looksLikeSqlite(path)) problems.push(`store.path: ${path} is not a SQLite database: point store.path (LGSP_STORE_PATH) at the gateway's database, or at a new file name to start empty`)
    }
  }
  const pkiDir = config.pki.dir
  const keyPath = config.pki.gatewayKeyPath ?? join(pkiDir, 'gateway', 'key.pem')
  const chainPath = config.pki.gatewayChainPath ?? join(pkiDir, 'gateway', 'chain.pem')
  if (existsSync(keyPath) && existsSync(chainPath)) {
    readableFile(keyPath, 'pki.gatewayKeyPath', problems)
    readableFile(chainPath, 'pki.gatewayChainPath', problems)
  } else if (config.profile !== 'dev' || config.pki.gatewayKeyPath !== undefined) {
    problems.push(`pki: the gateway's signing key or certificate is missing (${keyPath}, ${chainPath}): run "lgsp certs init --config …" or set pki.gatewayKeyPath and pki.gatewayChainPath`)
  } else {
    // dev profile: a development CA is made in pki.dir at the first start.
    writableFolder(pkiDir, 'pki.dir', undefined, problems)
  }
  for (const [name, d] of Object.entries(config.destinations)) {
    if (d?.adapter === 'tax' && d.signing !== undefined) {
      readableFile(d.signing.keyPath, `destinations.${name}.signing.keyPath`, problems)
      readableFile(d.signing.certPath, `destinations.${name}.signing.certPath`, problems)
    }
  }
  if (config.catalogue.path !== undefined) readableFile(config.catalogue.path, 'catalogue.path', problems)
  return problems
}

/** Throws LGSP_ERR_STARTUP_PREREQUISITES listing every problem at once. */
export function preflight (config: GatewayConfig): void {
  const problems = prerequisites(config)
  if (problems.length > 0) throw lgspError('LGSP_ERR_STARTUP_PREREQUISITES', `The gateway cannot start:\n  ${problems.join('\n  ')}`)
}

/** The lock a gateway holds on its SQLite store while it runs. */
export interface StoreLock {
  /** The lock file (beside the database). */
  readonly path: string
  release: () => void
}

/**
 * Takes the store's lock: an exclusive SQLite lock on `<store>.lock`, held by an open
 * connection (locking_mode EXCLUSIVE) for as long as the gateway runs. The operating
 * system drops it when the process ends, kill -9 included, so there is no stale lock to
 * clean up; the `lgsp` operator commands never touch it, so they still work beside a
 * running gateway. (A lock on the database file itself would block them.) Works on local
 * file systems and on volumes shared by containers on one host, not across NFS clients.
 */
export function acquireStoreLock (storePath: string): StoreLock {
  const path = `${storePath}.lock`
  const ownerFile = `${path}.owner`
  mkdirSync(dirname(resolve(storePath)), { recursive: true })
  const db = new Database(path, { timeout: 0 })
  try {
    db.pragma('locking_mode = EXCLUSIVE')
    // No journal file beside the lock: it holds no data worth a rollback.
    db.pragma('journal_mode = MEMORY')
    db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER, host TEXT, started TEXT); COMMIT')
  } catch (err) {
    db.close()
    if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err
    let owner = ''
    try { owner = ` (${readFileSync(ownerFile, 'utf8').trim()})` } catch { /* written by the holder, best effort */ }
    throw lgspError('LGSP_ERR_STARTUP_LOCKED', `Another gateway already runs on the store ${storePath}${owner}: stop it, or give this one its own store.path (LGSP_STORE_PATH); several instances share work only on store.kind "redis".`)
  }
  try {
    writeFileSync(ownerFile, `pid ${process.pid} on ${hostname()}, started ${new Date().toISOString()}\n`)
  } catch {
    // Only for the message a second gateway prints.
  }
  let released = false
  return {
    path,
    release: () => {
      if (released) return
      released = true
      db.close()
    }
  }
}
