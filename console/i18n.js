// Console labels: Vietnamese by default, English by the toggle (kept in localStorage).
export const dict = {
  vi: {
    title: 'LGSP · Bảng điều khiển vận hành',
    login: 'Đăng nhập', logout: 'Đăng xuất', memberId: 'Mã thành viên', secret: 'Mật khẩu (client secret)',
    loginHint: 'Dùng tài khoản thành viên có quyền quản trị (admin).', loginFailed: 'Đăng nhập không thành công',
    overview: 'Tổng quan', dead: 'Thư lỗi', dossier: 'Hồ sơ', indicators: 'Chỉ số 766', reconcile: 'Đối soát & thanh toán', members: 'Thành viên & chứng thư',
    searchPlaceholder: 'Tra cứu theo Mã hồ sơ…', search: 'Tìm',
    destination: 'Điểm đến', status: 'Trạng thái', breaker: 'Cầu dao', pending: 'Đang chờ', inflight: 'Đang gửi', deadCount: 'Thư lỗi', delivered: 'Đã chuyển', oldest: 'Chờ lâu nhất',
    throughput: 'Lưu lượng mỗi phút (60 phút qua)', latency: 'Độ trễ gửi (ms)', accepted: 'Vào hàng đợi', failed: 'Lỗi', avg: 'Trung bình', max: 'Cao nhất',
    green: 'Bình thường', amber: 'Cần chú ý', red: 'Sự cố', closed: 'đóng', open: 'mở', 'half-open': 'mở một phần',
    lastFailure: 'Lỗi gần nhất', jobs: 'Tác vụ định kỳ', job: 'Tác vụ', lastRun: 'Lần chạy gần nhất', runs: 'Số lần chạy', failures: 'Số lần lỗi', ok: 'Thành công', none: 'Chưa có',
    code: 'Mã lỗi', from: 'Từ ngày', to: 'Đến ngày', filter: 'Lọc', all: 'Tất cả', op: 'Thao tác', attempts: 'Số lần thử', error: 'Lỗi', failedAt: 'Thời điểm lỗi', blocked: 'Đang chặn',
    replay: 'Gửi lại', replaySelected: 'Gửi lại mục đã chọn', discard: 'Hủy bỏ', discardSelected: 'Hủy mục đã chọn', reason: 'Lý do', reasonNeeded: 'Nhập lý do hủy (ít nhất 3 ký tự)',
    prev: '‹ Trước', next: 'Sau ›', of: 'trên', noDead: 'Không có thư lỗi nào.', firstPage: '« Trang đầu', page: 'Trang',
    attemptsKept: 'Các lần gửi (lưu cùng thư lỗi, 20 lần gần nhất)', uncertain: 'Không chắc chắn', uncertainHint: 'Hệ thống nhận có thể đã xử lý dù báo lỗi (hết thời gian chờ, mất phản hồi)',
    outcome_retry: 'lỗi, sẽ thử lại', outcome_dead: 'lỗi, chuyển thư lỗi', outcome_delivered: 'đã chuyển',
    revisions: 'Các bản chốt của kỳ', changed: 'thay đổi so với bản trước', changesTitle: 'Thay đổi', added: 'thêm', removed: 'bớt', noRevisions: 'Kỳ chưa chốt.',
    deadLetter: 'Thư lỗi', upstreamAnswer: 'Phản hồi của hệ thống nhận', attemptsSeen: 'Các lần thử đã lưu (khi có lỗi)', wireRequest: 'Yêu cầu đã gửi (đã che dữ liệu cá nhân)', receivedMessage: 'Thông điệp tiếp nhận', operatorActions: 'Thao tác của người vận hành',
    at: 'Thời điểm', outcome: 'Kết quả', ms: 'ms', done: 'Đã thực hiện', back: '‹ Quay lại',
    state: 'Trạng thái hồ sơ', procedure: 'Thủ tục', owner: 'Thành viên gửi', history: 'Diễn biến', deliveries: 'Chuyển đến các hệ thống', signatures: 'Chữ ký và biên nhận (nhật ký thông điệp)', payment: 'Thanh toán', evidence: 'Tải gói chứng cứ (JSON)',
    kind: 'Loại', sender: 'Bên gửi', fromState: 'Từ', toState: 'Đến', applied: 'Áp dụng', yes: 'có', no: 'không', direction: 'Chiều', party: 'Bên', signed: 'Ký số', valid: 'hợp lệ', invalid: 'KHÔNG hợp lệ', notChecked: 'không kiểm tra', notSigned: 'không ký',
    notFound: 'Không tìm thấy', record: 'Thông tin hồ sơ (đã che dữ liệu cá nhân)',
    period: 'Kỳ', agency: 'Đơn vị', show: 'Xem', received: 'Tiếp nhận', total: 'Tổng điểm', revision: 'Bản chốt', current: 'Hiện tại', closedAt: 'chốt lúc', numerator: 'tử số', denominator: 'mẫu số', counted: 'Được tính', whyCounts: 'Lý do', province: 'Toàn tỉnh',
    drillTitle: 'Hồ sơ tính vào chỉ số',
    onestopTitle: 'Đối soát với phần mềm một cửa', onestopIntro: 'Dán danh sách hồ sơ của kỳ do phần mềm một cửa xuất ra (JSON, hoặc mỗi dòng: MaHoSo,TrangThaiHoSo); cổng so với các hồ sơ thành viên đó đã gửi. Không ghi gì: chênh lệch do phía một cửa xử lý.',
    onestopMember: 'Phần mềm một cửa (thành viên)', onestopList: 'Danh sách của một cửa', onestopListHint: 'MaHoSo,TrangThaiHoSo — mỗi hồ sơ một dòng, hoặc JSON', onestopFile: 'hoặc tải tệp', onestopListBad: 'Không đọc được danh sách (JSON hoặc CSV MaHoSo,TrangThaiHoSo).',
    compareOnestop: 'Đối soát với một cửa', onestopCount: 'Một cửa có', gatewayCount: 'LGSP có', matching: 'Khớp', onestopState: 'Trạng thái tại một cửa', whatToDo: 'Cần làm',
    'kind_missing-in-gateway': 'LGSP chưa nhận', 'kind_missing-at-onestop': 'Một cửa không có', kind_stale: 'Lệch trạng thái',
    adviceMissingInGateway: 'Một cửa gửi lại hồ sơ lên LGSP', adviceMissingAtOnestop: 'Kiểm tra hồ sơ tại một cửa (đã gửi nhưng không có trong danh sách)', adviceStale: 'Một cửa gửi lại tiến trình xử lý còn thiếu',
    compare: 'Đối soát với DVCQG', repair: 'Sửa chênh lệch (gửi lại)', checked: 'Đã đối chiếu', differences: 'Chênh lệch', repaired: 'Đã gửi lại', ledgerState: 'Trạng thái tại LGSP', dvcqgState: 'Trạng thái tại DVCQG', fields: 'Trường khác', noDifferences: 'Không có chênh lệch.',
    payments: 'Thanh toán', awaitingResult: 'Chờ kết quả PayGov', awaitingEffect: 'Đã trả, chờ ghi nhận vào hồ sơ', settlementReport: 'Báo cáo đối soát thanh toán', paid: 'Đã thanh toán', failedPay: 'Thất bại', orphans: 'Giao dịch mồ côi', mismatches: 'Sai lệch', count: 'Số lượng', amount: 'Số tiền (VND)', reference: 'Mã tham chiếu', anomalies: 'Callback bất thường', notConfigured: 'Chưa cấu hình thanh toán.',
    name: 'Tên', enabled: 'Hoạt động', admin: 'Quản trị', read: 'Quyền đọc', kinds: 'Loại thông điệp', destinations: 'Điểm đến', signatureRequired: 'Bắt buộc ký', certificates: 'Chứng thư số', gatewayCert: 'Chứng thư của cổng', trustAnchors: 'CA tin cậy và CRL', subject: 'Chủ thể', validTo: 'Hết hạn', daysLeft: 'Còn (ngày)', crl: 'CRL', crlNone: 'chưa có CRL', crlStale: 'CRL quá hạn', revoked: 'thu hồi', expiresSoon: 'sắp hết hạn', expired: 'đã hết hạn',
    refreshed: 'Cập nhật lúc', sessionExpired: 'Phiên đăng nhập đã hết, vui lòng đăng nhập lại.'
  },
  en: {
    title: 'LGSP · Operator console',
    login: 'Log in', logout: 'Log out', memberId: 'Member id', secret: 'Client secret',
    loginHint: 'Use a member with operator (admin) rights.', loginFailed: 'Login failed',
    overview: 'Overview', dead: 'Dead letters', dossier: 'Dossier', indicators: '766 indicators', reconcile: 'Reconciliation & payments', members: 'Members & certificates',
    searchPlaceholder: 'Find a dossier by MaHoSo…', search: 'Find',
    destination: 'Destination', status: 'Status', breaker: 'Breaker', pending: 'Waiting', inflight: 'In flight', deadCount: 'Dead letters', delivered: 'Delivered', oldest: 'Oldest waiting',
    throughput: 'Per minute, last 60 minutes', latency: 'Delivery latency (ms)', accepted: 'Queued', failed: 'Failed', avg: 'Mean', max: 'Worst',
    green: 'Healthy', amber: 'Needs attention', red: 'Failing', closed: 'closed', open: 'open', 'half-open': 'half-open',
    lastFailure: 'Last failure', jobs: 'Periodic jobs', job: 'Job', lastRun: 'Last run', runs: 'Runs', failures: 'Failures', ok: 'OK', none: 'None yet',
    code: 'Code', from: 'From', to: 'To', filter: 'Filter', all: 'All', op: 'Operation', attempts: 'Attempts', error: 'Error', failedAt: 'Failed at', blocked: 'Blocking',
    replay: 'Replay', replaySelected: 'Replay selected', discard: 'Discard', discardSelected: 'Discard selected', reason: 'Reason', reasonNeeded: 'Give a reason (at least 3 characters)',
    prev: '‹ Previous', next: 'Next ›', of: 'of', noDead: 'No dead letters.', firstPage: '« First page', page: 'Page',
    attemptsKept: 'Attempts (kept with the dead letter, the last 20)', uncertain: 'Uncertain', uncertainHint: 'The destination may have acted on it although it failed (a timeout, a lost answer)',
    outcome_retry: 'failed, retried', outcome_dead: 'failed, dead-lettered', outcome_delivered: 'delivered',
    revisions: "The period's closed revisions", changed: 'changed since the previous revision', changesTitle: 'Changes', added: 'added', removed: 'removed', noRevisions: 'The period is not closed.',
    deadLetter: 'Dead letter', upstreamAnswer: "The destination's answer", attemptsSeen: 'Attempts kept (when any failed)', wireRequest: 'Request sent (personal data masked)', receivedMessage: 'Message received', operatorActions: 'Operator actions',
    at: 'At', outcome: 'Outcome', ms: 'ms', done: 'Done', back: '‹ Back',
    state: 'Dossier state', procedure: 'Procedure', owner: 'Sent by', history: 'Events', deliveries: 'Deliveries per destination', signatures: 'Signatures and receipts (message log)', payment: 'Payment', evidence: 'Export the evidence bundle (JSON)',
    kind: 'Kind', sender: 'Sender', fromState: 'From', toState: 'To', applied: 'Applied', yes: 'yes', no: 'no', direction: 'Direction', party: 'Party', signed: 'Signed', valid: 'valid', invalid: 'NOT valid', notChecked: 'not checked', notSigned: 'not signed',
    notFound: 'Not found', record: 'Dossier record (personal data masked)',
    period: 'Period', agency: 'Agency', show: 'Show', received: 'Received', total: 'Total points', revision: 'Closed revision', current: 'Current', closedAt: 'closed at', numerator: 'numerator', denominator: 'denominator', counted: 'Counted', whyCounts: 'Reason', province: 'Whole province',
    drillTitle: 'Dossiers behind the figure',
    onestopTitle: 'Reconciliation with the one-stop software', onestopIntro: "Paste the period's dossier list the one-stop software exported (JSON, or one MaHoSo,TrangThaiHoSo per line); the gateway compares it with the dossiers that member sent. Nothing is written: the one-stop's side fixes the differences.",
    onestopMember: 'One-stop software (member)', onestopList: "The one-stop's list", onestopListHint: 'MaHoSo,TrangThaiHoSo — one dossier per line, or JSON', onestopFile: 'or load a file', onestopListBad: 'The list could not be read (JSON, or CSV MaHoSo,TrangThaiHoSo).',
    compareOnestop: 'Compare with the one-stop', onestopCount: 'At the one-stop', gatewayCount: 'At LGSP', matching: 'Matching', onestopState: 'State at the one-stop', whatToDo: 'To do',
    'kind_missing-in-gateway': 'Not at LGSP', 'kind_missing-at-onestop': 'Not in the one-stop list', kind_stale: 'Other state',
    adviceMissingInGateway: 'The one-stop sends the dossier to LGSP again', adviceMissingAtOnestop: 'Check the dossier at the one-stop (sent, but not in its list)', adviceStale: 'The one-stop sends the missing progress again',
    compare: 'Compare with DVCQG', repair: 'Repair (re-send the differences)', checked: 'Checked', differences: 'Differences', repaired: 'Re-sent', ledgerState: 'State at LGSP', dvcqgState: 'State at DVCQG', fields: 'Other fields', noDifferences: 'No differences.',
    payments: 'Payments', awaitingResult: "Awaiting PayGov's result", awaitingEffect: 'Paid, not yet applied to the dossier', settlementReport: 'Settlement report', paid: 'Paid', failedPay: 'Failed', orphans: 'Orphans', mismatches: 'Mismatches', count: 'Count', amount: 'Amount (VND)', reference: 'Reference', anomalies: 'Unusual callbacks', notConfigured: 'Payments are not configured.',
    name: 'Name', enabled: 'Enabled', admin: 'Admin', read: 'Reads', kinds: 'Message kinds', destinations: 'Destinations', signatureRequired: 'Must sign', certificates: 'Certificates', gatewayCert: "The gateway's certificate", trustAnchors: 'Trusted CAs and CRLs', subject: 'Subject', validTo: 'Expires', daysLeft: 'Days left', crl: 'CRL', crlNone: 'no CRL', crlStale: 'CRL out of date', revoked: 'revoked', expiresSoon: 'expires soon', expired: 'expired',
    refreshed: 'Refreshed at', sessionExpired: 'Your session has ended: please log in again.'
  }
}

export const stateNames = {
  vi: { 1: 'mới đăng ký', 2: 'được tiếp nhận', 3: 'không được tiếp nhận', 4: 'đang xử lý', 5: 'yêu cầu bổ sung', 6: 'yêu cầu thực hiện nghĩa vụ tài chính', 7: 'công dân rút hồ sơ', 8: 'dừng xử lý', 9: 'đã xử lý xong', 10: 'đã trả kết quả' },
  en: { 1: 'registered', 2: 'received', 3: 'not accepted', 4: 'in progress', 5: 'supplement requested', 6: 'financial obligation requested', 7: 'withdrawn', 8: 'stopped', 9: 'processed', 10: 'result returned' }
}

export const indicatorNames = {
  en: { dossierSync: 'Dossiers synced to DVCQG', onTime: 'Handled on time', onlineSubmission: 'Submitted online', paidOnline: 'Paid online', digitisedResults: 'Results digitised', reuse: 'Digitised data reused' }
}
