/**
 * JSON Schema validation (ajv, draft 2020-12). The schemas in schemas/ are compiled once,
 * on first use; the TypeScript types in schemas/types.ts are generated from the same files.
 */
import { readFileSync } from 'node:fs'
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import * as addFormatsModule from 'ajv-formats'
import type { GatewayConfig, HoSo, OnestopReconcileRequest, PaygovCallback, PaymentRequest, ProcedureCatalogue, QuaTrinhXuLy } from '../schemas/types.js'
import { isDvcqgDate } from './ledger/dates.js'
import { lgspError } from './errors.js'
import { schemaDir } from './paths.js'

// ajv-formats is CommonJS: its default export arrives wrapped under ESM.
const addFormats = addFormatsModule.default.default

const schemaFiles = ['common', 'hoso', 'qua-trinh-xu-ly', 'dossier-request', 'progress-request', 'payment-request', 'paygov-callback', 'procedure-catalogue', 'onestop-reconcile', 'config'] as const

function buildAjv (allErrors: boolean): Ajv2020 {
  const ajv = new Ajv2020({ allErrors, useDefaults: true, discriminator: true, strict: true, strictTypes: false, strictRequired: false })
  addFormats(ajv, ['email', 'uri', 'date-time'])
  ajv.addFormat('dvcqg-datetime', { type: 'string', validate: isDvcqgDate })
  for (const f of schemaFiles) ajv.addSchema(JSON.parse(readFileSync(`${schemaDir}/${f}.schema.json`, 'utf8')) as object)
  return ajv
}

/**
 * Two compilations of the same schemas. With allErrors, ajv keeps validating after the first
 * failure, and over `oneOf` (one record or an array) the cost grew with the square of the
 * array's length: 40,000 numbers (78 KB) held the event loop for seconds. The hot path
 * (checkSchema) asks the first-error validator, which stops at once (maxItems is checked
 * before any item), and asks the all-errors one for the field list only when the body is
 * within the schema's array bounds, where its work is bounded by them.
 */
// Both are built, and each validator compiled, on first use: a CLI command that validates
// only the config does not pay for compiling every message schema (about 0.75 s) at import.
let ajv: Ajv2020 | undefined
let firstError: Ajv2020 | undefined
const fastOf = new WeakMap<ValidateFunction, ValidateFunction>()
const get = <T>(name: typeof schemaFiles[number]): ValidateFunction<T> => {
  const id = `https://lgsp.gov.vn/schemas/${name}.schema.json`
  ajv ??= buildAjv(true)
  firstError ??= buildAjv(false)
  const all = ajv.getSchema<T>(id) as ValidateFunction<T>
  fastOf.set(all, firstError.getSchema(id) as ValidateFunction)
  return all
}

/** The largest array a body may have for its full error list to be worked out (the schemas' maxItems are 100 and 200). */
const MAX_DETAILED_ITEMS = 200

/** Whether a body is small enough in shape for the all-errors pass: no array past the schemas' bounds, nesting bounded. */
function detailable (value: unknown, depth = 0): boolean {
  if (depth > 8) return false
  if (Array.isArray(value)) return value.length <= MAX_DETAILED_ITEMS && value.every((v) => detailable(v, depth + 1))
  if (value !== null && typeof value === 'object') {
    const entries = Object.values(value)
    return entries.length <= 200 && entries.every((v) => detailable(v, depth + 1))
  }
  return true
}

interface Validators {
  dossierRequest: ValidateFunction<HoSo | HoSo[]>
  progressRequest: ValidateFunction<QuaTrinhXuLy | QuaTrinhXuLy[]>
  paymentRequest: ValidateFunction<PaymentRequest>
  paygovCallback: ValidateFunction<PaygovCallback>
  catalogue: ValidateFunction<ProcedureCatalogue>
  onestopReconcile: ValidateFunction<OnestopReconcileRequest>
  config: ValidateFunction<GatewayConfig>
}

const names: Record<keyof Validators, typeof schemaFiles[number]> = {
  dossierRequest: 'dossier-request',
  progressRequest: 'progress-request',
  paymentRequest: 'payment-request',
  paygovCallback: 'paygov-callback',
  catalogue: 'procedure-catalogue',
  onestopReconcile: 'onestop-reconcile',
  config: 'config'
}

/** Compiled validators, one per message and for the config file (each compiled when first read). */
export const validators = {} as Validators
for (const [key, file] of Object.entries(names) as Array<[keyof Validators, typeof schemaFiles[number]]>) {
  let compiled: ValidateFunction | undefined
  Object.defineProperty(validators, key, { enumerable: true, get: () => (compiled ??= get(file)) })
}

/**
 * Compiles a schema that is not one of the project's files (a component's config section):
 * with the same keywords and formats, and able to `$ref` the project's schemas by their id.
 */
export function compileSchema (schema: object): ValidateFunction {
  ajv ??= buildAjv(true)
  return ajv.compile(schema)
}

/** One schema violation as the client sees it: where and what, never the value sent. */
export interface FieldError {
  path: string
  message: string
}

/**
 * Turns ajv's errors into field errors. With `oneOf` (one record or an array), ajv reports
 * the failures of both branches: keep those of the branch that matches the body's shape.
 */
function relevantErrors (errors: readonly ErrorObject[] | null | undefined, body: unknown): ErrorObject[] {
  const isArray = Array.isArray(body)
  return (errors ?? []).filter((e) => {
    if (e.keyword === 'oneOf' || e.keyword === 'if') return false
    const branch = e.schemaPath.startsWith('#/oneOf/1') ? 'array' : e.schemaPath.startsWith('#/oneOf/0') ? 'single' : undefined
    return branch === undefined || (branch === 'array') === isArray
  })
}

const isDateError = (e: ErrorObject): boolean => e.keyword === 'format' && (e.params as { format: string }).format === 'dvcqg-datetime'

export function fieldErrors (errors: readonly ErrorObject[] | null | undefined, body: unknown): FieldError[] {
  const relevant = relevantErrors(errors, body)
  const seen = new Set<string>()
  const out: FieldError[] = []
  for (const e of relevant) {
    let path = e.instancePath === '' ? '/' : e.instancePath
    let message = e.message ?? 'is invalid'
    if (e.keyword === 'required') path = `${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}`
    if (e.keyword === 'additionalProperties') {
      path = `${e.instancePath}/${(e.params as { additionalProperty: string }).additionalProperty}`
      message = 'is not a known field'
    }
    if (e.keyword === 'enum') message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.filter((v) => typeof v === 'string').join(', ')}`
    if (isDateError(e)) message = 'must be a real date as yyyyMMddHHmmss'
    const key = `${path} ${message}`
    if (!seen.has(key)) {
      seen.add(key)
      out.push({ path, message })
    }
  }
  return out.slice(0, 50)
}

/** Whether the only problems are date formats (reported as LGSP_ERR_REQUEST_INVALID_DATE). */
export function onlyDateErrors (errors: readonly ErrorObject[] | null | undefined, body: unknown): boolean {
  const relevant = relevantErrors(errors, body)
  return relevant.length > 0 && relevant.every(isDateError)
}

/**
 * Refuses at once a body that is an array longer than the schema's array branch allows
 * (`oneOf: [record, {type: array, maxItems}]`), before normalisation walks its items.
 */
export function checkBatchSize (validator: ValidateFunction, body: unknown): void {
  if (!Array.isArray(body)) return
  const branches = (validator.schema as { oneOf?: Array<{ type?: string, maxItems?: number }> }).oneOf ?? []
  const max = branches.find((b) => b.type === 'array')?.maxItems
  if (max !== undefined && body.length > max) {
    throw lgspError('LGSP_ERR_REQUEST_INVALID', `The batch has ${body.length} items; at most ${max} per request.`, { errors: [{ path: '/', message: `must NOT have more than ${max} items` }] })
  }
}

/**
 * Checks a body against a compiled schema; throws LGSP_ERR_REQUEST_INVALID (or
 * LGSP_ERR_REQUEST_INVALID_DATE when only dates are wrong) with the field errors.
 */
export function checkSchema (validator: ValidateFunction, body: unknown): void {
  const fast = fastOf.get(validator)
  let found: readonly ErrorObject[] | null | undefined
  if (fast !== undefined) {
    if (fast(body)) return
    found = fast.errors
    // Every field error, for a body whose size the schema bounds; the first one otherwise.
    if (detailable(body) && !validator(body)) found = validator.errors
  } else {
    if (validator(body)) return
    found = validator.errors
  }
  const errors = fieldErrors(found, body)
  if (onlyDateErrors(found, body)) throw lgspError('LGSP_ERR_REQUEST_INVALID_DATE', `Invalid date in ${errors.map((e) => e.path).join(', ')}: use yyyyMMddHHmmss.`, { errors })
  throw lgspError('LGSP_ERR_REQUEST_INVALID', `${errors.length} field(s) do not match the schema.`, { errors })
}
