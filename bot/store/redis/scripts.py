"""The Redis store's Lua scripts: every change to several keys runs as one script, which
Redis executes as one step, so no other client sees a half-done change and a replica that
dies mid-request cannot leave one behind. Registered on the client by `connection`."""

# One script for every write that must be all-or-nothing. ARGV[1] is a dedupe key ("" for
# none), ARGV[2] its time to live in ms, ARGV[3] a JSON list of operations. The dedupe claim
# and the writes share one script, so there is no moment where the key is claimed and the
# writes are not done: a crash between "claim" and "write" cannot happen (a failed enqueue
# never leaves the key claimed). Keys are passed in ARGV because they depend on the records;
# fine for a single Redis or a replicated primary, not for Redis Cluster.
# Operations: a plain Redis command, or
#   {"INDEX", fwd_hash, rev_hash, id, value}  unique value -> id index ("" removes it)
#   {"ZINDEX", zset, rev_hash, id, member}    one lexicographic zset member per id
#   {"UNTIMER", timers_hash, timer_key, job_prefix, stream, group, delayed, org_prefix, keep}
#       remove the pending job of a timer key (unless it is `keep`) and forget the key
#   {"TIMELINE", list, events, candidate_id, doc, at}
#       append a timeline entry and its reference (candidate, place in the list, `at`) to the
#       org's event index stream (`bot.store.redis.feeds`), in the same step
#   {"ZUNINDEX", zset, rev_hash, id}          drop an id's member (an erased booking)
#   {"DROPJOB", job_prefix, id, stream, group, delayed, org_prefix, timers, dead}
#       remove a job whatever its state (pending, in flight, dead): an erasure
#   {"DROPIDLE", candidates, fwd_hash, rev_hash, timeline, id, links, link ids...}
#       remove a candidate (index and links too) only while their timeline is empty: a
#       callback recorded for them since (it appends to the timeline) keeps them
APPLY = """
local function index(fwd, rev, id, value)
  local old = redis.call('HGET', rev, id)
  if old and old ~= value and redis.call('HGET', fwd, old) == id then
    redis.call('HDEL', fwd, old)
  end
  if value == '' then
    redis.call('HDEL', rev, id)
    return
  end
  local holder = redis.call('HGET', fwd, value)
  if holder and holder ~= id then
    redis.call('HDEL', rev, holder)
  end
  redis.call('HSET', fwd, value, id)
  redis.call('HSET', rev, id, value)
end

local function untimer(timers, tkey, jobs, stream, group, delayed, orgs, keep)
  local id = redis.call('HGET', timers, tkey)
  if not id then
    return
  end
  redis.call('HDEL', timers, tkey)
  if id == keep then
    return
  end
  local key = jobs .. id
  local state = redis.call('HGET', key, 'state')
  if not state or state == 'dead' then
    return
  end
  local entry = redis.call('HGET', key, 'entry')
  if entry then
    redis.call('XACK', stream, group, entry)
    redis.call('XDEL', stream, entry)
  end
  redis.call('ZREM', delayed, id)
  redis.call('SREM', orgs .. redis.call('HGET', key, 'org'), id)
  redis.call('DEL', key)
end

local function zindex(zset, rev, id, member)
  local old = redis.call('HGET', rev, id)
  if old then
    redis.call('ZREM', zset, old)
  end
  redis.call('ZADD', zset, 0, member)
  redis.call('HSET', rev, id, member)
end

local function zunindex(zset, rev, id)
  local old = redis.call('HGET', rev, id)
  if old then
    redis.call('ZREM', zset, old)
    redis.call('HDEL', rev, id)
  end
end

local function dropjob(jobs, id, stream, group, delayed, orgs, timers, dead)
  local key = jobs .. id
  local entry = redis.call('HGET', key, 'entry')
  if entry then
    redis.call('XACK', stream, group, entry)
    redis.call('XDEL', stream, entry)
  end
  local dead_entry = redis.call('HGET', key, 'dead_entry')
  if dead_entry then
    redis.call('XDEL', dead, dead_entry)
  end
  local timer = redis.call('HGET', key, 'timer')
  if timer and redis.call('HGET', timers, timer) == id then
    redis.call('HDEL', timers, timer)
  end
  local org = redis.call('HGET', key, 'org')
  if org then
    redis.call('SREM', orgs .. org, id)
  end
  redis.call('ZREM', delayed, id)
  redis.call('DEL', key)
end

local function dropidle(op)
  if redis.call('LLEN', op[5]) > 0 then
    return
  end
  redis.call('HDEL', op[2], op[6])
  index(op[3], op[4], op[6], '')
  for i = 8, #op do
    redis.call('HDEL', op[7], op[i])
  end
end

-- compare-and-set (ARGV 4-6: bookings hash, booking id, expected version): -1 and nothing
-- written when the stored booking moved on; a replay still answers 0 first
if ARGV[4] then
  if ARGV[1] ~= '' and redis.call('EXISTS', ARGV[1]) == 1 then
    return 0
  end
  local doc = redis.call('HGET', ARGV[4], ARGV[5])
  local version = 0
  if doc then
    version = tonumber(cjson.decode(doc).version) or 0
  end
  if version ~= tonumber(ARGV[6]) then
    return -1
  end
end
if ARGV[1] ~= '' then
  if not redis.call('SET', ARGV[1], '1', 'NX', 'PX', ARGV[2]) then
    return 0
  end
end
for _, op in ipairs(cjson.decode(ARGV[3])) do
  if op[1] == 'INDEX' then
    index(op[2], op[3], op[4], op[5])
  elseif op[1] == 'ZINDEX' then
    zindex(op[2], op[3], op[4], op[5])
  elseif op[1] == 'TIMELINE' then
    local n = redis.call('RPUSH', op[2], op[5])
    redis.call('XADD', op[3], '*', 'c', op[4], 'p', n - 1, 'a', op[6])
  elseif op[1] == 'UNTIMER' then
    untimer(op[2], op[3], op[4], op[5], op[6], op[7], op[8], op[9])
  elseif op[1] == 'ZUNINDEX' then
    zunindex(op[2], op[3], op[4])
  elseif op[1] == 'DROPIDLE' then
    dropidle(op)
  elseif op[1] == 'DROPJOB' then
    dropjob(op[2], op[3], op[4], op[5], op[6], op[7], op[8], op[9])
  else
    redis.call(unpack(op))
  end
end
return 1
"""

# Claim: move due delayed jobs into the stream, then take stuck entries (idle longer than
# the visibility timeout: their worker died) and then new ones. One script, so two workers
# never move the same delayed job twice, and attempts are counted with the claim.
# KEYS: stream, delayed. ARGV: group, consumer, now, limit, min idle ms, job key prefix.
CLAIM = """
local stream, delayed = KEYS[1], KEYS[2]
local group, consumer, now = ARGV[1], ARGV[2], ARGV[3]
local limit, idle, jobs = tonumber(ARGV[4]), ARGV[5], ARGV[6]
local batch = tonumber(ARGV[7])

redis.pcall('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM')

for _, id in ipairs(redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, batch)) do
  redis.call('ZREM', delayed, id)
  local entry = redis.call('XADD', stream, '*', 'job_id', id)
  redis.call('HSET', jobs .. id, 'entry', entry, 'state', 'queued')
end

local got = {}
local function take(entries)
  for _, item in ipairs(entries) do
    if type(item) == 'table' and type(item[2]) == 'table' then
      local entry, job_id = item[1], item[2][2]
      local key = jobs .. job_id
      if redis.call('HGET', key, 'entry') == entry then
        local attempts = redis.call('HINCRBY', key, 'attempts', 1)
        table.insert(got, {job_id, redis.call('HGET', key, 'doc'), attempts})
      else
        -- its job was acked or dead-lettered meanwhile: drop the leftover entry
        redis.call('XACK', stream, group, entry)
        redis.call('XDEL', stream, entry)
      end
    end
  end
end

local cursor, rounds = '0-0', 0
repeat
  local reply = redis.call('XAUTOCLAIM', stream, group, consumer, idle, cursor,
                           'COUNT', limit - #got)
  cursor = reply[1]
  take(reply[2])
  rounds = rounds + 1
until cursor == '0-0' or #got >= limit or rounds >= 50

if #got < limit then
  local reply = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', limit - #got,
                           'STREAMS', stream, '>')
  if reply then
    take(reply[1][2])
  end
end
return got
"""

# Extend claims: a worker still busy with its jobs resets their idle time, so no other worker
# reclaims them; an entry another consumer holds now is left alone.
# KEYS: stream. ARGV: group, consumer, job key prefix, job ids...
EXTEND = """
local stream, group, consumer, jobs = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
for i = 4, #ARGV do
  local entry = redis.call('HGET', jobs .. ARGV[i], 'entry')
  if entry then
    local pending = redis.call('XPENDING', stream, group, entry, entry, 1)
    if pending[1] and pending[1][2] == consumer then
      redis.call('XCLAIM', stream, group, consumer, 0, entry, 'JUSTID')
    end
  end
end
return 1
"""

# Ack: forget the job (and its timer key, when it still names this job); first, whatever the
# job's state, the changes that go with it (kv documents, booking message references): ARGV
# from 6 on, "DEL", hash, field or "PUT", hash, field, doc.
# KEYS: stream, delayed. ARGV: group, job key, job id, org set prefix, timers hash, kv ops.
ACK = """
local i = 6
while i <= #ARGV do
  if ARGV[i] == 'DEL' then
    redis.call('HDEL', ARGV[i + 1], ARGV[i + 2])
    i = i + 3
  else
    redis.call('HSET', ARGV[i + 1], ARGV[i + 2], ARGV[i + 3])
    i = i + 4
  end
end
local key = ARGV[2]
local state = redis.call('HGET', key, 'state')
if not state or state == 'dead' then
  return 0
end
local timer = redis.call('HGET', key, 'timer')
if timer and redis.call('HGET', ARGV[5], timer) == ARGV[3] then
  redis.call('HDEL', ARGV[5], timer)
end
local entry = redis.call('HGET', key, 'entry')
if entry then
  redis.call('XACK', KEYS[1], ARGV[1], entry)
  redis.call('XDEL', KEYS[1], entry)
end
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('SREM', ARGV[4] .. redis.call('HGET', key, 'org'), ARGV[3])
redis.call('DEL', key)
return 1
"""

# Retry: out of the stream, back into the delayed set at `at`.
# KEYS: stream, delayed. ARGV: group, job key, job id, doc, at.
RETRY = """
local key = ARGV[2]
local state = redis.call('HGET', key, 'state')
if not state or state == 'dead' then
  return 0
end
local entry = redis.call('HGET', key, 'entry')
if entry then
  redis.call('XACK', KEYS[1], ARGV[1], entry)
  redis.call('XDEL', KEYS[1], entry)
  redis.call('HDEL', key, 'entry')
end
redis.call('HSET', key, 'doc', ARGV[4], 'not_before', ARGV[5], 'state', 'delayed')
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[3])
return 1
"""

# Dead-letter jobs. KEYS: stream, delayed, dead stream.
# ARGV: group, job key prefix, org set prefix, reason, then either "ORG", org id (every job
# of that org that is not dead yet, read inside the script so none slips through), or per
# job: "JOB", job id, org, doc, attempts, not_before.
DEAD = """
local stream, delayed, dead = KEYS[1], KEYS[2], KEYS[3]
local group, jobs, orgs, reason = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

local function kill(id, org)
  local key = jobs .. id
  local entry = redis.call('HGET', key, 'entry')
  if entry then
    redis.call('XACK', stream, group, entry)
    redis.call('XDEL', stream, entry)
    redis.call('HDEL', key, 'entry')
  end
  local old_dead = redis.call('HGET', key, 'dead_entry')
  if old_dead then
    redis.call('XDEL', dead, old_dead)
  end
  redis.call('ZREM', delayed, id)
  redis.call('SREM', orgs .. org, id)
  local dead_entry = redis.call('XADD', dead, '*', 'job_id', id)
  redis.call('HSET', key, 'state', 'dead', 'dead_entry', dead_entry, 'dead_reason', reason,
             'org', org)
end

if ARGV[5] == 'ORG' then
  local org = ARGV[6]
  local count = 0
  for _, id in ipairs(redis.call('SMEMBERS', orgs .. org)) do
    if redis.call('HEXISTS', jobs .. id, 'doc') == 1 then
      kill(id, org)
      count = count + 1
    else
      redis.call('SREM', orgs .. org, id)
    end
  end
  return count
end

local count = 0
for i = 6, #ARGV, 6 do
  local id, org = ARGV[i], ARGV[i+1]
  kill(id, org)
  redis.call('HSET', jobs .. id, 'doc', ARGV[i+2], 'attempts', ARGV[i+3],
             'not_before', ARGV[i+4])
  count = count + 1
end
return count
"""

# Requeue dead letters. KEYS: delayed, dead stream. ARGV: job key prefix, org set prefix, ids.
REQUEUE = """
local delayed, dead, jobs, orgs = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
local count = 0
for i = 3, #ARGV do
  local id = ARGV[i]
  local key = jobs .. id
  if redis.call('HGET', key, 'state') == 'dead' then
    local dead_entry = redis.call('HGET', key, 'dead_entry')
    if dead_entry then
      redis.call('XDEL', dead, dead_entry)
    end
    redis.call('HDEL', key, 'dead_entry', 'dead_reason')
    redis.call('HSET', key, 'state', 'delayed', 'attempts', 0)
    redis.call('ZADD', delayed, redis.call('HGET', key, 'not_before') or 0, id)
    redis.call('SADD', orgs .. redis.call('HGET', key, 'org'), id)
    count = count + 1
  end
end
return count
"""

# Read a record through an index in one round trip: KEYS[1] maps ARGV[1] to an id, KEYS[2]
# maps ids to documents. Callback intake looks up an org by its push key and a candidate by
# email on every request; two dependent HGETs were two round trips.
# A lease handed on through a kv document (`take_lease`): the document, and the claim of its
# generation, in one step and one round trip. KEYS: the namespace's kv hash. ARGV: the field,
# the claim key without its generation, the claim's time to live (ms). Returns the document
# (false when absent) and 1 when the claim was taken, else 0.
LEASE = """
local doc = redis.call('HGET', KEYS[1], ARGV[1])
local gen = 0
if doc then
  local ok, parsed = pcall(cjson.decode, doc)
  if ok and type(parsed) == 'table' and type(parsed.gen) == 'number'
      and parsed.gen == math.floor(parsed.gen) then
    gen = parsed.gen
  end
end
local taken = redis.call('SET', ARGV[2] .. string.format('%d', gen), '1', 'NX', 'PX', ARGV[3])
if taken then
  return {doc, 1}
end
return {doc, 0}
"""

HGET_VIA = """
local id = redis.call('HGET', KEYS[1], ARGV[1])
if not id then
  return false
end
return redis.call('HGET', KEYS[2], id)
"""

# A page of an org's event index (`feeds`) with the entries it names, in one step and one
# round trip. KEYS: the index stream. ARGV: the start ("-" or "(<id>"), how many, the prefix
# of the org's timeline keys ("<p>timeline:<org>|"). Returns id, candidate, place, at, doc
# (false when the entry is gone) for each reference, flat.
# A reference names its entry by place and `at`. When the entry at that place has another
# `at`, older entries were taken off the head of the list (a retention sweep), so the entry,
# if still there, has moved toward the head: it is looked for there, by its `at`. An erased
# timeline, or a re-created candidate's new one, has no entry of that `at`: false.
FEED = """
local function is_at(doc, at)
  if string.find(doc, '{"at":' .. at .. ',', 1, true) == 1 then
    return true
  end
  local ok, parsed = pcall(cjson.decode, doc)
  return ok and type(parsed) == 'table' and parsed.at == tonumber(at)
end

local refs = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', ARGV[2])
local out = {}
for _, ref in ipairs(refs) do
  local f = {}
  for i = 1, #ref[2], 2 do
    f[ref[2][i]] = ref[2][i + 1]
  end
  local part = string.gsub(string.gsub(f['c'], '%%', '%%25'), '|', '%%7C')
  local key = ARGV[3] .. part
  local place = tonumber(f['p'])
  local doc = redis.call('LINDEX', key, place)
  if not doc or not is_at(doc, f['a']) then
    doc = false
    if place > 0 then
      local before = redis.call('LRANGE', key, 0, place - 1)
      for i = #before, 1, -1 do
        if is_at(before[i], f['a']) then
          doc = before[i]
          break
        end
      end
    end
  end
  table.insert(out, ref[1])
  table.insert(out, f['c'])
  table.insert(out, f['p'])
  table.insert(out, f['a'])
  table.insert(out, doc)
end
return out
"""
