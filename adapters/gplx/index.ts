/**
 * The GPLX component: the adapter (adapter.ts), its poller (poller.ts), codec and client. A consumer only. The ministry's service, as provinces call it, answers
 * reads (DanhSachHoSo, TraCuuHoSo, LayTaiLieuHoSo) and takes nothing from the province:
 * driver-licence dossiers are received on the ministry's own channel. So no delivery unit
 * is ever cut for it; its poller (poller.ts) reads it through `client` and brings its dossiers
 * and status changes in under `poll.member`.
 */
export { GplxAdapter } from './adapter.js'
export { GplxClient, type GplxClientSettings } from './client.js'
export { GplxPoller, type GplxCursor, type GplxRound } from './poller.js'
export { addDays, defaultStatusCodes, gplxDate, isFinal, statusOf, toHoSo, toProgress, type GplxDetail, type GplxListItem } from './codec.js'
export { component } from './component.js'
