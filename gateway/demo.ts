/**
 * The local demo behind `npm start`: simulators of DVCQG and of a one-stop system on
 * loopback ports, and a gateway in the dev profile on its embedded store.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, relative, isAbsolute } from 'node:path'
import { DvcqgSimulator } from '../adapters/dvcqg/simulator.js'
import { OnestopSimulator } from '../adapters/onestop/simulator.js'
import { PaygovSimulator } from '../adapters/paygov/simulator.js'
import { GplxSimulator } from '../adapters/gplx/simulator.js'
import { TaxSimulator } from '../adapters/tax/simulator.js'
import type { GatewayConfig } from '../schemas/types.js'
import { resolveConfig } from './config.js'
import { formatDvcqgDate, vnDate } from './ledger/dates.js'
import { closeOnSignals, startGateway } from './server.js'

export interface DemoPorts { gateway: number, dvcqg: number, onestop: number, paygov: number, gplx: number, tax: number }

/** Dev-profile members; their secrets are for the local demo only. */
export const demoMembers = {
  onestop: { id: 'onestop-demo', secret: 'onestop-demo-secret' },
  vertical: { id: 'gplx-demo', secret: 'gplx-demo-secret-00' },
  portal: { id: 'dvcqg-portal', secret: 'dvcqg-portal-secret' },
  operator: { id: 'operator', secret: 'operator-demo-secret' },
  /** DVCQG pushing tax notices and receipts (its secret is the push's SecurityKey). */
  tax: { id: 'dvcqg-push', secret: 'dvcqg-push-secret-00' }
} as const

/** The demo's configuration document (before defaults). */
export function demoConfigDocument (dataDir: string, ports: DemoPorts, sims: { dvcqg: DvcqgSimulator, onestop: OnestopSimulator, paygov: PaygovSimulator, gplx: GplxSimulator, tax: TaxSimulator }): Record<string, unknown> {
  const m = demoMembers
  return {
    profile: 'dev',
    http: { host: '127.0.0.1', port: ports.gateway },
    store: { path: join(dataDir, 'lgsp.db') },
    pki: { dir: join(dataDir, 'pki') },
    members: [
      { id: m.onestop.id, name: 'Phần mềm một cửa điện tử (demo)', clientSecret: m.onestop.secret, messageKinds: ['dossier', 'progress', 'payment'], destinations: ['dvcqg'], read: 'own' },
      { id: m.vertical.id, name: 'Hệ thống GPLX (demo)', clientSecret: m.vertical.secret, messageKinds: ['dossier', 'progress'], destinations: ['dvcqg', 'onestop'], read: 'all' },
      { id: m.portal.id, name: 'Cổng DVCQG', clientSecret: m.portal.secret, read: 'all' },
      { id: m.operator.id, name: 'Provincial IT operator', clientSecret: m.operator.secret, admin: true, read: 'all' },
      { id: m.tax.id, name: 'Cổng DVCQG: thông báo thuế, chứng từ thuế (demo)', clientSecret: m.tax.secret, messageKinds: ['progress'], destinations: ['dvcqg', 'onestop'], read: 'all' }
    ],
    access: {
      // Dossiers of the demo province's one-stop agency are the one-stop's, even before it sends them.
      agencyOwners: { '000.00.01.H56': m.onestop.id },
      rules: [
        // GPLX brings in and moves on driving-licence dossiers (its procedure), whoever owns them.
        { member: m.vertical.id, kinds: ['dossier', 'progress'], procedures: ['1.003560.000.00.00.H56'] },
        // DVCQG pushes tax notices and tax receipts for any dossier.
        { member: m.tax.id, kinds: ['tax-notice', 'progress'], allDossiers: true }
      ]
    },
    destinations: {
      dvcqg: { adapter: 'dvcqg', url: sims.dvcqg.url, authPath: sims.dvcqg.authPath, integrationPath: sims.dvcqg.integrationPath, username: 'lgsp', password: 'dvcqg-dev-password', madonvi: '000.00.00.H56' },
      onestop: { adapter: 'onestop', url: sims.onestop.url, token: sims.onestop.token, webhookPath: sims.onestop.webhookPath },
      gplx: { adapter: 'gplx', url: sims.gplx.url, username: sims.gplx.username, password: sims.gplx.password, donViXuLy: 'SGTVT-H56', poll: { member: m.vertical.id, intervalMs: 2000 } },
      tax: { adapter: 'tax', url: sims.tax.url, notices: { member: m.tax.id } }
    },
    payments: {
      url: sims.paygov.url, initPath: sims.paygov.initPath, queryPath: sims.paygov.queryPath,
      partnerCode: sims.paygov.partnerCode, secret: sims.paygov.secret,
      destinations: ['dvcqg', 'onestop'],
      settlement: { intervalMs: 30_000, pendingAfterMs: 120_000 }
    },
    // The DVCQG simulator serves a small catalogue (LayDanhSachTTHC, LayThuTuc, LayDanhMucCoQuan).
    catalogueSync: { enabled: true }
  }
}

/** The demo's config file, for the operator commands (`lgsp queues --config …`). */
export const demoConfigFile = (dataDir: string): string => join(dataDir, 'lgsp.demo.json')

function walkthrough (gateway: string, ports: DemoPorts, configFile: string): string {
  const m = demoMembers.onestop
  const today = vnDate().replace(/-/g, '')
  const id = `000.00.01.H56-${today.slice(2)}`
  const cfg = isAbsolute(configFile) && !relative(process.cwd(), configFile).startsWith('..') ? relative(process.cwd(), configFile) : configFile
  return `
lgsp demo is running
  gateway            ${gateway}
  operator console   ${gateway}/console   (log in as ${demoMembers.operator.id} / ${demoMembers.operator.secret})
  DVCQG simulator    http://127.0.0.1:${ports.dvcqg}   (state: GET /_sim/state)
  one-stop simulator http://127.0.0.1:${ports.onestop}   (state: GET /_sim/state)
  PayGov simulator   http://127.0.0.1:${ports.paygov}   (state: GET /_sim/state)
  GPLX simulator     http://127.0.0.1:${ports.gplx}   (state: GET /_sim/state; overload: POST /_sim/faults)
  tax simulator      http://127.0.0.1:${ports.tax}/thue   (SOAP, WSDL: ?wsdl; state: GET /_sim/state)

The GPLX simulator holds a driver-licence dossier received at the ministry; the gateway
polls it (DanhSachHoSo, TraCuuHoSo) and it appears at DVCQG:  curl -s http://127.0.0.1:${ports.dvcqg}/_sim/state

Post a first dossier:
  TOKEN=$(curl -s -u ${m.id}:${m.secret} -d grant_type=client_credentials ${gateway}/token | sed 's/.*"access_token":"\\([^"]*\\)".*/\\1/')
  curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' ${gateway}/v1/dossiers -d '{
    "MaHoSo": "000.00.01.H56-${today.slice(2)}-0001", "MaTTHC": "1.003560.000.00.00.H56", "TenTTHC": "Cấp giấy phép lái xe",
    "KenhThucHien": "2", "ChuHoSo": "Nguyễn Văn A", "LoaiDoiTuong": "1", "TrangThaiHoSo": "2",
    "NgayTiepNhan": "${today}083000", "NgayHenTra": "${today}170000" }'
  curl -s -H "Authorization: Bearer $TOKEN" ${gateway}/v1/dossiers/000.00.01.H56-${today.slice(2)}-0001
  curl -s http://127.0.0.1:${ports.dvcqg}/_sim/state

Pay its fees online (PayGov simulator on :${ports.paygov}), then "pay" at the URL returned:
  curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' ${gateway}/v1/payments -d '{
    "MaHoSo": "000.00.01.H56-${today.slice(2)}-0001", "MaDonVi": "000.00.01.H56", "PhiLePhi": [{ "TenPhiLePhi": "Lệ phí cấp đổi", "Gia": 135000 }] }'
  curl -s "<UrlThanhToan>?result=success"
  curl -s -H "Authorization: Bearer $TOKEN" ${gateway}/v1/dossiers/000.00.01.H56-${today.slice(2)}-0001   # DuocThanhToanTrucTuyen: "2"

Have DVCQG push a tax notice for it (base64 XML to ${gateway}/v1/tax/ImportThongBaoThueFromDVCQG):
  curl -s -H 'Content-Type: application/json' http://127.0.0.1:${ports.tax}/_sim/push -d '{
    "MaHoSo": "000.00.01.H56-${today.slice(2)}-0001", "lines": [{ "TEN_TIEUMUC": "Lệ phí trước bạ", "SO_TIEN": 500000 }] }'
  curl -s -H "Authorization: Bearer $TOKEN" ${gateway}/v1/dossiers/000.00.01.H56-${today.slice(2)}-0001   # TrangThaiHoSo 6, the tax fee line

Make a dead letter: have the DVCQG simulator refuse a dossier for good, then post it:
  curl -s http://127.0.0.1:${ports.dvcqg}/_sim/refuse -H 'Content-Type: application/json' -d '{"MaHoSo": "${id}-0002"}'
  curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' ${gateway}/v1/dossiers -d '{
    "MaHoSo": "${id}-0002", "MaTTHC": "1.003560.000.00.00.H56", "TenTTHC": "Cấp giấy phép lái xe",
    "KenhThucHien": "2", "ChuHoSo": "Trần Thị B", "LoaiDoiTuong": "1", "TrangThaiHoSo": "2",
    "NgayTiepNhan": "${today}083000", "NgayHenTra": "${today}170000" }'

Operate it from another terminal: the demo's configuration (dev profile, demo secrets) is in
${cfg}
  lgsp queues --config ${cfg}
  lgsp dlq list --config ${cfg}                # the refused dossier, LGSP_ERR_DVCQG_REJECTED
  lgsp dlq replay ID --config ${cfg}           # after lifting it: same /_sim/refuse call with "refuse": false
  lgsp reconcile --agency 000.00.00.H56 --config ${cfg}
  lgsp payments settle --config ${cfg}
(from a checkout without 'npm link': npx lgsp …)
Stop with Ctrl-C.
`
}

export async function runDemo (dataDir = process.env.LGSP_DATA_DIR ?? './data'): Promise<void> {
  const ports: DemoPorts = {
    gateway: Number(process.env.LGSP_HTTP_PORT ?? 8080),
    dvcqg: Number(process.env.LGSP_DEMO_DVCQG_PORT ?? 8801),
    onestop: Number(process.env.LGSP_DEMO_ONESTOP_PORT ?? 8802),
    paygov: Number(process.env.LGSP_DEMO_PAYGOV_PORT ?? 8803),
    gplx: Number(process.env.LGSP_DEMO_GPLX_PORT ?? 8804),
    tax: Number(process.env.LGSP_DEMO_TAX_PORT ?? 8805)
  }
  const dvcqg = await new DvcqgSimulator().start(ports.dvcqg)
  const onestop = await new OnestopSimulator().start(ports.onestop)
  const paygov = await new PaygovSimulator().start(ports.paygov)
  const gplx = await new GplxSimulator().start(ports.gplx)
  const tax = await new TaxSimulator().start(ports.tax)
  const doc = demoConfigDocument(dataDir, ports, { dvcqg, onestop, paygov, gplx, tax })
  const config: GatewayConfig = resolveConfig(doc)
  let gateway: Awaited<ReturnType<typeof startGateway>>
  try {
    gateway = await startGateway(config)
  } catch (err) {
    // All or nothing: the simulators go too.
    await Promise.all([paygov.stop(), dvcqg.stop(), onestop.stop(), gplx.stop(), tax.stop()])
    throw err
  }
  // Written once the gateway runs, so that it names the ports really used. Secrets inside: 0600.
  const configFile = demoConfigFile(dataDir)
  mkdirSync(dataDir, { recursive: true })
  writeFileSync(configFile, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 })
  chmodSync(configFile, 0o600)
  paygov.callbackUrl = `${gateway.url}/v1/callbacks/paygov`
  tax.pushTarget = { url: gateway.url, securityKey: demoMembers.tax.secret }
  // A dossier received at the ministry (its own online channel): the GPLX poller brings it in.
  const day = formatDvcqgDate(Date.now())
  gplx.receive({ maHoSo: `000.00.01.H56-${day.slice(2, 8)}-9001`, maTTHC: '1.003560.000.00.00.H56', hoTen: 'Phạm Thị Lan', soCmnd: '056190001234', hangDaoTao: 'B2', ngayHenTra: formatDvcqgDate(Date.now() + 5 * 86_400_000) })
  closeOnSignals(gateway, async () => { await paygov.stop(); await dvcqg.stop(); await onestop.stop(); await gplx.stop(); await tax.stop() })
  process.stdout.write(walkthrough(gateway.url, ports, configFile))
}
