import t from 'tap'
import { XmlParserPool, parseXmlSafely, prescan } from '../../../adapters/xml/index.js'

const notice = '<?xml version="1.0" encoding="UTF-8"?><DATA><BODY><ROW_LIST><ROW><MA_HSO>H56-1</MA_HSO><SO_TIEN>1500000</SO_TIEN></ROW></ROW_LIST></BODY></DATA>'

/** The attack corpus: each document and the code it must be refused with. */
const attacks: Array<[string, string, string]> = [
  ['XXE file read', '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><DATA>&x;</DATA>', 'LGSP_ERR_XML_DOCTYPE'],
  ['external DTD', '<?xml version="1.0"?><!DOCTYPE DATA SYSTEM "http://127.0.0.1:9/evil.dtd"><DATA/>', 'LGSP_ERR_XML_DOCTYPE'],
  ['billion laughs', `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('')}]><DATA>&lol9;</DATA>`, 'LGSP_ERR_XML_DOCTYPE'],
  ['quadratic blow-up', `<!DOCTYPE d [<!ENTITY a "${'x'.repeat(50_000)}">]><DATA>${'&a;'.repeat(50_000)}</DATA>`, 'LGSP_ERR_XML_DOCTYPE'],
  ['parameter entity', '<!DOCTYPE d [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p">%p;]><DATA/>', 'LGSP_ERR_XML_DOCTYPE'],
  ['DOCTYPE in lower case after a comment', '<!-- hi --><!doctype DATA><DATA/>', 'LGSP_ERR_XML_DOCTYPE'],
  ['deep nesting', `${'<a>'.repeat(10_000)}${'</a>'.repeat(10_000)}`, 'LGSP_ERR_XML_TOO_DEEP'],
  ['huge attribute', `<DATA x="${'A'.repeat(100_000)}"/>`, 'LGSP_ERR_XML_ATTRIBUTE_TOO_LONG'],
  ['many attributes', `<DATA ${Array.from({ length: 5000 }, (_, i) => `a${i}="1"`).join(' ')}/>`, 'LGSP_ERR_XML_TOO_MANY_ATTRIBUTES'],
  ['oversized document', `<DATA>${'x'.repeat(3 * 1024 * 1024)}</DATA>`, 'LGSP_ERR_XML_TOO_LARGE'],
  ['malformed: unclosed tag', '<DATA><BODY></DATA>', 'LGSP_ERR_XML_MALFORMED'],
  ['malformed: not XML', '{"json": true}', 'LGSP_ERR_XML_MALFORMED'],
  ['malformed: unterminated attribute', '<DATA a="1><BODY/></DATA>', 'LGSP_ERR_XML_MALFORMED'],
  ['wrong root', '<ROWS><ROW/></ROWS>', 'LGSP_ERR_XML_NAMESPACE'],
  ['two roots', '<DATA/><DATA/>', 'LGSP_ERR_XML_MALFORMED']
]

t.test('the attack corpus is refused with its code', async (t) => {
  for (const [name, xml, code] of attacks) {
    t.throws(() => parseXmlSafely(xml, { root: 'DATA' }), { code }, name)
  }
})

t.test('DTD attacks are refused by the pre-scan, before any parser reads them', async (t) => {
  for (const [name, xml, code] of attacks.filter(([, , c]) => c !== 'LGSP_ERR_XML_MALFORMED' && c !== 'LGSP_ERR_XML_NAMESPACE')) {
    t.throws(() => prescan(xml), { code }, name)
  }
})

t.test('a well-formed notice parses, entities stay unexpanded', async (t) => {
  t.same(parseXmlSafely(notice, { root: 'DATA' }), { BODY: { ROW_LIST: { ROW: { MA_HSO: 'H56-1', SO_TIEN: '1500000' } } } })
  t.match(parseXmlSafely('<DATA>a &amp; b</DATA>', { root: 'DATA' }), 'a &amp; b')
})

t.test('the namespace of the document element is checked', async (t) => {
  const ns = 'urn:gdt:thongbaothue:1'
  t.ok(parseXmlSafely(`<tb:DATA xmlns:tb="${ns}"><tb:BODY/></tb:DATA>`, { root: 'DATA', namespace: ns }))
  t.throws(() => parseXmlSafely(`<tb:DATA xmlns:tb="urn:other"><tb:BODY/></tb:DATA>`, { root: 'DATA', namespace: ns }), { code: 'LGSP_ERR_XML_NAMESPACE' })
  t.throws(() => parseXmlSafely('<DATA><BODY/></DATA>', { root: 'DATA', namespace: ns }), { code: 'LGSP_ERR_XML_NAMESPACE' })
})

t.test('large documents are parsed in the worker pool; hostile ones there do not stall it', async (t) => {
  const pool = new XmlParserPool()
  t.teardown(() => pool.close())
  const rows = Array.from({ length: 3000 }, (_, i) => `<ROW><MA_HSO>H56-${i}</MA_HSO><SO_TIEN>${i}</SO_TIEN></ROW>`).join('')
  const big = `<DATA><BODY><ROW_LIST>${rows}</ROW_LIST></BODY></DATA>`
  const hostile = attacks.map(([, xml]) => xml).filter((x) => x.length > 64 * 1024)
  t.ok(hostile.length >= 3, 'several attacks are big enough for the pool')
  const results = await Promise.allSettled([...hostile.map((x) => pool.parse(x, { root: 'DATA' })), pool.parse(big, { root: 'DATA' })])
  t.ok(results.slice(0, -1).every((r) => r.status === 'rejected'), 'every hostile document refused')
  t.match(results.at(-1), { status: 'fulfilled' })
  const doc = (results.at(-1) as PromiseFulfilledResult<Record<string, any>>).value
  t.equal(doc.BODY.ROW_LIST.ROW.length, 3000)
  t.ok(pool.pooled >= 4)
  // The pool still answers after the attacks.
  t.equal(((await pool.parse(big, { root: 'DATA' })) as Record<string, any>).BODY.ROW_LIST.ROW.length, 3000)
})
