/**
 * The Redis store's atomic steps, as Lua scripts. Every key starts with the store's prefix,
 * `{ns}:`, whose hash tag puts them all in one slot: each script's KEYS[1] is `{ns}:anchor`,
 * so Redis Cluster routes it to the node that holds every key it touches.
 *
 * Deliveries: each destination has `partitions` streams (`q:<dest>:<p>`, consumer group `g`);
 * a dossier belongs to the partition of a hash of its MaHoSo. A dossier's undelivered units
 * are a list (`dq:<dest>:<MaHoSo>`, unit ids in order); a stream entry is a token saying
 * "this dossier's oldest unit may be attempted now". There is at most one token per dossier:
 * in the stream (waiting, or pending for the consumer delivering it), or in the partition's
 * delay set while the unit waits for a retry; a dead unit has none, so its dossier waits.
 */

/** Helpers every script shares (the ports' scripts too: dead-letters/redis.ts). */
export const PRELUDE = `
local P = ARGV[1]
local function push (dest, part, m)
  local q = P .. 'q:' .. dest .. ':' .. part
  local fresh = redis.call('EXISTS', q) == 0
  redis.call('XADD', q, '*', 'm', m)
  if fresh then redis.call('XGROUP', 'CREATE', q, 'g', '0') end
end
-- A unit leaves the queue (delivered or discarded): its dossier's next unit gets the token.
local function finish (id, outcome, note, now)
  local u = P .. 'u:' .. id
  local f = redis.call('HMGET', u, 'd', 'p', 'm', 'msg', 'op', 'n', 'ca')
  local dest, part, m = f[1], f[2], f[3]
  local rec = { id = tonumber(id), destination = dest, messageId = f[4], op = f[5], attempts = tonumber(f[6]), createdAt = tonumber(f[7]), finishedAt = now, outcome = outcome }
  if note then rec.note = note end
  redis.call('RPUSH', P .. 'dl:' .. m, cjson.encode(rec))
  if outcome == 'delivered' then
    redis.call('ZADD', P .. 'aw:' .. dest .. ':' .. f[5], 'NX', now, m)
    redis.call('HINCRBY', P .. 'stats:' .. dest, 'delivered', 1)
  end
  redis.call('ZREM', P .. 'open:' .. dest, id)
  local dq = P .. 'dq:' .. dest .. ':' .. m
  redis.call('LPOP', dq)
  redis.call('DEL', u)
  if redis.call('LLEN', dq) > 0 then push(dest, part, m) end
end
`

/** Dead letters' indexes (every dead unit, by destination, by code, by both; score: when it died) and attempts. */
export const DEAD = `
local function deadIndex (add, id, dest, code, at)
  for _, k in ipairs({ 'dead', 'deadd:' .. dest, 'deadc:' .. code, 'deaddc:' .. dest .. ':' .. code }) do
    if add then redis.call('ZADD', P .. k, at, id) else redis.call('ZREM', P .. k, id) end
  end
end
-- One attempt kept with its unit (the last 'keep'); a success only after failures.
local function keepAttempt (id, outcome, a, keep)
  local k = P .. 'att:' .. id
  if outcome == 'delivered' and redis.call('EXISTS', k) == 0 then return end
  a.outcome = outcome
  redis.call('RPUSH', k, cjson.encode(a))
  redis.call('LTRIM', k, -keep, -1)
end
`

/**
 * Commits a batch of accepts and log appends in order, stopping at the first that cannot
 * go in: {done} or {done, reason, detail} with reason tip | replay | version.
 * ARGV: prefix, chain, ops (JSON).
 */
export const COMMIT = `${PRELUDE}
local chainName = ARGV[2]
local ops = cjson.decode(ARGV[3])
local tipKey = P .. 'logtip:' .. chainName
local logKey = P .. 'log:' .. chainName
local done = 0
for i, op in ipairs(ops) do
  local tip = redis.call('GET', tipKey) or ('0 ' .. string.rep('0', 64))
  if tip ~= op.prev then return { done, 'tip', tip } end
  if op.t == 'a' then
    local ik = P .. 'idem:' .. op.key
    local seen = redis.call('GET', ik)
    if seen then return { done, 'replay', seen } end
    for _, c in ipairs(op.checks) do
      local v = redis.call('HGET', P .. 'd:' .. c[1], 'v') or '0'
      if v ~= c[2] then return { done, 'version', c[1] } end
    end
    redis.call('SET', ik, op.idem, 'PX', op.ttl)
    redis.call('ZADD', P .. 'idemz', op.at, op.key)
    for _, r in ipairs(op.rows) do redis.call('HSET', P .. 'd:' .. r[1], 'v', r[2], 'row', r[3]) end
    for _, e in ipairs(op.events) do redis.call('RPUSH', P .. 'ev:' .. e[1], e[2]) end
    for _, f in ipairs(op.facts) do
      redis.call('SET', P .. 'f:' .. f[1], f[2])
      for _, month in ipairs(f[4]) do redis.call('SADD', P .. 'fb:' .. f[3] .. ':' .. month, f[1]) end
      if f[5] == '1' then redis.call('SADD', P .. 'fo:' .. f[3], f[1]) else redis.call('SREM', P .. 'fo:' .. f[3], f[1]) end
    end
    for _, u in ipairs(op.units) do
      local dest, part, m = u[1], u[2], u[3]
      local id = redis.call('INCR', P .. 'seq:u')
      redis.call('HSET', P .. 'u:' .. id, 'd', dest, 'p', part, 'm', m, 'msg', u[4], 'snd', u[5], 'op', u[6], 'pl', u[7],
        'st', 'pending', 'n', 0, 'un', 0, 'nx', op.at, 'ca', op.at, 'tr', u[8] or '')
      redis.call('SADD', P .. 'dests', dest)
      redis.call('HINCRBY', P .. 'stats:' .. dest, 'pending', 1)
      redis.call('ZADD', P .. 'open:' .. dest, op.at, id)
      if redis.call('RPUSH', P .. 'dq:' .. dest .. ':' .. m, id) == 1 then push(dest, part, m) end
    end
  end
  for _, h in ipairs(op.headers) do redis.call('HSETNX', P .. 'jwsh', h[1], h[2]) end
  for _, e in ipairs(op.log) do redis.call('RPUSH', logKey, e) end
  redis.call('SET', tipKey, op.tip)
  done = i
end
redis.call('SADD', P .. 'chains', chainName)
return { done }
`

/**
 * Takes, renews and gives back the partition leases of one destination so that each live
 * consumer holds about partitions / consumers of them. Returns the partitions held.
 * ARGV: prefix, destination, consumer, now, ttl, partitions.
 */
export const LEASE = `${PRELUDE}
local dest, me, now, ttl, n = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local live = P .. 'live:' .. dest
redis.call('ZADD', live, now + ttl, me)
redis.call('ZREMRANGEBYSCORE', live, '-inf', now)
local share = math.ceil(n / redis.call('ZCARD', live))
local held, free = {}, {}
for p = 0, n - 1 do
  local owner = redis.call('GET', P .. 'lease:' .. dest .. ':' .. p)
  if owner == me then held[#held + 1] = p elseif not owner then free[#free + 1] = p end
end
while #held > share do redis.call('DEL', P .. 'lease:' .. dest .. ':' .. table.remove(held)) end
for _, p in ipairs(free) do
  if #held >= share then break end
  held[#held + 1] = p
end
for _, p in ipairs(held) do redis.call('SET', P .. 'lease:' .. dest .. ':' .. p, me, 'PX', ttl) end
return held
`

/**
 * Claims up to `limit` due units from the partitions this consumer leases. Per partition:
 * tokens whose retry time came move from the delay set to the stream; mode 'r' first takes
 * back this consumer's own pending entries (a restart: in flight when it stopped), mode 'a'
 * first reclaims entries idle longer than the claim timeout (XAUTOCLAIM: their consumer
 * crashed); then new entries. Reclaimed units are uncertain. Returns {id, fields…} per unit.
 * ARGV: prefix, destination, consumer, now, limit, claim timeout, then (partition, mode) pairs.
 */
export const CLAIM = `${PRELUDE}
local dest, me, now, limit, idle = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local out = {}
local function take (q, entry, fields, reclaimed)
  if not fields then
    redis.call('XACK', q, 'g', entry)
    return
  end
  local m = fields[2]
  local head = redis.call('LINDEX', P .. 'dq:' .. dest .. ':' .. m, 0)
  local u = head and (P .. 'u:' .. head)
  local st = u and redis.call('HGET', u, 'st')
  local ok = (not reclaimed and st == 'pending') or (reclaimed and st == 'inflight' and redis.call('HGET', u, 'e') == entry)
  if not ok then
    redis.call('XACK', q, 'g', entry)
    redis.call('XDEL', q, entry)
    return
  end
  if not reclaimed then
    redis.call('HINCRBY', P .. 'stats:' .. dest, 'pending', -1)
    redis.call('HINCRBY', P .. 'stats:' .. dest, 'inflight', 1)
  else
    redis.call('HSET', u, 'un', 1)
  end
  redis.call('HINCRBY', u, 'n', 1)
  redis.call('HSET', u, 'st', 'inflight', 'e', entry)
  local item = redis.call('HGETALL', u)
  table.insert(item, 1, head)
  out[#out + 1] = item
end
for i = 7, #ARGV, 2 do
  if #out >= limit then break end
  local part, mode = ARGV[i], ARGV[i + 1]
  local q = P .. 'q:' .. dest .. ':' .. part
  local dz = P .. 'delay:' .. dest .. ':' .. part
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', dz, '-inf', now, 'LIMIT', 0, 500)) do
    redis.call('ZREM', dz, m)
    push(dest, part, m)
  end
  if redis.call('EXISTS', q) == 1 then
    if mode == 'r' then
      local r = redis.call('XREADGROUP', 'GROUP', 'g', me, 'STREAMS', q, '0')
      if r then for _, e in ipairs(r[1][2]) do take(q, e[1], e[2], true) end end
    elseif mode == 'a' then
      local r = redis.call('XAUTOCLAIM', q, 'g', me, idle, '0-0', 'COUNT', limit)
      for _, e in ipairs(r[2]) do take(q, e[1], e[2], true) end
    end
    if #out < limit then
      local r = redis.call('XREADGROUP', 'GROUP', 'g', me, 'COUNT', limit - #out, 'STREAMS', q, '>')
      if r then for _, e in ipairs(r[1][2]) do take(q, e[1], e[2], false) end end
    end
  end
end
return out
`

/**
 * Records delivery outcomes, their effects, and each attempt with its unit. A unit whose entry
 * another consumer has reclaimed meanwhile is left alone with its effects (fencing): that
 * consumer delivers it again, as uncertain, and brings the effects itself. Returns how many applied.
 * ARGV: prefix, consumer, now, completions (JSON), attempts kept per unit.
 */
export const COMPLETE = `${PRELUDE}${DEAD}
local me, now, keep = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[5])
local applied = 0
for _, c in ipairs(cjson.decode(ARGV[4])) do
  local u = P .. 'u:' .. c.id
  local f = redis.call('HMGET', u, 'd', 'p', 'm', 'st', 'e')
  local dest, part, m, st, entry = f[1], f[2], f[3], f[4], f[5]
  if st == 'inflight' then
    local q = P .. 'q:' .. dest .. ':' .. part
    local pend = redis.call('XPENDING', q, 'g', entry, entry, 1)
    if #pend == 1 and pend[1][2] == me then
      redis.call('XACK', q, 'g', entry)
      redis.call('XDEL', q, entry)
      local stats = P .. 'stats:' .. dest
      redis.call('HINCRBY', stats, 'inflight', -1)
      if c.outcome == 'delivered' then
        finish(c.id, 'delivered', c.note, now)
      elseif c.outcome == 'retry' then
        redis.call('HSET', u, 'st', 'pending', 'nx', c.nextAt, 'ec', c.code, 'er', c.error, 'un', c.uncertain and 1 or 0, 'e', '')
        redis.call('HINCRBY', stats, 'pending', 1)
        redis.call('ZADD', P .. 'delay:' .. dest .. ':' .. part, c.nextAt, m)
      else
        redis.call('HSET', u, 'st', 'dead', 'ec', c.code, 'er', c.error, 'fa', now, 'e', '')
        redis.call('HINCRBY', stats, 'dead', 1)
        deadIndex(true, c.id, dest, c.code, now)
      end
      -- What the delivery made true (adapters/types.ts DeliveryEffect), in this same script.
      for _, e in ipairs(c.effects or {}) do
        if e.kind == 'dossier-synced' then redis.call('SADD', P .. 'synced', e.maHoSo)
        elseif e.kind == 'cursor' then redis.call('HSET', P .. 'cursors', e.key, e.value) end
      end
      if type(c.attempt) == 'table' then keepAttempt(c.id, c.outcome, c.attempt, keep) end
      applied = applied + 1
    end
  end
end
return applied
`

/**
 * Earliest time a unit may be claimed in these partitions: now when a stream has entries not
 * yet handed out, else the first retry time, else nil. ARGV: prefix, destination, now, partitions…
 */
export const NEXT_DUE = `${PRELUDE}
local dest, now = ARGV[2], tonumber(ARGV[3])
local best = nil
for i = 4, #ARGV do
  local q = P .. 'q:' .. dest .. ':' .. ARGV[i]
  if redis.call('EXISTS', q) == 1 and redis.call('XLEN', q) > redis.call('XPENDING', q, 'g')[1] then return now end
  local first = redis.call('ZRANGE', P .. 'delay:' .. dest .. ':' .. ARGV[i], 0, 0, 'WITHSCORES')
  if first[2] and (best == nil or tonumber(first[2]) < best) then best = tonumber(first[2]) end
end
return best
`

/**
 * Holds a named lease for `ttl` ms if it is free or already ours: 1 when held.
 * ARGV: prefix, name, owner, ttl.
 */
export const HOLD = `${PRELUDE}
local key = P .. ARGV[2]
local owner = redis.call('GET', key)
if owner and owner ~= ARGV[3] then return 0 end
redis.call('SET', key, ARGV[3], 'PX', ARGV[4])
return 1
`

/** Gives a lease back if it is ours. ARGV: prefix, name, owner. */
export const RELEASE = `${PRELUDE}
if redis.call('GET', P .. ARGV[2]) == ARGV[3] then redis.call('DEL', P .. ARGV[2]) end
return 1
`
