import t from 'tap'
import { buildTree, leafHash, nodeHash, rootFromPath } from '../../gateway/crypto/merkle.js'

t.test('every leaf of trees of 1 to 70 leaves proves its inclusion; wrong leaves, indexes and sizes do not', async (t) => {
  for (let n = 1; n <= 70; n++) {
    const leaves = Array.from({ length: n }, (_, i) => leafHash(`message ${i}`))
    const { root, paths } = buildTree(leaves)
    for (let i = 0; i < n; i++) {
      if (!rootFromPath(leaves[i]!, i, n, paths[i]!)?.equals(root)) t.fail(`leaf ${i} of ${n}`)
      if (rootFromPath(leafHash('not in the batch'), i, n, paths[i]!)?.equals(root) === true) t.fail(`a foreign leaf passes at ${i} of ${n}`)
      if (n > 1 && rootFromPath(leaves[i]!, (i + 1) % n, n, paths[i]!)?.equals(root) === true) t.fail(`leaf ${i} of ${n} passes at another index`)
    }
  }
  t.pass('all proofs checked')
})

t.test('the tree is RFC 9162\'s: a known three-leaf root, and a leaf never passes for a node', async (t) => {
  const [a, b, c] = ['a', 'b', 'c'].map((x) => leafHash(x)) as [Buffer, Buffer, Buffer]
  t.same(buildTree([a, b, c]).root, nodeHash(nodeHash(a, b), c), 'split at the largest power of two below the size')
  t.same(buildTree([a]).root, a, 'a batch of one is its leaf')
  t.notSame(leafHash(Buffer.concat([a, b])), nodeHash(a, b), 'domain separation between leaves and nodes')
  t.equal(rootFromPath(a, 3, 3, []), undefined, 'an index past the size')
  t.equal(rootFromPath(a, 0, 2, []), undefined, 'a path too short for the size')
})
