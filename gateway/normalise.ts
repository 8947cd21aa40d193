/**
 * Liberal about form, strict about meaning. Before a dossier record or a progress entry meets
 * its schema, intake rewrites the forms real one-stop software sends to DVCQG (as its public
 * integration code shows, e.g. opencps-v2's DVCQGIntegrationActionImpl) into the ones the
 * schema types, and reports each rewrite as a warning:
 * - `""` and `null` for an optional field mean "absent" (NgayTra, NgayHenTra, NgayTiepNhan of
 *   a status-1 dossier, Email, MaDoiTuong, progress NgayBatDau/NgayKetThucTheoQuyDinh…);
 * - a numeric string for an amount (`Gia: "135000"`), a number for a text (a phone typed as a
 *   number), a boolean or "True"/"False" for a flag;
 * - spaces around a code.
 * What cannot be read that way (a date that is not a date, `Gia: "abc"`, a status that does not
 * exist) is left as sent, so the schema refuses it. Fields the gateway does not know are kept
 * unchanged and reported. The field kinds come from the schemas themselves, so a field added
 * to a schema is normalised without a change here.
 */
import { readFileSync } from 'node:fs'
import { schemaDir } from './paths.js'
import { warning, type Warning } from './warnings.js'
import { lgspError } from './errors.js'

type Kind = 'date' | 'amount' | 'flag' | 'code' | 'text' | 'extra' | 'list' | 'other'

interface Shape {
  fields: Map<string, { kind: Kind, items?: Shape }>
  required: Set<string>
}

type SchemaNode = Record<string, unknown>

const load = (name: string): SchemaNode => JSON.parse(readFileSync(`${schemaDir}/${name}.schema.json`, 'utf8')) as SchemaNode
const common = (load('common').$defs ?? {}) as Record<string, SchemaNode>

/** A property with its `common.schema.json` definition folded in. */
function resolve (node: SchemaNode): SchemaNode {
  const ref = node.$ref
  if (typeof ref !== 'string') return node
  const name = ref.slice(ref.lastIndexOf('/') + 1)
  const { $ref: _ref, ...rest } = node
  return { ...common[name], ...rest }
}

const FLAG_VALUES = new Set<unknown>(['0', '1', '2', 0, 1, 2])

function kindOf (node: SchemaNode): Kind {
  if (node.format === 'dvcqg-datetime') return 'date'
  if (node.type === 'integer') return 'amount'
  if (Array.isArray(node.enum)) {
    const values = node.enum as unknown[]
    // Flags ("0"/"1", DuocTaiSuDung also "2"); DuocThanhToanTrucTuyen's "3" makes it a code.
    if (values.includes('0') && values.includes('1') && values.every((v) => FLAG_VALUES.has(v))) return 'flag'
    return 'code'
  }
  if (typeof node.pattern === 'string') return 'code'
  if (node.type === 'string') return 'text'
  if (node.type === 'array') return 'list'
  if (node.type === undefined && node.enum === undefined) return 'extra'
  return 'other'
}

function shapeOf (schema: SchemaNode): Shape {
  const fields = new Map<string, { kind: Kind, items?: Shape }>()
  for (const [name, raw] of Object.entries((schema.properties ?? {}) as Record<string, SchemaNode>)) {
    const node = resolve(raw)
    const kind = kindOf(node)
    const items = node.items as SchemaNode | undefined
    fields.set(name, kind === 'list' && items?.properties !== undefined ? { kind, items: shapeOf(items) } : { kind })
  }
  return { fields, required: new Set((schema.required ?? []) as string[]) }
}

const hosoShape = shapeOf(load('hoso'))
const progressShape = shapeOf(load('qua-trinh-xu-ly'))

const TRUE = new Set(['true', 'True', 'TRUE'])
const FALSE = new Set(['false', 'False', 'FALSE'])
const WHOLE = /^[0-9]{1,12}(\.0+)?$/

/** The normalised value of one field, or `undefined` to drop it (reported in `out`). */
function field (kind: Kind, value: unknown, path: string, out: Warning[]): unknown {
  if (kind === 'extra' || kind === 'other') return value
  if (value === null || value === '') {
    out.push(warning('LGSP_WARN_EMPTY_AS_ABSENT', path))
    return undefined
  }
  switch (kind) {
    case 'amount':
      if (typeof value === 'string' && WHOLE.test(value.trim())) {
        out.push(warning('LGSP_WARN_TYPE_COERCED', path))
        return Number(value.trim())
      }
      return value
    case 'flag':
      if (typeof value === 'boolean' || (typeof value === 'string' && (TRUE.has(value) || FALSE.has(value)))) {
        out.push(warning('LGSP_WARN_TYPE_COERCED', path))
        return value === true || TRUE.has(value as string) ? '1' : '0'
      }
      return trimmed(value, path, out)
    case 'code':
    case 'date':
      return trimmed(value, path, out)
    case 'text':
      if (typeof value === 'number') {
        out.push(warning('LGSP_WARN_TYPE_COERCED', path))
        return String(value)
      }
      return value
    default:
      return value
  }
}

function trimmed (value: unknown, path: string, out: Warning[]): unknown {
  if (typeof value !== 'string') return value
  const t = value.trim()
  if (t === value) return value
  out.push(warning(t === '' ? 'LGSP_WARN_EMPTY_AS_ABSENT' : 'LGSP_WARN_WHITESPACE_TRIMMED', path))
  return t === '' ? undefined : t
}

/** C0 controls other than tab, line feed and carriage return, and DEL. */
const CONTROL = /[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]/g

/**
 * A free-text field (names, ChuHoSo, TrichYeuHoSo, NoiDungXuLy…): text pasted from Word or a
 * scanner's OCR into one-stop software carries stray control characters (vertical tab, form
 * feed, 0x1F), which DVCQG's forms never show: they are removed and reported. NUL is never
 * text (it truncates strings in the C libraries of the systems behind DVCQG): refused.
 */
function cleanText (value: string, path: string, out: Warning[]): string {
  if (value.includes('\u0000')) throw lgspError('LGSP_ERR_REQUEST_INVALID', `${path} holds a NUL character.`, { errors: [{ path, message: 'must not contain NUL (\\u0000)' }] })
  CONTROL.lastIndex = 0
  if (!CONTROL.test(value)) return value
  out.push(warning('LGSP_WARN_CONTROL_STRIPPED', path))
  return value.replace(CONTROL, '')
}

/** A normalised copy of one object of `shape`; anything that is not an object is returned as sent. */
function object (shape: Shape, value: unknown, path: string, out: Warning[]): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value
  const result: Record<string, unknown> = {}
  for (const [name, sent] of Object.entries(value as Record<string, unknown>)) {
    const at = `${path}/${name}`
    const f = shape.fields.get(name)
    const v = f?.kind === 'text' && typeof sent === 'string' ? cleanText(sent, at, out) : sent
    if (f === undefined) {
      out.push(warning('LGSP_WARN_FIELD_UNKNOWN', at))
      result[name] = v
      continue
    }
    // A required field stays as sent: the schema says what is wrong with it.
    if (shape.required.has(name)) {
      result[name] = f.kind === 'code' || f.kind === 'date' ? trimmed(v, at, out) ?? v : v
      continue
    }
    if (f.kind === 'list') {
      if (v === null || v === '') {
        out.push(warning('LGSP_WARN_EMPTY_AS_ABSENT', at))
        continue
      }
      result[name] = f.items === undefined || !Array.isArray(v) ? v : v.map((item, i) => object(f.items!, item, `${at}/${i}`, out))
      continue
    }
    const n = field(f.kind, v, at, out)
    if (n !== undefined) result[name] = n
  }
  return result
}

/** One HoSo as sent → the form the schema checks, with what was changed. */
export function normaliseDossier (value: unknown, path: string, out: Warning[]): unknown {
  return object(hosoShape, value, path, out)
}

/** One QuaTrinhXuLy as sent → the form the schema checks, with what was changed. */
export function normaliseProgress (value: unknown, path: string, out: Warning[]): unknown {
  return object(progressShape, value, path, out)
}

/** A body of one message or an array of them, each normalised; paths name the array index when there is one. */
export function normaliseBody (body: unknown, one: (value: unknown, path: string, out: Warning[]) => unknown, out: Warning[]): unknown {
  return Array.isArray(body) ? body.map((v, i) => one(v, `/${i}`, out)) : one(body, '', out)
}
