/**
 * Canonical JSON: object keys sorted at every level, so one value has one byte sequence.
 * Both the receipts and the message log sign it; it lives on its own so that neither
 * imports the other (the message log used to reach it through receipts.ts, which closed an
 * import cycle through store/types.ts).
 */

/** JSON with object keys sorted at every level: one byte sequence per value. */
export function canonicalJson (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(value)
}
