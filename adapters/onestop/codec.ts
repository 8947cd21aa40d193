/**
 * The one-stop webhook format (pure functions). The gateway posts one event per delivery
 * unit to the one-stop software (một cửa điện tử); the unit's key travels as the
 * Idempotency-Key header so a redelivered event is recognised, never applied twice.
 */
import type { CanonicalMessage } from '../types.js'

/** One webhook event. Field names stay DVCQG's (MaHoSo, QuaTrinhXuLy) as one-stop software knows them. */
export interface WebhookEvent {
  /** Unique per delivery unit: messageId and the unit's index. */
  eventId: string
  /** dossier, progress, payment, or a notice's own kind (tax-notice, …). */
  type: string
  MaHoSo: string
  messageId: string
  /** The member the message came from. */
  sender: string
  data: unknown
}

export function toEvents (message: CanonicalMessage): WebhookEvent[] {
  if (message.kind === 'dossier') {
    return [{ eventId: `${message.messageId}:0`, type: 'dossier', MaHoSo: message.record.MaHoSo, messageId: message.messageId, sender: message.sender, data: message.record }]
  }
  if (message.kind === 'notice') {
    // The notice's own kind is the event type (tax-notice, …); its lines as the system sent them.
    return [{ eventId: `${message.messageId}:0`, type: message.type, MaHoSo: message.record.MaHoSo, messageId: message.messageId, sender: message.sender, data: { TrangThai: message.entry.TrangThai, ...message.body, entry: message.entry } }]
  }
  if (message.kind === 'payment') {
    return [{ eventId: `${message.messageId}:0`, type: 'payment', MaHoSo: message.record.MaHoSo, messageId: message.messageId, sender: message.sender, data: message.payment }]
  }
  return [{ eventId: `${message.messageId}:0`, type: 'progress', MaHoSo: message.maHoSo, messageId: message.messageId, sender: message.sender, data: message.entries }]
}
