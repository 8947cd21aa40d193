/**
 * Piscina worker: parses one large XML document off the event loop. Errors come back as
 * codes, since an error's own fields do not survive the thread boundary.
 */
import { LgspError } from '../../gateway/errors.js'
import { parseXmlSafely, type XmlLimits } from './safe-parse.js'

export interface XmlTask {
  xml: string
  expect: { root: string, namespace?: string }
  limits: XmlLimits
}

export type XmlTaskResult = { ok: true, doc: Record<string, unknown> } | { ok: false, code: string, message: string }

export default function parse (task: XmlTask): XmlTaskResult {
  try {
    return { ok: true, doc: parseXmlSafely(task.xml, task.expect, task.limits) }
  } catch (err) {
    if (err instanceof LgspError) return { ok: false, code: err.code, message: err.message }
    return { ok: false, code: 'LGSP_ERR_XML_MALFORMED', message: 'Malformed XML.' }
  }
}
