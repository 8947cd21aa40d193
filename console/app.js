// The operator console: plain ES module, no build step. Every value from the server is put
// into the page as text (never as HTML); the server has already masked personal data.
import { dict, stateNames, indicatorNames } from './i18n.js'

let lang = localStorage.getItem('lgsp-console-lang') === 'en' ? 'en' : 'vi'
let csrf = ''
let me = null
let refreshTimer
const charts = []

const t = (k) => dict[lang][k] ?? dict.vi[k] ?? k
const app = document.getElementById('app')

/** Builds an element: h('a', { href, class }, child, …); strings become text nodes. */
function h (tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v)
    else if (k === 'dataset') Object.assign(el.dataset, v)
    else el.setAttribute(k, v === true ? '' : String(v))
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue
    el.append(c instanceof Node ? c : document.createTextNode(String(c)))
  }
  return el
}

const fmtTime = (ms) => ms === null || ms === undefined ? '—' : new Date(typeof ms === 'number' ? ms : Date.parse(ms)).toLocaleString(lang === 'vi' ? 'vi-VN' : 'en-GB', { timeZone: 'Asia/Ho_Chi_Minh', hour12: false })
const fmtNum = (n) => n === null || n === undefined ? '—' : Number(n).toLocaleString(lang === 'vi' ? 'vi-VN' : 'en-GB')
const fmtAge = (ms) => {
  if (!ms) return '—'
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min`
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`
}
const stateLabel = (s) => s === null || s === undefined ? '—' : `${s} · ${stateNames[lang][s] ?? ''}`
const indicatorName = (d) => lang === 'en' ? (indicatorNames.en[d.key] ?? d.name) : d.name
const pct = (r) => r === null || r === undefined ? '—' : `${(r * 100).toFixed(1)}%`

class ApiError extends Error {
  constructor (status, problem) { super(problem?.detail ?? problem?.title ?? `HTTP ${status}`); this.status = status; this.problem = problem }
}

async function api (path, { method = 'GET', body } = {}) {
  const headers = { accept: 'application/json' }
  if (method !== 'GET') { headers['content-type'] = 'application/json'; headers['x-csrf-token'] = csrf }
  const res = await fetch(`/console/api/${path}`, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) })
  const data = await res.json().catch(() => null)
  if (res.status === 401 && path !== 'login' && path !== 'session') { me = null; renderLogin(t('sessionExpired')); throw new ApiError(401, data) }
  if (!res.ok) throw new ApiError(res.status, data)
  return data
}

const qs = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '')).toString()
function route () {
  const raw = location.hash.replace(/^#\/?/, '')
  const [path, query = ''] = raw.split('?')
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), query: Object.fromEntries(new URLSearchParams(query)) }
}
const go = (hash) => { if (location.hash === hash) render(); else location.hash = hash }

function table (columns, rows, { onRow, empty } = {}) {
  if (rows.length === 0) return h('p', { class: 'muted' }, empty ?? '—')
  return h('table', {},
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: c.num ? 'num' : undefined }, c.label)))),
    h('tbody', {}, rows.map((r) => h('tr', { class: onRow ? 'clickable' : undefined, onclick: onRow ? (e) => { if (!['INPUT', 'A', 'BUTTON'].includes(e.target.tagName)) onRow(r) } : undefined },
      columns.map((c) => h('td', { class: c.num ? 'num' : undefined }, c.cell(r)))))))
}

const dossierLink = (m) => h('a', { href: `#/dossier/${encodeURIComponent(m)}` }, m)

function shell (active, content) {
  clearInterval(refreshTimer)
  while (charts.length) charts.pop().destroy()
  const search = h('input', { name: 'q', placeholder: t('searchPlaceholder'), 'aria-label': t('searchPlaceholder') })
  const tabs = [['overview', '#/overview'], ['dead', '#/dead'], ['indicators', '#/indicators'], ['reconcile', '#/reconcile'], ['members', '#/members']]
  app.replaceChildren(
    h('header', {},
      h('h1', {}, t('title')),
      h('form', { role: 'search', onsubmit: (e) => { e.preventDefault(); const v = search.value.trim(); if (v) go(`#/dossier/${encodeURIComponent(v)}`) } }, search, h('button', { type: 'submit' }, t('search'))),
      h('div', { class: 'right' },
        h('button', { class: 'lang', type: 'button', onclick: () => { lang = lang === 'vi' ? 'en' : 'vi'; localStorage.setItem('lgsp-console-lang', lang); document.documentElement.lang = lang; render() } }, lang === 'vi' ? 'English' : 'Tiếng Việt'),
        h('span', { class: 'who' }, me?.name ?? me?.id ?? ''),
        h('button', { type: 'button', onclick: async () => { await api('logout', { method: 'POST' }).catch(() => {}); me = null; renderLogin() } }, t('logout')))),
    h('nav', {}, tabs.map(([k, href]) => h('a', { href, class: active === k ? 'active' : undefined }, t(k)))),
    h('main', {}, content))
}

function renderLogin (message) {
  clearInterval(refreshTimer)
  const id = h('input', { name: 'id', autocomplete: 'username', required: true })
  const secret = h('input', { name: 'secret', type: 'password', autocomplete: 'current-password', required: true })
  const msg = h('div', {}, message ? h('div', { class: 'error-box' }, message) : null)
  app.replaceChildren(h('div', { class: 'login panel' },
    h('h2', {}, t('title')),
    h('p', { class: 'muted' }, t('loginHint')),
    msg,
    h('form', {
      onsubmit: async (e) => {
        e.preventDefault()
        try {
          const r = await api('login', { method: 'POST', body: { id: id.value.trim(), secret: secret.value } })
          csrf = r.csrf; me = r.member
          if (!location.hash || location.hash === '#/') location.hash = '#/overview'
          render()
        } catch (err) { msg.replaceChildren(h('div', { class: 'error-box' }, `${t('loginFailed')}: ${err.message}`)) }
      }
    },
    h('label', {}, t('memberId'), id), h('label', {}, t('secret'), secret), h('button', { type: 'submit' }, t('login'))),
    h('p', {}, h('button', { type: 'button', class: 'secondary', onclick: () => { lang = lang === 'vi' ? 'en' : 'vi'; localStorage.setItem('lgsp-console-lang', lang); renderLogin(message) } }, lang === 'vi' ? 'English' : 'Tiếng Việt'))))
}

function errorView (active, err) {
  shell(active, h('div', { class: 'error-box' }, err.problem?.code ? `${err.problem.code}: ${err.message}` : err.message))
}

// ---------- Overview ----------
function chart (el, title, series, data, height = 150) {
  const width = Math.max(300, el.clientWidth || 380)
  // Our own one-line legend (uPlot's table legend wraps badly in a card); times in Vietnam.
  el.append(h('div', { class: 'legend' }, series.map((s) => h('span', {}, h('i', { style: `background:${s.stroke}` }), s.label))))
  const opts = {
    width, height, legend: { show: false }, cursor: { drag: { x: false, y: false } },
    tzDate: (ts) => window.uPlot.tzDate(new Date(ts * 1000), 'Asia/Ho_Chi_Minh'),
    scales: { x: { time: true } },
    axes: [{ space: 70, values: (u, vals) => vals.map((v) => new Date(v * 1000).toLocaleTimeString('en-GB', { timeZone: 'Asia/Ho_Chi_Minh', hour: '2-digit', minute: '2-digit', hour12: false })) }, { size: 56 }],
    series: [{}, ...series]
  }
  // uPlot is loaded as a classic script (vendor/uplot.js) and defines the global uPlot.
  const u = new window.uPlot(opts, data, el)
  charts.push(u)
  return u
}

async function overview () {
  const data = await api('overview')
  const cards = data.destinations.map((d) => {
    const status = h('span', { class: `badge ${d.status}`, 'data-testid': 'status' }, t(d.status))
    const through = h('div', { class: 'chart' }, h('div', { class: 'title' }, t('throughput')))
    const lat = h('div', { class: 'chart' }, h('div', { class: 'title' }, t('latency')))
    const card = h('section', { class: 'card', 'data-destination': d.destination, 'data-status': d.status },
      h('h3', {}, d.destination, d.adapter !== null && d.adapter !== d.destination ? h('span', { class: 'muted', style: 'font-weight:400;font-size:12px' }, d.adapter) : null, status,
        h('span', { class: 'badge grey' }, `${t('breaker')}: ${d.breaker === null ? '—' : t(d.breaker)}`)),
      h('div', { class: 'figures' },
        [[t('pending'), fmtNum(d.pending)], [t('inflight'), fmtNum(d.inflight)], [t('deadCount'), d.dead > 0 ? h('a', { href: `#/dead?${qs({ destination: d.destination })}` }, fmtNum(d.dead)) : '0'], [t('oldest'), fmtAge(d.oldestAgeMs)], [t('delivered'), fmtNum(d.delivered)]]
          .map(([l, v]) => h('div', { class: 'figure' }, h('div', { class: 'v' }, v), h('div', { class: 'l' }, l)))),
      d.lastFailureAt ? h('div', { class: 'muted', style: 'font-size:12px' }, `${t('lastFailure')}: ${fmtTime(d.lastFailureAt)} · ${d.lastFailureCode ?? ''}`) : null,
      through, lat)
    return { card, through, lat, d }
  })
  shell('overview', [
    h('h2', {}, t('overview'), ' ', h('span', { class: 'muted', style: 'font-size:12px;font-weight:400' }, `${t('refreshed')} ${fmtTime(data.now)} · store: ${data.store}`)),
    h('div', { class: 'grid' }, cards.map((c) => c.card)),
    h('h3', {}, t('jobs')),
    h('div', { class: 'panel' }, table([
      { label: t('job'), cell: (j) => j.name },
      { label: t('lastRun'), cell: (j) => fmtTime(j.at) },
      { label: t('status'), cell: (j) => h('span', { class: `badge ${j.ok ? 'green' : 'red'}` }, j.ok ? t('ok') : (j.error ?? t('failed'))) },
      { label: t('runs'), num: true, cell: (j) => fmtNum(j.runs) },
      { label: t('failures'), num: true, cell: (j) => fmtNum(j.failures) }
    ], data.jobs, { empty: t('none') }))
  ])
  for (const c of cards) {
    const s = c.d.series
    chart(c.through, t('throughput'), [
      { label: t('accepted'), stroke: '#0b4f8a', width: 1.5 },
      { label: t('delivered'), stroke: '#2e7d32', width: 1.5 },
      { label: t('failed'), stroke: '#c62828', width: 1.5 }
    ], [s.t, s.accepted, s.delivered, s.failed], 130)
    chart(c.lat, t('latency'), [
      { label: t('avg'), stroke: '#6a1b9a', width: 1.5, points: { show: true, size: 5 } },
      { label: t('max'), stroke: '#b26a00', width: 1, dash: [4, 3], points: { show: true, size: 4 } }
    ], [s.t, s.avgMs, s.maxMs], 110)
  }
  refreshTimer = setInterval(() => { if (route().parts[0] === 'overview' || route().parts.length === 0) overview().catch(() => {}) }, 5000)
}

// ---------- Dead letters ----------
async function deadList (query, flash) {
  // Server-side pages by cursor: `after` starts this page, `trail` keeps the earlier pages' starts ('-': the first page).
  const trail = query.trail ? query.trail.split(',') : []
  const data = await api(`dead?${qs({ destination: query.destination, code: query.code, from: query.from, to: query.to, maHoSo: query.maHoSo, after: query.after, limit: 50 })}`)
  const overviewData = await api('overview')
  const selected = new Set()
  const form = { destination: h('select', { name: 'destination' }, h('option', { value: '' }, t('all')), overviewData.destinations.map((d) => h('option', { value: d.destination, selected: query.destination === d.destination }, d.destination))),
    code: h('select', { name: 'code' }, h('option', { value: '' }, t('all')), data.codes.map((c) => h('option', { value: c, selected: query.code === c }, c))),
    from: h('input', { type: 'date', name: 'from', value: query.from ?? '' }),
    to: h('input', { type: 'date', name: 'to', value: query.to ?? '' }),
    maHoSo: h('input', { name: 'maHoSo', value: query.maHoSo ?? '', placeholder: 'MaHoSo' }) }
  const filters = () => ({ destination: form.destination.value, code: form.code.value, from: form.from.value, to: form.to.value, maHoSo: form.maHoSo.value.trim() })
  const apply = (extra = {}) => go(`#/dead?${qs({ ...filters(), ...extra })}`)
  const page = (after, nextTrail) => go(`#/dead?${qs({ destination: query.destination, code: query.code, from: query.from, to: query.to, maHoSo: query.maHoSo, after: after === '-' ? undefined : after, trail: nextTrail.join(',') })}`)
  const notice = h('div', {}, flash ? h('div', { class: 'ok-box' }, flash) : null)
  const reason = h('input', { name: 'reason', placeholder: t('reason'), style: 'min-width:240px' })
  const doAction = async (action) => {
    const ids = [...selected]
    if (ids.length === 0) return
    if (action === 'discard' && reason.value.trim().length < 3) { notice.replaceChildren(h('div', { class: 'error-box' }, t('reasonNeeded'))); return }
    try {
      const r = await api(`dead/${action}`, { method: 'POST', body: action === 'discard' ? { ids, reason: reason.value.trim() } : { ids } })
      // The list is read again (the replayed letters leave it); the outcome stays on top.
      await deadList(query, `${t('done')}: ${r.results.filter((x) => x.ok).length}/${r.results.length}`)
    } catch (err) { notice.replaceChildren(h('div', { class: 'error-box' }, err.message)) }
  }
  const all = h('input', { type: 'checkbox', 'aria-label': 'all', onchange: (e) => { for (const cb of document.querySelectorAll('input[data-dead]')) { cb.checked = e.target.checked; cb.dispatchEvent(new Event('change')) } } })
  const first = trail.length * data.limit
  shell('dead', [
    h('h2', {}, t('dead')),
    h('div', { class: 'panel' },
      h('form', { class: 'toolbar', onsubmit: (e) => { e.preventDefault(); apply() } },
        h('label', {}, t('destination'), form.destination), h('label', {}, t('code'), form.code), h('label', {}, t('from'), form.from), h('label', {}, t('to'), form.to), h('label', {}, 'MaHoSo', form.maHoSo),
        h('button', { type: 'submit' }, t('filter'))),
      notice,
      h('div', { class: 'toolbar' },
        h('button', { type: 'button', 'data-action': 'replay', onclick: () => doAction('replay') }, t('replaySelected')),
        reason,
        h('button', { type: 'button', class: 'danger', 'data-action': 'discard', onclick: () => doAction('discard') }, t('discardSelected'))),
      table([
        { label: all, cell: (d) => h('input', { type: 'checkbox', 'data-dead': d.id, onchange: (e) => { if (e.target.checked) selected.add(d.id); else selected.delete(d.id) } }) },
        { label: '#', cell: (d) => h('a', { href: `#/dead/${d.id}` }, d.id) },
        { label: t('destination'), cell: (d) => d.destination },
        { label: 'MaHoSo', cell: (d) => dossierLink(d.maHoSo) },
        { label: t('op'), cell: (d) => d.op },
        { label: t('attempts'), num: true, cell: (d) => d.attempts },
        { label: t('code'), cell: (d) => h('code', { 'data-testid': 'dead-code' }, d.code) },
        { label: t('error'), cell: (d) => d.error },
        { label: t('failedAt'), cell: (d) => fmtTime(d.failedAt) },
        { label: t('blocked'), num: true, cell: (d) => d.blocked }
      ], data.entries, { empty: t('noDead'), onRow: (d) => go(`#/dead/${d.id}`) }),
      h('div', { class: 'pager' },
        h('button', { type: 'button', class: 'secondary', disabled: trail.length === 0, onclick: () => page('-', []) }, t('firstPage')),
        h('button', { type: 'button', class: 'secondary', disabled: trail.length === 0, 'data-page': 'prev', onclick: () => page(trail.at(-1), trail.slice(0, -1)) }, t('prev')),
        h('span', { class: 'muted', 'data-testid': 'dead-range' }, data.entries.length === 0 ? '' : `${t('page')} ${trail.length + 1} · ${first + 1}–${first + data.entries.length}`),
        h('button', { type: 'button', class: 'secondary', disabled: data.next === null, 'data-page': 'next', onclick: () => page(data.next, [...trail, query.after ?? '-']) }, t('next'))))
  ])
}

const pre = (v) => h('pre', {}, typeof v === 'string' ? v : JSON.stringify(v, null, 2))

async function deadOne (id) {
  const d = await api(`dead/${encodeURIComponent(id)}`)
  const e = d.entry
  const notice = h('div')
  const reason = h('input', { name: 'reason', placeholder: t('reason'), style: 'min-width:260px' })
  const doAction = async (action) => {
    if (action === 'discard' && reason.value.trim().length < 3) { notice.replaceChildren(h('div', { class: 'error-box' }, t('reasonNeeded'))); return }
    try {
      const r = await api(`dead/${action}`, { method: 'POST', body: action === 'discard' ? { ids: [e.id], reason: reason.value.trim() } : { ids: [e.id] } })
      notice.replaceChildren(h('div', { class: r.results[0]?.ok ? 'ok-box' : 'error-box' }, r.results[0]?.ok ? t('done') : t('notFound')))
    } catch (err) { notice.replaceChildren(h('div', { class: 'error-box' }, err.message)) }
  }
  shell('dead', [
    h('p', {}, h('a', { href: '#/dead' }, t('back'))),
    h('h2', {}, `${t('deadLetter')} #${e.id} · ${e.destination} · `, dossierLink(e.maHoSo)),
    notice,
    h('div', { class: 'panel' },
      h('div', { class: 'kv' },
        h('div', {}, t('op')), h('div', {}, e.op),
        h('div', {}, t('code')), h('div', {}, h('code', {}, e.code)),
        h('div', {}, t('upstreamAnswer')), h('div', { 'data-testid': 'upstream-answer' }, e.error),
        h('div', {}, t('attempts')), h('div', {}, e.attempts),
        h('div', {}, t('failedAt')), h('div', {}, fmtTime(e.failedAt)),
        h('div', {}, t('blocked')), h('div', {}, e.blocked),
        h('div', {}, t('status')), h('div', { 'data-testid': 'unit-state' }, d.unit?.state ?? '—')),
      h('div', { class: 'toolbar', style: 'margin-top:14px' },
        h('button', { type: 'button', 'data-action': 'replay', onclick: () => doAction('replay') }, t('replay')),
        reason,
        h('button', { type: 'button', class: 'danger', 'data-action': 'discard', onclick: () => doAction('discard') }, t('discard')))),
    h('h3', {}, t('attemptsKept')),
    h('div', { class: 'panel', 'data-testid': 'attempts' }, table([
      { label: '#', num: true, cell: (a) => a.attempt },
      { label: t('at'), cell: (a) => fmtTime(a.at) },
      { label: t('outcome'), cell: (a) => h('span', { class: `badge ${a.outcome === 'delivered' ? 'green' : a.outcome === 'dead' ? 'red' : 'amber'}` }, t(`outcome_${a.outcome}`)) },
      { label: t('code'), cell: (a) => a.code ? h('code', {}, a.code) : '' },
      { label: t('uncertain'), cell: (a) => a.uncertain ? h('span', { class: 'badge amber', title: t('uncertainHint') }, t('yes')) : t('no') },
      { label: t('upstreamAnswer'), cell: (a) => a.message ?? '' },
      { label: 'ms', num: true, cell: (a) => fmtNum(a.ms) }
    ], d.attempts, { empty: t('none') })),
    h('h3', {}, t('wireRequest')),
    d.sent.length === 0 ? h('p', { class: 'muted' }, t('none')) : d.sent.map((s) => h('div', {}, h('div', { class: 'muted' }, `${fmtTime(s.at)} · ${s.kind} · sha256 ${s.contentSha256.slice(0, 16)}…`), pre(s.body ?? '(digest only)'))),
    h('h3', {}, t('receivedMessage')),
    d.received.length === 0 ? h('p', { class: 'muted' }, t('none')) : d.received.map((s) => h('div', {}, h('div', { class: 'muted' }, `${fmtTime(s.at)} · ${s.party} · ${s.kind}`), pre(s.body ?? '(digest only)'))),
    d.operatorActions.length > 0 ? [h('h3', {}, t('operatorActions')), table([
      { label: t('at'), cell: (a) => fmtTime(a.at) }, { label: t('party'), cell: (a) => a.party }, { label: t('kind'), cell: (a) => a.kind }, { label: '', cell: (a) => JSON.stringify(a.body) }
    ], d.operatorActions)] : null
  ])
}

// ---------- Dossier trail ----------
async function dossier (maHoSo) {
  let d
  try {
    d = await api(`dossier/${encodeURIComponent(maHoSo)}`)
  } catch (err) {
    if (err.status === 404) { shell('', [h('h2', {}, maHoSo), h('div', { class: 'error-box' }, `${t('notFound')}: ${maHoSo}`)]); return }
    throw err
  }
  const r = d.record ?? {}
  const keyFields = ['MaTTHC', 'TenTTHC', 'ChuHoSo', 'SoGiayToChuHoSo', 'SoDienThoai', 'Email', 'KenhThucHien', 'NgayTiepNhan', 'NgayHenTra', 'NgayKetThucXuLy', 'DonViXuLy', 'TrichYeuHoSo', 'DuocThanhToanTrucTuyen']
  shell('', [
    h('h2', {}, `${t('dossier')} `, h('span', { 'data-testid': 'mahoso' }, d.maHoSo), ' ', h('span', { class: 'badge grey', 'data-testid': 'state' }, stateLabel(d.state))),
    h('div', { class: 'split' },
      h('div', { class: 'panel' }, h('h3', { style: 'margin-top:0' }, t('record')),
        h('div', { class: 'kv' }, keyFields.filter((k) => r[k] !== undefined).flatMap((k) => [h('div', {}, k), h('div', {}, String(r[k]))]),
          h('div', {}, t('owner')), h('div', {}, d.owner))),
      h('div', { class: 'panel' }, h('h3', { style: 'margin-top:0' }, t('payment')),
        d.payment === null ? h('p', { class: 'muted' }, t('none')) : h('div', { class: 'kv' }, [['reference', d.payment.reference], ['amount', fmtNum(d.payment.amount)], ['status', d.payment.status], ['MaGiaoDich', d.payment.transactionCode ?? '—'], ['bank', d.payment.bank ?? '—'], ['at', fmtTime(d.payment.resultAt)]].flatMap(([k, v]) => [h('div', {}, t(k)), h('div', {}, v)])),
        d.evidence ? h('p', { style: 'margin-top:14px' }, h('a', { class: 'btn', href: `/console/api/dossier/${encodeURIComponent(d.maHoSo)}/evidence`, download: `evidence-${d.maHoSo}.json` }, t('evidence'))) : null)),
    h('h3', {}, t('history')),
    h('div', { class: 'panel' }, table([
      { label: t('at'), cell: (e) => fmtTime(e.at) },
      { label: t('kind'), cell: (e) => e.kind },
      { label: t('sender'), cell: (e) => e.sender },
      { label: t('fromState'), cell: (e) => stateLabel(e.fromState) },
      { label: t('toState'), cell: (e) => stateLabel(e.toState) },
      { label: t('applied'), cell: (e) => e.applied ? t('yes') : t('no') },
      { label: 'messageId', cell: (e) => h('code', { style: 'font-size:11px' }, e.messageId) }
    ], d.history)),
    h('h3', {}, t('deliveries')),
    Object.entries(d.deliveries).map(([dest, units]) => h('div', { class: 'panel', 'data-destination': dest }, h('h3', { style: 'margin-top:0' }, dest), table([
      { label: '#', cell: (u) => u.state === 'dead' ? h('a', { href: `#/dead/${u.id}` }, u.id) : u.id },
      { label: t('op'), cell: (u) => u.op },
      { label: t('status'), cell: (u) => h('span', { class: `badge ${u.state === 'delivered' ? 'green' : u.state === 'dead' ? 'red' : 'amber'}`, 'data-testid': 'unit-state' }, u.state) },
      { label: t('attempts'), num: true, cell: (u) => u.attempts },
      { label: t('error'), cell: (u) => u.lastErrorCode ? `${u.lastErrorCode}: ${u.lastError ?? ''}` : '' },
      { label: t('delivered'), cell: (u) => fmtTime(u.deliveredAt) },
      { label: t('attemptsSeen'), cell: (u) => u.attemptsSeen.map((a) => h('div', { class: 'attempt' }, `#${a.attempt} · ${fmtTime(a.at)} · `, h('span', { class: `badge ${a.outcome === 'delivered' ? 'green' : a.outcome === 'dead' ? 'red' : 'amber'}` }, t(`outcome_${a.outcome}`)), a.code ? ` ${a.code}` : '', ` (${a.ms} ms)`)) }
    ], units))),
    h('h3', {}, t('signatures')),
    h('div', { class: 'panel' }, table([
      { label: 'seq', num: true, cell: (e) => e.seq },
      { label: t('at'), cell: (e) => fmtTime(e.at) },
      { label: t('direction'), cell: (e) => e.direction === 'in' ? '→ LGSP' : 'LGSP →' },
      { label: t('party'), cell: (e) => e.party },
      { label: t('kind'), cell: (e) => e.kind },
      { label: t('signed'), cell: (e) => e.signature?.checked ? h('span', { class: `badge ${e.signature.valid ? 'green' : 'red'}` }, `${e.signature.valid ? t('valid') : t('invalid')}${e.signature.batched ? ' · batch' : ''}`) : h('span', { class: 'muted' }, e.signature?.reason === 'not signed' ? t('notSigned') : e.signature?.reason ?? (e.signed ? t('yes') : t('no'))) },
      { label: 'sha256', cell: (e) => h('code', { style: 'font-size:11px' }, `${e.contentSha256.slice(0, 20)}…`) }
    ], d.log, { empty: t('none') }))
  ])
}

// ---------- Indicators ----------
async function indicators (query) {
  const data = await api(`indicators?${qs({ period: query.period })}`)
  const period = h('input', { name: 'period', value: data.period, size: 10 })
  const cell = (a, def, v, live, before) => {
    if (v === undefined) return '—'
    const link = (side, n) => live ? h('a', { href: `#/drill?${qs({ agency: a.code, period: data.period, key: def.key, side })}`, 'data-indicator': `${def.key}:${side}` }, fmtNum(n)) : fmtNum(n)
    // A figure that moved since the row above it (the previous revision, or the latest one for the current figures) is marked.
    const moved = before !== undefined && (before.numerator !== v.numerator || before.denominator !== v.denominator)
    return h('div', { class: moved ? 'moved' : undefined, title: moved ? `${t('changed')}: ${fmtNum(before.numerator)} / ${fmtNum(before.denominator)} → ${fmtNum(v.numerator)} / ${fmtNum(v.denominator)}` : undefined },
      h('div', { class: 'rate' }, pct(v.rate)), h('div', { class: 'cell-links muted' }, link('numerator', v.numerator), ' / ', link('denominator', v.denominator)),
      h('div', { class: 'muted', style: 'font-size:11px' }, v.points === null ? '' : `${v.points}/${v.max}`))
  }
  const byKeyOf = (rep) => Object.fromEntries(rep.indicators.map((i) => [i.key, i]))
  const changeList = (side, c) => ['added', 'removed'].flatMap((k) => c[side][k].count === 0 ? [] : [h('span', { class: 'muted' }, ` ${t(side)} ${k === 'added' ? '+' : '−'}${c[side][k].count}: `), c[side][k].first.map((m, i) => [i > 0 ? ', ' : '', dossierLink(m)]), c[side][k].count > c[side][k].first.length ? '…' : ''])
  const rows = []
  for (const a of data.agencies) {
    const latest = a.revisions.at(-1)
    const byKey = byKeyOf(a.current)
    const latestKey = latest === undefined ? {} : byKeyOf(latest.report)
    rows.push(h('tr', { 'data-agency': a.code }, h('td', {}, h('strong', {}, a.code), h('div', { class: 'muted', style: 'font-size:12px' }, a.name ?? (a.code.startsWith('000.00.00.') ? t('province') : '')),
      h('div', { class: 'muted', style: 'font-size:11px' }, t('current'), a.revisions.length === 0 ? ` · ${t('noRevisions')}` : '')),
      h('td', { class: 'num' }, fmtNum(a.current.received)),
      data.indicators.map((def) => h('td', {}, cell(a, def, byKey[def.key], true, latest === undefined ? undefined : latestKey[def.key]))),
      h('td', { class: 'num' }, h('strong', {}, `${a.current.total.points}/${a.current.total.scoredMax}`))))
    // Every revision of the closed period, newest first under the current figures, each compared with the one before it.
    a.revisions.slice().reverse().forEach((r, i, list) => {
      const prev = list[i + 1]
      const rk = byKeyOf(r.report)
      const pk = prev === undefined ? undefined : byKeyOf(prev.report)
      rows.push(h('tr', { class: 'revision', 'data-agency': a.code, 'data-revision': r.revision },
        h('td', {}, h('strong', {}, `${t('revision')} ${r.revision}`), h('div', {}, `${t('closedAt')} ${fmtTime(r.createdAt)}`)),
        h('td', { class: 'num' }, fmtNum(r.report.received)),
        data.indicators.map((def) => h('td', {}, cell(a, def, rk[def.key], false, pk?.[def.key]))),
        h('td', { class: 'num' }, `${r.report.total.points}/${r.report.total.scoredMax}`)))
      if (r.changes.length > 0) {
        rows.push(h('tr', { class: 'revision changes' }, h('td', {}, t('changesTitle')), h('td', { colspan: data.indicators.length + 2 },
          r.changes.map((c) => h('div', {}, h('strong', {}, indicatorName({ key: c.indicator, name: data.indicators.find((d) => d.key === c.indicator)?.name ?? c.indicator })),
            ` ${fmtNum(c.before?.numerator)}/${fmtNum(c.before?.denominator)} → ${fmtNum(c.after?.numerator)}/${fmtNum(c.after?.denominator)}`,
            changeList('numerator', c), changeList('denominator', c))))))
      }
    })
  }
  shell('indicators', [
    h('h2', {}, t('indicators')),
    h('div', { class: 'panel' },
      h('form', { class: 'toolbar', onsubmit: (e) => { e.preventDefault(); go(`#/indicators?${qs({ period: period.value.trim() })}`) } },
        h('label', {}, `${t('period')} (yyyy-MM, yyyy-Qn, yyyy)`, period), h('button', { type: 'submit' }, t('show'))),
      h('div', { style: 'overflow-x:auto' }, h('table', {},
        h('thead', {}, h('tr', {}, h('th', {}, t('agency')), h('th', { class: 'num' }, t('received')), data.indicators.map((d) => h('th', {}, indicatorName(d))), h('th', { class: 'num' }, t('total')))),
        h('tbody', {}, rows))))
  ])
}

async function drill (query) {
  const offset = Number(query.offset ?? 0)
  const data = await api(`indicators/drill?${qs({ ...query, limit: 50 })}`)
  const nav = (o) => go(`#/drill?${qs({ ...query, offset: o })}`)
  const other = data.side === 'numerator' ? 'denominator' : 'numerator'
  shell('indicators', [
    h('p', {}, h('a', { href: `#/indicators?${qs({ period: data.period })}` }, t('back'))),
    h('h2', {}, `${t('drillTitle')}: ${indicatorName({ key: data.key, name: data.name })} · ${data.agency} · ${data.period}`),
    h('p', {}, `${t(data.side)}: ${fmtNum(data.total)} · `, h('a', { href: `#/drill?${qs({ ...query, side: other, offset: 0 })}` }, `${t(other)}: ${fmtNum(other === 'numerator' ? data.numerator : data.denominator)}`)),
    h('div', { class: 'panel' }, table([
      { label: 'MaHoSo', cell: (x) => dossierLink(x.maHoSo) },
      { label: t('state'), cell: (x) => stateLabel(x.state) },
      { label: t('received'), cell: (x) => fmtTime(x.receivedAt) },
      { label: 'NgayHenTra', cell: (x) => fmtTime(x.dueAt) },
      { label: 'NgayKetThucXuLy', cell: (x) => fmtTime(x.endedAt) },
      { label: t('counted'), cell: (x) => h('span', { class: `badge ${x.counted ? 'green' : 'amber'}` }, x.counted ? t('yes') : t('no')) },
      { label: t('whyCounts'), cell: (x) => x.reason[lang] }
    ], data.dossiers, { onRow: (x) => go(`#/dossier/${encodeURIComponent(x.maHoSo)}`) }),
    h('div', { class: 'pager' },
      h('button', { type: 'button', class: 'secondary', disabled: offset === 0, onclick: () => nav(Math.max(0, offset - 50)) }, t('prev')),
      h('span', { class: 'muted' }, `${data.total === 0 ? 0 : offset + 1}–${Math.min(offset + 50, data.total)} ${t('of')} ${data.total}`),
      h('button', { type: 'button', class: 'secondary', disabled: offset + 50 >= data.total, onclick: () => nav(offset + 50) }, t('next'))))
  ])
}

// ---------- Reconciliation and payments ----------
async function reconcile (query) {
  const pay = await api(`payments?${qs({ from: query.from, to: query.to, offset: query.offset })}`)
  const ind = await api('indicators').catch(() => null)
  const agency = h('select', { name: 'agency' }, (ind?.agencies ?? []).map((a) => h('option', { value: a.code }, a.code)))
  const period = h('input', { name: 'period', value: query.period ?? ind?.period ?? '', size: 10 })
  const result = h('div')
  const show = (rep) => result.replaceChildren(
    h('p', {}, `${t('checked')}: ${rep.checked} · ${t('differences')}: ${rep.differences.length} · ${t('repaired')}: ${rep.repaired}`),
    rep.differences.length === 0 ? h('div', { class: 'ok-box' }, t('noDifferences')) : table([
      { label: 'MaHoSo', cell: (x) => dossierLink(x.maHoSo) }, { label: t('kind'), cell: (x) => x.kind },
      { label: t('ledgerState'), cell: (x) => stateLabel(x.ledgerState) }, { label: t('dvcqgState'), cell: (x) => stateLabel(x.dvcqgState) },
      { label: t('fields'), cell: (x) => (x.fields ?? []).join(', ') }
    ], rep.differences),
    rep.differences.length > 0 && rep.dryRun ? h('button', { type: 'button', class: 'danger', style: 'margin-top:10px', onclick: async () => { try { show(await api('reconcile', { method: 'POST', body: { agency: agency.value, period: period.value } })) } catch (err) { result.prepend(h('div', { class: 'error-box' }, err.message)) } } }, t('repair')) : null)
  // The one-stop's own list (exported from its software: JSON, or CSV lines MaHoSo,TrangThaiHoSo) against what it sent the gateway.
  const members = await api('members').catch(() => null)
  const osMember = h('select', { name: 'onestopMember' }, (members?.members ?? []).filter((m) => m.messageKinds.includes('dossier')).map((m) => h('option', { value: m.id }, m.name ? `${m.id} · ${m.name}` : m.id)))
  const osAgency = h('select', { name: 'onestopAgency' }, (ind?.agencies ?? []).map((a) => h('option', { value: a.code }, a.code)))
  const osPeriod = h('input', { name: 'onestopPeriod', value: query.period ?? ind?.period ?? '', size: 10 })
  const osList = h('textarea', { name: 'onestopList', rows: 4, placeholder: t('onestopListHint') })
  const osFile = h('input', { type: 'file', accept: '.json,.csv,.txt', onchange: async (e) => { const f = e.target.files?.[0]; if (f) osList.value = await f.text() } })
  const osResult = h('div')
  const parseList = (text) => {
    const v = text.trim()
    if (v.startsWith('[') || v.startsWith('{')) { const j = JSON.parse(v); return Array.isArray(j) ? j : j.dossiers }
    return v.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !/^mahoso/i.test(l)).map((l) => { const [m, st] = l.split(/[,;\t]/).map((x) => x.trim()); return { MaHoSo: m, TrangThaiHoSo: st } })
  }
  const advice = { 'missing-in-gateway': 'adviceMissingInGateway', 'missing-at-onestop': 'adviceMissingAtOnestop', stale: 'adviceStale' }
  const showOnestop = (rep) => osResult.replaceChildren(
    h('p', { 'data-testid': 'onestop-summary' }, `${t('onestopCount')}: ${fmtNum(rep.onestop)} · ${t('gatewayCount')}: ${fmtNum(rep.gateway)} · ${t('matching')}: ${fmtNum(rep.matching)} · ${t('differences')}: ${fmtNum(rep.differences.length)}`),
    rep.differences.length === 0 ? h('div', { class: 'ok-box' }, t('noDifferences')) : table([
      { label: 'MaHoSo', cell: (x) => x.kind === 'missing-in-gateway' ? x.maHoSo : dossierLink(x.maHoSo) },
      { label: t('kind'), cell: (x) => h('span', { class: `badge ${x.kind === 'stale' ? 'amber' : 'red'}`, 'data-kind': x.kind }, t(`kind_${x.kind}`)) },
      { label: t('onestopState'), cell: (x) => stateLabel(x.onestopState) }, { label: t('ledgerState'), cell: (x) => stateLabel(x.gatewayState) },
      { label: t('whatToDo'), cell: (x) => t(advice[x.kind]) }
    ], rep.differences))
  const s = pay.settlement
  const from = h('input', { type: 'date', name: 'from', value: query.from ?? '' })
  const to = h('input', { type: 'date', name: 'to', value: query.to ?? '' })
  shell('reconcile', [
    h('h2', {}, t('reconcile')),
    h('div', { class: 'panel' },
      h('form', { class: 'toolbar', onsubmit: async (e) => { e.preventDefault(); result.replaceChildren(h('p', { class: 'muted' }, '…')); try { show(await api(`reconcile?${qs({ agency: agency.value, period: period.value })}`)) } catch (err) { result.replaceChildren(h('div', { class: 'error-box' }, err.message)) } } },
        h('label', {}, t('agency'), agency), h('label', {}, t('period'), period), h('button', { type: 'submit' }, t('compare'))),
      result),
    h('div', { class: 'panel', 'data-testid': 'onestop-panel' },
      h('h3', { style: 'margin-top:0' }, t('onestopTitle')),
      h('p', { class: 'muted', style: 'margin-top:0' }, t('onestopIntro')),
      h('form', { class: 'toolbar', onsubmit: async (e) => {
        e.preventDefault()
        let dossiers
        try { dossiers = parseList(osList.value) } catch { osResult.replaceChildren(h('div', { class: 'error-box' }, t('onestopListBad'))); return }
        try { showOnestop(await api('reconcile/onestop', { method: 'POST', body: { member: osMember.value, agency: osAgency.value, period: osPeriod.value, dossiers } })) } catch (err) { osResult.replaceChildren(h('div', { class: 'error-box' }, err.message)) }
      } },
      h('label', {}, t('onestopMember'), osMember), h('label', {}, t('agency'), osAgency), h('label', {}, t('period'), osPeriod),
      h('label', { style: 'flex:1;min-width:280px' }, t('onestopList'), osList), h('label', {}, t('onestopFile'), osFile),
      h('button', { type: 'submit', 'data-action': 'compare-onestop' }, t('compareOnestop'))),
      osResult),
    h('h3', {}, t('payments')),
    !pay.configured ? h('p', { class: 'muted' }, t('notConfigured')) : [
      h('div', { class: 'split' },
        h('div', { class: 'panel' }, h('h3', { style: 'margin-top:0' }, t('awaitingResult')), table([
          { label: t('reference'), cell: (p) => p.reference }, { label: 'MaHoSo', cell: (p) => dossierLink(p.maHoSo) }, { label: t('amount'), num: true, cell: (p) => fmtNum(p.amount) }, { label: t('status'), cell: (p) => p.status }, { label: t('at'), cell: (p) => fmtTime(p.createdAt) }
        ], pay.awaitingResult, { empty: t('none') })),
        h('div', { class: 'panel' }, h('h3', { style: 'margin-top:0' }, t('awaitingEffect')), table([
          { label: t('reference'), cell: (p) => p.reference }, { label: 'MaHoSo', cell: (p) => dossierLink(p.maHoSo) }, { label: t('amount'), num: true, cell: (p) => fmtNum(p.amount) }
        ], pay.awaitingEffect, { empty: t('none') }))),
      h('div', { class: 'panel' },
        h('h3', { style: 'margin-top:0' }, `${t('settlementReport')} · ${fmtTime(s.from)} – ${fmtTime(s.to)}`),
        h('form', { class: 'toolbar', onsubmit: (e) => { e.preventDefault(); go(`#/reconcile?${qs({ from: from.value, to: to.value })}`) } }, h('label', {}, t('from'), from), h('label', {}, t('to'), to), h('button', { type: 'submit' }, t('show'))),
        table([{ label: '', cell: (r) => r[0] }, { label: t('count'), num: true, cell: (r) => fmtNum(r[1].count) }, { label: t('amount'), num: true, cell: (r) => fmtNum(r[1].amount) }],
          [[t('paid'), s.paid], [t('pending'), s.pending], [t('failedPay'), s.failed], [t('orphans'), s.orphans], [t('mismatches'), s.mismatches]]),
        s.anomalies.length > 0 ? [h('h3', {}, t('anomalies')), table([
          { label: t('kind'), cell: (a) => a.kind }, { label: t('reference'), cell: (a) => a.reference }, { label: 'MaGiaoDich', cell: (a) => a.transactionCode }, { label: t('amount'), num: true, cell: (a) => fmtNum(a.amount) }, { label: '', cell: (a) => a.detail }, { label: t('at'), cell: (a) => fmtTime(a.receivedAt) }
        ], s.anomalies)] : null,
        h('h3', {}, `${t('payments')} (${s.paymentsTotal})`),
        table([
          { label: t('reference'), cell: (p) => p.reference }, { label: 'MaHoSo', cell: (p) => dossierLink(p.maHoSo) }, { label: t('amount'), num: true, cell: (p) => fmtNum(p.amount) }, { label: t('status'), cell: (p) => p.status }, { label: 'MaGiaoDich', cell: (p) => p.transactionCode ?? '—' }, { label: '', cell: (p) => p.resultSource ?? '' }
        ], s.payments, { empty: t('none') }))
    ]
  ])
}

// ---------- Members and certificates ----------
async function members () {
  const d = await api('members')
  const certCols = [
    { label: t('subject'), cell: (c) => c.subject },
    { label: t('validTo'), cell: (c) => fmtTime(c.validTo) },
    { label: t('daysLeft'), num: true, cell: (c) => h('span', { class: `badge ${c.expired ? 'red' : c.warn ? 'amber' : 'green'}`, 'data-testid': 'days-left' }, `${c.daysLeft}${c.expired ? ` · ${t('expired')}` : c.warn ? ` · ${t('expiresSoon')}` : ''}`) }
  ]
  shell('members', [
    h('h2', {}, t('members')),
    h('div', { class: 'panel' }, table([
      { label: 'id', cell: (m) => h('code', {}, m.id) }, { label: t('name'), cell: (m) => m.name ?? '' },
      { label: t('enabled'), cell: (m) => h('span', { class: `badge ${m.enabled ? 'green' : 'grey'}` }, m.enabled ? t('yes') : t('no')) },
      { label: t('admin'), cell: (m) => m.admin ? t('yes') : '' }, { label: t('read'), cell: (m) => m.read },
      { label: t('kinds'), cell: (m) => m.messageKinds.join(', ') }, { label: t('destinations'), cell: (m) => m.destinations.join(', ') },
      { label: t('signatureRequired'), cell: (m) => m.signatureRequired ? t('yes') : t('no') }
    ], d.members)),
    h('h3', {}, t('gatewayCert')),
    h('div', { class: 'panel' }, table(certCols, d.certificates.gateway, { empty: t('none') })),
    h('h3', {}, t('trustAnchors')),
    h('div', { class: 'panel' }, table([...certCols,
      { label: t('crl'), cell: (c) => c.crl === null ? h('span', { class: 'badge amber' }, t('crlNone')) : h('span', { class: `badge ${c.crl.stale ? 'red' : 'green'}` }, `${c.crl.stale ? t('crlStale') : fmtTime(c.crl.thisUpdate)} · ${c.crl.revoked} ${t('revoked')}${c.crl.nextUpdate ? ` · → ${fmtTime(c.crl.nextUpdate)}` : ''}`) }
    ], d.certificates.trust, { empty: t('none') }))
  ])
}

async function render () {
  if (me === null) return
  document.documentElement.lang = lang
  document.title = t('title')
  const { parts, query } = route()
  const page = parts[0] ?? 'overview'
  try {
    if (page === 'overview') await overview()
    else if (page === 'dead' && parts[1] !== undefined) await deadOne(parts[1])
    else if (page === 'dead') await deadList(query)
    else if (page === 'dossier') await dossier(parts.slice(1).join('/'))
    else if (page === 'indicators') await indicators(query)
    else if (page === 'drill') await drill(query)
    else if (page === 'reconcile') await reconcile(query)
    else if (page === 'members') await members()
    else await overview()
  } catch (err) {
    if (err.status !== 401) errorView(page, err)
  }
}

window.addEventListener('hashchange', () => { render() })
api('session').then((s) => { csrf = s.csrf; me = s.member; render() }, (err) => { renderLogin(err.status === 401 ? undefined : err.message) })
