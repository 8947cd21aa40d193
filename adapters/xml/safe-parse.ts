/**
 * Hardened XML parsing for what vertical systems send (tax notices, SOAP replies).
 *
 * A single linear pre-scan refuses, before any parser runs: DOCTYPE and ENTITY declarations
 * (XXE file reads, external DTDs, billion laughs, quadratic blow-up), documents over the size
 * limit, nesting over the depth limit, elements with too many attributes and over-long
 * attribute values. Only then does fast-xml-parser read it, with entity processing off.
 * The scan never backtracks, so a hostile document costs time proportional to its length.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { lgspError } from '../../gateway/errors.js'

export interface XmlLimits {
  maxBytes: number
  maxDepth: number
  maxAttributes: number
  maxAttributeLength: number
}

/** Every default of the XML limits in one place. */
export const defaultXmlLimits: XmlLimits = { maxBytes: 2 * 1024 * 1024, maxDepth: 32, maxAttributes: 32, maxAttributeLength: 4096 }

const LT = 60 // <
const GT = 62 // >
const SLASH = 47 // /
const BANG = 33 // !
const QUESTION = 63 // ?
const QUOTE = 34
const APOS = 39
const EQ = 61

/** The pre-scan: throws the first limit the document breaks. Exported for tests. */
export function prescan (xml: string, limits: XmlLimits = defaultXmlLimits): void {
  if (Buffer.byteLength(xml, 'utf8') > limits.maxBytes) throw lgspError('LGSP_ERR_XML_TOO_LARGE')
  let depth = 0
  let rootSeen = false
  let i = 0
  const n = xml.length
  while (i < n) {
    const lt = xml.indexOf('<', i)
    if (lt < 0) break
    const next = xml.charCodeAt(lt + 1)
    if (next === BANG) {
      if (xml.startsWith('<!--', lt)) {
        const end = xml.indexOf('-->', lt + 4)
        if (end < 0) throw lgspError('LGSP_ERR_XML_MALFORMED', 'Unterminated comment.')
        i = end + 3
        continue
      }
      if (xml.startsWith('<![CDATA[', lt)) {
        const end = xml.indexOf(']]>', lt + 9)
        if (end < 0) throw lgspError('LGSP_ERR_XML_MALFORMED', 'Unterminated CDATA section.')
        i = end + 3
        continue
      }
      // <!DOCTYPE, <!ENTITY, <!ELEMENT, <!ATTLIST …: no DTD of any kind.
      throw lgspError('LGSP_ERR_XML_DOCTYPE')
    }
    if (next === QUESTION) {
      const end = xml.indexOf('?>', lt + 2)
      if (end < 0) throw lgspError('LGSP_ERR_XML_MALFORMED', 'Unterminated processing instruction.')
      i = end + 2
      continue
    }
    if (next === SLASH) {
      depth--
      const end = xml.indexOf('>', lt + 2)
      if (end < 0 || depth < 0) throw lgspError('LGSP_ERR_XML_MALFORMED')
      i = end + 1
      continue
    }
    // A start tag: one document element only (fast-xml-parser's validator accepts several).
    if (depth === 0) {
      if (rootSeen) throw lgspError('LGSP_ERR_XML_MALFORMED', 'More than one document element.')
      rootSeen = true
    }
    // Count attributes and measure their values up to the closing '>'.
    let j = lt + 1
    let attributes = 0
    let selfClosing = false
    for (;;) {
      if (j >= n) throw lgspError('LGSP_ERR_XML_MALFORMED', 'Unterminated start tag.')
      const c = xml.charCodeAt(j)
      if (c === QUOTE || c === APOS) {
        const end = xml.indexOf(c === QUOTE ? '"' : "'", j + 1)
        if (end < 0) throw lgspError('LGSP_ERR_XML_MALFORMED', 'Unterminated attribute value.')
        if (end - j - 1 > limits.maxAttributeLength) throw lgspError('LGSP_ERR_XML_ATTRIBUTE_TOO_LONG')
        j = end + 1
        continue
      }
      if (c === EQ) {
        if (++attributes > limits.maxAttributes) throw lgspError('LGSP_ERR_XML_TOO_MANY_ATTRIBUTES')
      } else if (c === LT) {
        throw lgspError('LGSP_ERR_XML_MALFORMED', 'Unexpected "<" inside a tag.')
      } else if (c === GT) {
        selfClosing = xml.charCodeAt(j - 1) === SLASH
        break
      }
      j++
    }
    if (!selfClosing && ++depth > limits.maxDepth) throw lgspError('LGSP_ERR_XML_TOO_DEEP')
    i = j + 1
  }
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  trimValues: true
})

/**
 * Parses untrusted XML into plain objects (namespace prefixes removed, values as strings).
 * `root` names the expected document element; `namespace` its namespace URI, if any.
 */
export function parseXmlSafely (xml: string, expect: { root: string, namespace?: string }, limits: XmlLimits = defaultXmlLimits): Record<string, unknown> {
  prescan(xml, limits)
  const valid = XMLValidator.validate(xml, { allowBooleanAttributes: false })
  if (valid !== true) throw lgspError('LGSP_ERR_XML_MALFORMED', `Malformed XML at line ${valid.err.line}.`)
  const doc = parser.parse(xml) as Record<string, unknown>
  const rootKeys = Object.keys(doc).filter((k) => k !== '?xml')
  if (rootKeys.length !== 1 || rootKeys[0] !== expect.root) throw lgspError('LGSP_ERR_XML_NAMESPACE', `The document element must be ${expect.root}.`)
  if (expect.namespace !== undefined) {
    const m = /^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--[\s\S]*?-->\s*)*<([A-Za-z_][\w.-]*:)?[A-Za-z_][\w.-]*\b([^>]*)>/.exec(xml)
    const prefix = m?.[1]?.slice(0, -1)
    const attrs = m?.[2] ?? ''
    const declared = new RegExp(`xmlns${prefix === undefined ? '' : `:${prefix}`}\\s*=\\s*["']([^"']*)["']`).exec(attrs)?.[1]
    if (declared !== expect.namespace) throw lgspError('LGSP_ERR_XML_NAMESPACE', `The document element must be in namespace ${expect.namespace}.`)
  }
  return doc[expect.root] as Record<string, unknown>
}
