/**
 * Message ids: UUID version 7 (RFC 9562), time-ordered, so ids sort by arrival.
 */
import { randomBytes } from 'node:crypto'

// Random bytes drawn 4 KiB at a time: one system call per 256 ids.
let pool = Buffer.alloc(0)
let offset = 0

export function uuidv7 (now = Date.now()): string {
  if (offset + 16 > pool.length) {
    pool = randomBytes(4096)
    offset = 0
  }
  const b = Buffer.from(pool.subarray(offset, offset + 16))
  offset += 16
  b.writeUIntBE(now, 0, 6)
  b[6] = (b[6]! & 0x0f) | 0x70
  b[8] = (b[8]! & 0x3f) | 0x80
  const h = b.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}
