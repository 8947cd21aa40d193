/**
 * The components' own HTTP routes (a system's pushes to the province): the core registers
 * each component's routes once, when some destination uses it, with a context that offers
 * what the core's own routes have (the same intake, member authentication, signatures,
 * route documentation). Nothing here knows which systems they are.
 */
import type { FastifyInstance } from 'fastify'
import type { AdapterRegistry, ComponentConfig, RouteContext } from '../adapters/registry.js'
import { XmlParserPool } from '../adapters/xml/index.js'
import type { GatewayConfig } from '../schemas/types.js'
import { SIGNATURE_HEADER, type InboundVerifier } from './crypto/inbound.js'
import type { LgspError } from './errors.js'
import type { IntakeDeps } from './intake.js'
import type { Logger } from './logger.js'
import type { Member, Members } from './members.js'
import type { Authenticate } from './plugins/auth.js'
import { componentRouteDocs } from './plugins/openapi.js'
import { producerContext } from './producers.js'

export interface ComponentRouteDeps {
  intake: IntakeDeps
  members: Members
  auth: Authenticate
  verifier?: InboundVerifier
  log: Logger
}

/** Registers the routes of every component some destination uses. */
export async function componentRoutes (app: FastifyInstance, config: GatewayConfig, adapters: AdapterRegistry, deps: ComponentRouteDeps): Promise<void> {
  let xml: XmlParserPool | undefined
  app.addHook('onClose', async () => { await xml?.close() })
  const context: RouteContext = {
    ...producerContext(deps.intake, (id) => deps.members.get(id), deps.log, () => (xml ??= new XmlParserPool())),
    async bearerMember (req, reply) {
      await deps.auth(req, reply)
      return req.member!
    },
    async secretMember (req, ids, secret) {
      let found: Member | undefined
      for (const id of ids) {
        try {
          found = await deps.members.authenticate(id, secret, req.ip)
          break
        } catch (err) {
          if ((err as LgspError).code === 'LGSP_ERR_AUTH_MEMBER_DISABLED') throw err
        }
      }
      if (found === undefined) return undefined
      // Members that must sign still must, whichever way they authenticate.
      const signature = await deps.verifier?.check(found, req.headers[SIGNATURE_HEADER], req.rawBody ?? '')
      if (signature !== undefined) req.signature = req.headers[SIGNATURE_HEADER] as string
      return found
    },
    docs: componentRouteDocs
  }
  const byComponent = new Map<string, Array<{ name: string, config: ComponentConfig }>>()
  for (const [name, cfg] of Object.entries(config.destinations)) {
    if (cfg === undefined || adapters.componentOf(name)?.routes === undefined) continue
    byComponent.set(cfg.adapter, [...(byComponent.get(cfg.adapter) ?? []), { name, config: cfg as unknown as ComponentConfig }])
  }
  for (const destinations of byComponent.values()) {
    await adapters.componentOf(destinations[0]!.name)!.routes!(app, destinations, context)
  }
}
