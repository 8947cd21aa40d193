// madge 8 ships no type declarations; this covers the part of its JS API tests/graph.test.ts uses.
declare module 'madge' {
  interface MadgeConfig {
    baseDir?: string
    fileExtensions?: string[]
    tsConfig?: string
    excludeRegExp?: RegExp[]
  }
  interface MadgeResult {
    /** Each file (relative to baseDir) and the files it imports. */
    obj (): Record<string, string[]>
    /** Every import cycle, as the files on it. */
    circular (): string[][]
    warnings (): { skipped: string[] }
  }
  export default function madge (path: string | string[], config?: MadgeConfig): Promise<MadgeResult>
}
