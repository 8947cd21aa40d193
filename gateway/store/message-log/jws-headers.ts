/**
 * A member sends the same protected JWS header (with its certificate chain, about 3 KB) on
 * every request. Both stores keep such a header once, under its SHA-256, and store each
 * signature as `~<hash>..<signature>`; readers put the header back.
 */
import { createHash } from 'node:crypto'

/** Headers longer than this are stored once. */
const SHARED_HEADER_MIN = 256

/** Recent headers → their hash (a member's header repeats on every request). */
const hashes = new Map<string, string>()

/** A signature as stored, and the header to keep once when it was shortened. */
export function shortenSignature (signature: string | null): { stored: string | null, header?: { hash: string, text: string } } {
  if (signature === null) return { stored: null }
  const dot = signature.indexOf('..')
  if (dot < SHARED_HEADER_MIN) return { stored: signature }
  const text = signature.slice(0, dot)
  let hash = hashes.get(text)
  if (hash === undefined) {
    hash = createHash('sha256').update(text).digest('hex')
    if (hashes.size >= 1024) hashes.clear()
    hashes.set(text, hash)
  }
  return { stored: `~${hash}${signature.slice(dot)}`, header: { hash, text } }
}

/**
 * A stored signature with its header put back. A referenced header that is gone leaves the
 * reference: the entry then fails its hash, as any changed entry does.
 */
export function restoreSignature (stored: string | null, header: (hash: string) => string | undefined): string | null {
  if (stored?.startsWith('~') !== true) return stored
  return `${header(stored.slice(1, 65)) ?? stored.slice(0, 65)}${stored.slice(65)}`
}
