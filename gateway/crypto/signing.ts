/**
 * The gateway's signing side, assembled from the config: its identity (key and chain),
 * the trust store for member signatures, the crypto pool, the batch signer for receipts
 * and delivered messages, and the signed checkpoints of the message log.
 *
 * In the dev profile a missing PKI folder is created on first start (`lgsp certs init`),
 * so receipts keep verifying across restarts; in production the identity must exist.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { Pki, loadIdentity, type Identity } from '../../certs/pki.js'
import { TrustStore } from '../../certs/trust.js'
import type { OutboundMeta, OutboundSigner } from '../../adapters/registry.js'
import type { GatewayConfig } from '../../schemas/types.js'
import { lgspError } from '../errors.js'
import type { Logger } from '../logger.js'
import { Periodic } from '../periodic.js'
import type { Store } from '../store/types.js'
import { BatchSigner, encodeProof, formatSignature, type BatchSignature } from './batch-signer.js'
import { InboundVerifier } from './inbound.js'
import { sha256Hex, signCheckpoint } from './message-log.js'
import { CryptoPool } from './pool.js'

/** Headers that carry a delivered message's signature. */
export const OUTBOUND_SIGNATURE = 'x-lgsp-signature'
export const OUTBOUND_PROOF = 'x-lgsp-signature-proof'

const TRUST_RELOAD_MS = 60_000


export const proofHeader = (s: BatchSignature): Record<string, string> => s.proof === undefined
  ? { [OUTBOUND_SIGNATURE]: s.signature }
  : { [OUTBOUND_SIGNATURE]: s.signature, [OUTBOUND_PROOF]: encodeProof(s.proof) }

/** The gateway identity named by the config, creating the dev PKI when allowed. */
export function gatewayIdentity (config: GatewayConfig, logger?: Logger): { identity: Identity, trust: TrustStore, trustDir: string } {
  const pki = new Pki(config.pki.dir)
  const keyPath = config.pki.gatewayKeyPath ?? join(pki.dir, 'gateway', 'key.pem')
  const chainPath = config.pki.gatewayChainPath ?? join(pki.dir, 'gateway', 'chain.pem')
  if (!existsSync(keyPath) || !existsSync(chainPath)) {
    if (config.profile !== 'dev' || config.pki.gatewayKeyPath !== undefined) {
      throw lgspError('LGSP_ERR_CONFIG_INVALID', `The gateway's signing key or certificate is missing (${keyPath}, ${chainPath}): run "lgsp certs init" or set pki.gatewayKeyPath and pki.gatewayChainPath.`)
    }
    pki.init()
    logger?.warn({ dir: pki.dir }, 'created a development CA and gateway certificate (dev profile); use a real CA in production')
  }
  let identity: Identity
  try {
    identity = loadIdentity(keyPath, chainPath)
  } catch (err) {
    throw lgspError('LGSP_ERR_CONFIG_INVALID', `The gateway's signing identity cannot be read: ${(err as Error).message}`)
  }
  const trustDir = config.pki.trustDir ?? pki.trustDir
  return { identity, trust: existsSync(trustDir) ? TrustStore.fromDir(trustDir) : new TrustStore(), trustDir }
}

export class GatewaySigning implements OutboundSigner {
  readonly identity: Identity
  /** The identity as PEM, for what parses it itself (the pool's threads, the SOAP client). */
  readonly keyPem: string
  readonly certPem: string
  readonly trust: TrustStore
  readonly pool: CryptoPool
  readonly batch: BatchSigner
  readonly verifier: InboundVerifier
  readonly #store: Store
  readonly #log: Logger
  readonly #checkpoints: Periodic
  readonly #trustReload: Periodic | undefined
  /** Members whose bodies the log keeps as digests only; what is sent on their behalf too. */
  readonly #digestOnly: Set<string>
  #lastCheckpoint = -1

  constructor (config: GatewayConfig, store: Store, logger: Logger) {
    const { identity, trust, trustDir } = gatewayIdentity(config, logger)
    this.identity = identity
    this.keyPem = identity.key.export({ type: 'pkcs8', format: 'pem' }).toString()
    this.certPem = identity.chain[0]!.toString()
    this.trust = trust
    this.#store = store
    this.#log = logger
    this.#digestOnly = new Set(config.members.filter((m) => !m.logBodies).map((m) => m.id))
    const s = config.signatures
    this.pool = new CryptoPool({
      keyPem: this.keyPem,
      threads: s.poolThreads,
      thresholdBytes: s.poolThresholdBytes
    })
    this.batch = new BatchSigner({ identity, pool: this.pool, batchMax: s.batchMax, concurrency: s.poolThreads, intervalMs: s.batchIntervalMs })
    this.verifier = new InboundVerifier(trust, this.pool)
    this.#checkpoints = new Periodic('message log checkpoint', config.messageLog.checkpointSeconds * 1000, () => this.checkpoint(), logger)
    // CA certificates and CRLs are read again every minute: a revocation published by the CA takes effect without a restart.
    this.#trustReload = existsSync(trustDir)
      ? new Periodic('trust store reload', TRUST_RELOAD_MS, async () => { this.verifier.setTrust(this.#checked(TrustStore.fromDir(trustDir))) }, logger)
      : undefined
    this.#checked(trust)
  }

  /** Warns about CRLs past their nextUpdate (they still apply: a stale list beats none). */
  #checked (trust: TrustStore): TrustStore {
    const stale = trust.staleCrls()
    if (stale.length > 0) this.#log.warn({ cas: stale }, 'CRL past its nextUpdate: fetch the CA\'s current CRL into the trust folder')
    return trust
  }

  start (): void {
    this.#checkpoints.start()
    this.#trustReload?.start()
  }

  /** Signs the log's current tip when it moved since the last checkpoint. */
  async checkpoint (): Promise<boolean> {
    const tip = await this.#store.logTip()
    if (tip.seq === 0 || tip.seq === this.#lastCheckpoint) return false
    await this.#store.saveCheckpoint(signCheckpoint(tip, this.identity))
    this.#lastCheckpoint = tip.seq
    this.#log.debug({ seq: tip.seq }, 'message log checkpoint')
    return true
  }

  async sign (body: string, meta: OutboundMeta): Promise<Record<string, string>> {
    const s = await this.batch.sign(body)
    const headers = proofHeader(s)
    // Write-ahead: the message is in the log before it leaves.
    await this.logSent(body, meta, formatSignature(s))
    return headers
  }

  /** Writes a sent message to the log (XML destinations, whose signature is inside the body, call it directly). */
  async logSent (body: string, meta: OutboundMeta, signature: string | null): Promise<void> {
    const keep = meta.sender === undefined || !this.#digestOnly.has(meta.sender)
    await this.#store.appendLog([{
      at: Date.now(), direction: 'out', party: meta.destination, kind: meta.op, messageId: meta.messageId, contentHash: sha256Hex(body), body: keep ? body : null, signature
    }])
  }

  /** Stops the checkpoints, writes the last one (the store must still be open) and stops the pool. */
  async close (): Promise<void> {
    await this.#trustReload?.stop()
    await this.#checkpoints.stop()
    try {
      await this.checkpoint()
    } catch (err) {
      this.#log.error({ err }, 'final message log checkpoint failed')
    }
    await this.pool.close()
  }
}
