import t from 'tap'
import { formatDvcqgDate, isDvcqgDate, parseDvcqgDate, vnDate, vnMonth, vnMonthStart } from '../../gateway/ledger/dates.js'

t.test('DVCQG dates are Vietnam time (UTC+7)', async (t) => {
  t.equal(parseDvcqgDate('20240201080000'), Date.UTC(2024, 1, 1, 1, 0, 0))
  t.equal(formatDvcqgDate(Date.UTC(2024, 1, 1, 17, 30, 5)), '20240202003005', 'past midnight in Hà Nội')
  t.equal(formatDvcqgDate(parseDvcqgDate('20241231235959')!), '20241231235959')
})

t.test('only real calendar times are dates', async (t) => {
  for (const bad of ['20240230080000', '20230229120000', '20240431000000', '20240101240000', '20240101236000', '20241301000000', '2024020108000', '2024-02-01T08:00', '']) {
    t.notOk(isDvcqgDate(bad), bad)
  }
  t.ok(isDvcqgDate('20240229120000'), 'leap day')
})

t.test('Vietnam days and months turn at 17:00 UTC', async (t) => {
  t.equal(vnDate(Date.UTC(2024, 0, 31, 16, 59, 59)), '2024-01-31')
  t.equal(vnDate(Date.UTC(2024, 0, 31, 17)), '2024-02-01', 'midnight in Hà Nội')
  t.equal(vnMonth(Date.UTC(2024, 0, 31, 16, 59, 59)), '2024-01')
  t.equal(vnMonth(Date.UTC(2024, 0, 31, 17)), '2024-02')
  t.equal(vnMonthStart(2024, 1), Date.UTC(2024, 0, 31, 17), '1 February 00:00 in Vietnam')
  t.equal(vnMonthStart(2024, 12), Date.UTC(2024, 11, 31, 17), 'month 12 is January of the next year')
  t.equal(vnMonth(vnMonthStart(2024, 1)), '2024-02')
  t.equal(vnMonth(vnMonthStart(2024, 1) - 1), '2024-01')
})
