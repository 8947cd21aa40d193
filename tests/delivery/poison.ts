/**
 * A dossier DVCQG keeps refusing progress for, even after the gateway re-syncs it: the
 * simulator's progress check (`dossiers.has`) says "Hồ sơ không tồn tại" for it while its
 * record stays held. Deleting the dossier from the simulator no longer poisons it: the
 * gateway re-syncs a dossier DVCQG does not hold, then sends the entry.
 */
import type { DvcqgSimulator } from '../../adapters/dvcqg/simulator.js'

const poisoned = new WeakMap<DvcqgSimulator, Set<string>>()

/** Makes progress for `maHoSo` fail as "does not exist"; returns the function that lifts it. */
export function poisonProgress (sim: DvcqgSimulator, maHoSo: string): () => void {
  let set = poisoned.get(sim)
  if (set === undefined) {
    const ids = new Set<string>()
    set = ids
    poisoned.set(sim, ids)
    const map = sim.dossiers
    const has = map.has.bind(map)
    map.has = (key: string): boolean => ids.has(key) ? false : has(key)
  }
  set.add(maHoSo)
  return () => { poisoned.get(sim)?.delete(maHoSo) }
}
