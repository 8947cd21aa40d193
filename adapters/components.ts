/**
 * The components the gateway knows: the built-in ones, one line each, and any registered at
 * run time. Only manifests are loaded here (adapters/<system>/component.ts): reading the
 * config checks every section without loading any client.
 */
import type { Component } from './component.js'
import { component as dvcqg } from './dvcqg/component.js'
import { component as gplx } from './gplx/component.js'
import { component as onestop } from './onestop/component.js'
import { component as tax } from './tax/component.js'

export type { Component } from './component.js'

/** The built-in components: a new system is a folder and one line here. */
const builtIn: readonly Component[] = [dvcqg, onestop, gplx, tax] as unknown as Component[]

const components = new Map<string, Component>(builtIn.map((c) => [c.name, c]))

/**
 * Registers a component that is not built in (a province's own system, the tests' example):
 * its config sections are validated with its own schema at start.
 */
export function registerComponent (component: Component<never>): void {
  const known = components.get(component.name)
  if (known !== undefined && known !== component as unknown) throw new TypeError(`a component named ${component.name} is already registered`)
  components.set(component.name, component as unknown as Component)
}

/** The component an `adapter` value names. */
export const componentOf = (name: string): Component | undefined => components.get(name)

/** Every registered component, built-in first. */
export const allComponents = (): Component[] => [...components.values()]

/** Whether a component's config section is part of schemas/config.schema.json (typed and validated with the whole file). */
export const isBuiltIn = (name: string): boolean => builtIn.some((c) => c.name === name)
