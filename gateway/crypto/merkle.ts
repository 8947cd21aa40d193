/**
 * Merkle trees as in Certificate Transparency (RFC 9162 2.1): leaves hashed with a 0x00
 * prefix and nodes with 0x01 (so a leaf can never pass for a node), the tree split at the
 * largest power of two below its size. One signature over the root covers every leaf; a
 * leaf's inclusion proof is its audit path.
 */
import { createHash } from 'node:crypto'

const LEAF = Buffer.from([0])
const NODE = Buffer.from([1])

export const leafHash = (data: Buffer | string): Buffer =>
  createHash('sha256').update(LEAF).update(data).digest()

export const nodeHash = (left: Buffer, right: Buffer): Buffer =>
  createHash('sha256').update(NODE).update(left).update(right).digest()

/** Largest power of two strictly below n (n >= 2). */
const split = (n: number): number => 2 ** Math.floor(Math.log2(n - 1))

/** The root of a tree of leaf hashes and the audit path of every leaf (RFC 9162 2.1.3.1), in one pass. */
export function buildTree (leaves: readonly Buffer[]): { root: Buffer, paths: Buffer[][] } {
  if (leaves.length === 0) throw new RangeError('a Merkle tree needs at least one leaf')
  if (leaves.length === 1) return { root: leaves[0]!, paths: [[]] }
  const k = split(leaves.length)
  const left = buildTree(leaves.slice(0, k))
  const right = buildTree(leaves.slice(k))
  return {
    root: nodeHash(left.root, right.root),
    paths: [...left.paths.map((p) => [...p, right.root]), ...right.paths.map((p) => [...p, left.root])]
  }
}

/** The root an audit path leads to (RFC 9162 2.1.3.2), or undefined when the path cannot belong to a tree of that size. */
export function rootFromPath (leaf: Buffer, index: number, size: number, path: readonly Buffer[]): Buffer | undefined {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return undefined
  let fn = index
  let sn = size - 1
  let r = leaf
  for (const p of path) {
    if (sn === 0) return undefined
    if ((fn & 1) === 1 || fn === sn) {
      r = nodeHash(p, r)
      if ((fn & 1) === 0) {
        while ((fn & 1) === 0 && fn !== 0) {
          fn = Math.floor(fn / 2)
          sn = Math.floor(sn / 2)
        }
      }
    } else {
      r = nodeHash(r, p)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 ? r : undefined
}
