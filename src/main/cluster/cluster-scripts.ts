/**
 * The Lua scripts of the cluster state machine. Each one reads and changes one loop's hash atomically, so two
 * processes can never both start a run, both end it, or both schedule the next tick; each publishes the loop's new
 * snapshot on the control channel, which every process mirrors. The transitions are the table on `ClusterLoop`.
 *
 * KEYS[1] is the loop's hash, KEYS[2] the set of loops that have a run, KEYS[3] the set of declared loops (by last
 * declaration). ARGV[1] is the control channel, ARGV[2] the loop's name.
 *
 * The steps between ticks (a start-up with `beforeLoop`, a wrap-up with `afterLoop`) are done by one process, the
 * hash's `owner`: an instance id, unique to one engine of one process, so a restarted process that reuses its
 * `processId` is not taken for the one that died. `reason` is why a run is ending. A process that dies in such a step
 * is found by the watchdog (its liveness key is gone) and another process takes the step over (`adopt`); `launch` and
 * `finish` then refuse the former owner, should it still be alive.
 * @internal
 */

/** The fields every snapshot carries, in order (see `ClusterSnapshot`). */
export const SNAPSHOT_FIELDS = [
	'state',
	'gen',
	'iter',
	'phase',
	'due',
	'stop',
	'failed',
	'ranBy',
	'ranAt',
	'successes',
	'failures',
	'retries',
	'schedule',
	'last',
	'job',
	'queue',
] as const;

const COMMON = `
local function publish(event, extra)
	local fields = redis.call('HMGET', KEYS[1], ${SNAPSHOT_FIELDS.map((field) => `'${field}'`).join(', ')})
	redis.call('PUBLISH', ARGV[1], cjson.encode({ n = ARGV[2], e = event, x = extra or '', s = fields }))
end
local function nextJob(gen)
	local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
	return ARGV[2] .. '/' .. gen .. '/' .. seq
end
`;

/** A script and the number of its KEYS. */
export interface ClusterScript {
	readonly keys: number;
	readonly lua: string;
}

const script = (keys: number, body: string): ClusterScript => ({ keys, lua: COMMON + body });

export const CLUSTER_SCRIPTS = {
	/**
	 * Declares the loop (KEYS[3] gets the time): ARGV[3] the definition's fingerprint, ARGV[4] its schedule, ARGV[5]
	 * now. A new fingerprint replaces the stored schedule (a deploy changed the definition): `{ 'changed', schedule }`;
	 * otherwise `{ 'same', schedule }` with the cluster's schedule (a `changeInterval()` elsewhere).
	 */
	declare: script(
		3,
		`
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[2])
if not redis.call('HGET', KEYS[1], 'state') then
	redis.call('HSET', KEYS[1], 'state', 'idle', 'gen', 0, 'iter', 0, 'phase', 'idle', 'failed', 0, 'stop', 0)
end
if redis.call('HGET', KEYS[1], 'def') ~= ARGV[3] then
	redis.call('HSET', KEYS[1], 'def', ARGV[3], 'schedule', ARGV[4])
	publish('schedule')
	return { 'changed', ARGV[4] }
end
return { 'same', redis.call('HGET', KEYS[1], 'schedule') }
`,
	),
	/**
	 * `start()`: idle → starting with a new generation. ARGV[3] the arguments (JSON), ARGV[4] the process, ARGV[5]
	 * `count` ('' for none), ARGV[6] the instance. `{ 1, gen }` when this call started the run, `{ 0, gen }` when one
	 * is under way.
	 */
	start: script(
		2,
		`
local state = redis.call('HGET', KEYS[1], 'state')
if state and state ~= 'idle' then return { 0, tonumber(redis.call('HGET', KEYS[1], 'gen')) } end
local gen = redis.call('HINCRBY', KEYS[1], 'gen', 1)
redis.call('HSET', KEYS[1], 'state', 'starting', 'phase', 'starting', 'args', ARGV[3], 'starter', ARGV[4],
	'owner', ARGV[6], 'count', ARGV[5], 'iter', 0, 'stop', 0, 'failed', 0, 'job', '', 'started', '', 'pending', '',
	'due', '', 'reason', '', 'last', '')
redis.call('SADD', KEYS[2], ARGV[2])
publish('started', ARGV[4])
return { 1, gen }
`,
	),
	/**
	 * The start-up is over: starting → running with the first tick. ARGV[3] gen, ARGV[4] the first due time ('' for
	 * none: the run completes), ARGV[5] the queue, ARGV[6] the instance (the start-up's owner), ARGV[7] the schedule
	 * the due time was computed on ('' to skip the check). Returns `{ 'ok', jobId }`, `{ 'cancelled' }` (cancelled
	 * during the start-up: no afterLoop), `{ 'ending' }` (no first target), `{ 'schedule', schedule }` (changed in
	 * another process meanwhile: compute the first tick on this one and call again; nothing was written) or
	 * `{ 'stale' }` (another run, or another process took the start-up over).
	 */
	launch: script(
		2,
		`
local h = redis.call('HMGET', KEYS[1], 'state', 'gen', 'owner', 'schedule')
if h[2] ~= ARGV[3] or h[3] ~= ARGV[6] then return { 'stale' } end
if h[1] == 'cancelling' then return { 'cancelled' } end
if h[1] ~= 'starting' then return { 'stale' } end
if ARGV[7] and ARGV[7] ~= '' and h[4] and h[4] ~= ARGV[7] then return { 'schedule', h[4] } end
if ARGV[4] == '' then
	redis.call('HSET', KEYS[1], 'state', 'ending', 'phase', 'ending', 'reason', 'completed')
	publish('ending')
	return { 'ending' }
end
local job = nextJob(ARGV[3])
redis.call('HSET', KEYS[1], 'state', 'running', 'phase', 'waiting', 'job', job, 'due', ARGV[4], 'queue', ARGV[5])
publish('waiting')
return { 'ok', job }
`,
	),
	/**
	 * A process took tick ARGV[4] of generation ARGV[3]. ARGV[5] the process, ARGV[6] now, ARGV[7] '1' for
	 * at-most-once delivery, ARGV[8] the tick's target, ARGV[9] the instance. Returns `{ 'run' | 'lost', iter, args }` ('lost': this tick's
	 * body began once already, in a process that died), `{ 'cancelled' }` (this process ends the cancelled run) or
	 * `{ 'stale' }` (not the loop's current tick: drop it).
	 */
	begin: script(
		2,
		`
local h = redis.call('HMGET', KEYS[1], 'state', 'gen', 'job', 'started', 'iter', 'args')
if h[2] ~= ARGV[3] or h[3] ~= ARGV[4] then return { 'stale' } end
if h[1] == 'cancelling' then
	redis.call('HSET', KEYS[1], 'state', 'ending', 'phase', 'ending', 'job', '', 'owner', ARGV[9], 'reason', 'cancelled')
	publish('ending')
	return { 'cancelled' }
end
if h[1] ~= 'running' then return { 'stale' } end
local verdict = 'run'
if h[4] == ARGV[4] and ARGV[7] == '1' then verdict = 'lost' end
redis.call('HSET', KEYS[1], 'phase', 'running', 'started', ARGV[4], 'ranBy', ARGV[5], 'ranAt', ARGV[6], 'last', ARGV[8])
publish('running', ARGV[5])
return { verdict, tonumber(h[5]), h[6] }
`,
	),
	/**
	 * The tick ARGV[4] of generation ARGV[3] is over. ARGV[5] its outcome: 'ok', 'failed', 'lost' or 'cancelled';
	 * ARGV[6] the next due time ('' for none); ARGV[7] the retries it made; ARGV[8] the schedule the due time was
	 * computed on ('' to skip the check); ARGV[9] the instance (which does the wrap-up when the run ends here). Returns `{ 'next', iter, jobId }` (add that tick), `{ 'completed' |
	 * 'stopped' | 'failed' | 'cancelled', iter }` (this process ends the run), `{ 'schedule', schedule }` (the
	 * schedule changed meanwhile, in another process: compute the due time on this one and call again; nothing was
	 * written) or `{ 'stale' }`.
	 */
	end: script(
		2,
		`
local h = redis.call('HMGET', KEYS[1], 'state', 'gen', 'job', 'iter', 'count', 'stop', 'schedule')
if h[2] ~= ARGV[3] or h[3] ~= ARGV[4] then return { 'stale' } end
if ARGV[8] ~= '' and h[7] and h[7] ~= ARGV[8] then return { 'schedule', h[7] } end
local iter = tonumber(h[4])
local outcome = ARGV[5]
if outcome == 'ok' then
	iter = iter + 1
	redis.call('HSET', KEYS[1], 'iter', iter)
	redis.call('HINCRBY', KEYS[1], 'successes', 1)
elseif outcome == 'failed' then
	redis.call('HINCRBY', KEYS[1], 'failures', 1)
end
if tonumber(ARGV[7]) > 0 then redis.call('HINCRBY', KEYS[1], 'retries', tonumber(ARGV[7])) end
local ending = nil
if h[1] == 'cancelling' or outcome == 'cancelled' then ending = 'cancelled'
elseif h[1] ~= 'running' then return { 'stale' }
elseif outcome == 'failed' then ending = 'failed'
elseif h[6] == '1' then ending = 'stopped'
elseif outcome == 'ok' and h[5] ~= '' and iter >= tonumber(h[5]) then ending = 'completed'
elseif ARGV[6] == '' then ending = 'completed' end
if ending then
	redis.call('HSET', KEYS[1], 'state', 'ending', 'phase', 'ending', 'job', '', 'reason', ending, 'owner', ARGV[9])
	if ending == 'failed' then redis.call('HSET', KEYS[1], 'failed', 1) end
	publish('ending')
	return { ending, iter }
end
local job = nextJob(ARGV[3])
redis.call('HSET', KEYS[1], 'phase', 'waiting', 'job', job, 'due', ARGV[6])
publish('waiting')
return { 'next', iter, job }
`,
	),
	/**
	 * The run has ended (after afterLoop): → idle, or straight to starting with the arguments a `restart()` queued.
	 * ARGV[3] gen, ARGV[4] the reason, ARGV[5] the error's summary (JSON, or ''), ARGV[6] the process, ARGV[7] the
	 * instance, which must own the run's start-up or wrap-up. Returns `{ 'idle' }`, `{ 'restart', gen, args }` (this
	 * process starts the queued run) or `{ 'stale' }` (already finished, or taken over by another process).
	 */
	finish: script(
		2,
		`
local h = redis.call('HMGET', KEYS[1], 'gen', 'pending', 'state', 'owner')
if h[1] ~= ARGV[3] or h[4] ~= ARGV[7] then return { 'stale' } end
if h[3] ~= 'starting' and h[3] ~= 'cancelling' and h[3] ~= 'ending' then return { 'stale' } end
redis.call('HSET', KEYS[1], 'state', 'idle', 'phase', 'idle', 'job', '', 'iter', 0, 'due', '', 'stop', 0)
if ARGV[4] == 'failed' then redis.call('HSET', KEYS[1], 'failed', 1) end
publish('stopped', cjson.encode({ reason = ARGV[4], error = ARGV[5] }))
if h[2] and h[2] ~= '' then
	local gen = redis.call('HINCRBY', KEYS[1], 'gen', 1)
	redis.call('HSET', KEYS[1], 'state', 'starting', 'phase', 'starting', 'args', h[2], 'pending', '', 'starter', ARGV[6],
		'owner', ARGV[7], 'iter', 0, 'stop', 0, 'failed', 0, 'started', '', 'reason', '', 'last', '')
	publish('started', ARGV[6])
	return { 'restart', gen, h[2] }
end
redis.call('SREM', KEYS[2], ARGV[2])
return { 'idle' }
`,
	),
	/** `stop()`: the run ends after its next body. */
	stop: script(
		2,
		`
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'running' and state ~= 'starting' then return 0 end
redis.call('HSET', KEYS[1], 'stop', 1)
publish('stop')
return 1
`,
	),
	/**
	 * `cancel()`, and `restart()` with ARGV[3] = its arguments (JSON; '' for a plain cancel); ARGV[4] the instance.
	 * Returns `{ 'none' }`
	 * (nothing to cancel), `{ 'starting', gen }` (the starting process abandons its start-up), `{ 'body', gen }` (the
	 * process running the body aborts it and ends the run) or `{ 'waiting', gen, job, queue }` (no body runs: the
	 * caller removes the pending tick and ends the run).
	 */
	cancel: script(
		2,
		`
local h = redis.call('HMGET', KEYS[1], 'state', 'phase', 'job', 'gen', 'queue')
local state = h[1]
if not state or state == 'idle' then return { 'none' } end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'pending', ARGV[3]) end
if state == 'starting' then
	redis.call('HSET', KEYS[1], 'state', 'cancelling')
	publish('cancel')
	return { 'starting', tonumber(h[4]) }
end
if state ~= 'running' then return { 'none' } end
if h[2] == 'running' then
	redis.call('HSET', KEYS[1], 'state', 'cancelling')
	publish('cancel')
	return { 'body', tonumber(h[4]) }
end
redis.call('HSET', KEYS[1], 'state', 'ending', 'phase', 'ending', 'job', '', 'owner', ARGV[4], 'reason', 'cancelled')
publish('ending')
return { 'waiting', tonumber(h[4]), h[3], h[5] }
`,
	),
	/**
	 * Stores the schedule ARGV[5] (a `changeInterval()`, or a deploy's new definition) and, when the run sleeps
	 * towards tick ARGV[4] of generation ARGV[3], replaces that tick by one due at ARGV[6]: `{ 'moved', job }`
	 * (remove the old tick, add this one). `{ 'again' }` when the run sleeps towards another tick than the caller
	 * read (it moved on meanwhile): read the loop and call again. `{ 'kept' }` otherwise: with no due time (no tick has
	 * run yet to anchor on), or while a tick runs, which computes its successor on the stored schedule (`end` checks).
	 */
	reschedule: script(
		2,
		`
redis.call('HSET', KEYS[1], 'schedule', ARGV[5])
local h = redis.call('HMGET', KEYS[1], 'state', 'gen', 'phase', 'job')
publish('schedule')
if h[1] == 'running' and h[3] == 'waiting' then
	if h[2] ~= ARGV[3] or h[4] ~= ARGV[4] then return { 'again' } end
	if ARGV[6] == '' then return { 'kept' } end
	local job = nextJob(ARGV[3])
	redis.call('HSET', KEYS[1], 'job', job, 'due', ARGV[6])
	publish('waiting')
	return { 'moved', job }
end
return { 'kept' }
`,
	),
	/**
	 * The watchdog, run by one process at a time. KEYS[2] running loops, KEYS[3] declarations; ARGV[3] the prefix of
	 * the loop hashes, ARGV[4] the prefix of BullMQ's keys, ARGV[5] now, ARGV[6] how late a pending tick may be
	 * before it counts as lost, ARGV[7] the declarations older than which a loop is removed, ARGV[8] the prefix of
	 * the processes' liveness keys. A running loop whose tick is gone (its process died between two steps) gets a
	 * new one due now; a loop nobody declares any more is removed; a start-up or wrap-up whose owner died is listed
	 * for a process to adopt. Returns `{ repairs, removed, orphans }`: flat lists of `name, job, queue, gen, due`,
	 * `name, job, queue` and `name, gen, owner`.
	 */
	watch: script(
		3,
		`
local repairs = {}
local removed = {}
local orphans = {}
local now = tonumber(ARGV[5])
for _, name in ipairs(redis.call('SMEMBERS', KEYS[2])) do
	local key = ARGV[3] .. name
	local h = redis.call('HMGET', key, 'state', 'phase', 'job', 'queue', 'due', 'gen', 'owner')
	local between = h[1] == 'starting' or h[1] == 'ending' or (h[1] == 'cancelling' and h[2] == 'starting')
	if between and h[7] and h[7] ~= '' and redis.call('EXISTS', ARGV[8] .. h[7]) == 0 then
		table.insert(orphans, name); table.insert(orphans, h[6]); table.insert(orphans, h[7])
	end
	if h[1] == 'running' and h[3] and h[3] ~= '' and redis.call('EXISTS', ARGV[4] .. h[4] .. ':' .. h[3]) == 0 then
		local late = h[2] == 'running' or (tonumber(h[5]) or 0) + tonumber(ARGV[6]) < now
		if late then
			local seq = redis.call('HINCRBY', key, 'seq', 1)
			local job = name .. '/' .. h[6] .. '/' .. seq
			redis.call('HSET', key, 'phase', 'waiting', 'job', job, 'due', now)
			table.insert(repairs, name); table.insert(repairs, job); table.insert(repairs, h[4])
			table.insert(repairs, h[6]); table.insert(repairs, tostring(now))
		end
	elseif not h[1] then
		redis.call('SREM', KEYS[2], name)
	end
end
for _, name in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[7])) do
	local key = ARGV[3] .. name
	local h = redis.call('HMGET', key, 'job', 'queue')
	table.insert(removed, name); table.insert(removed, h[1] or ''); table.insert(removed, h[2] or '')
	redis.call('DEL', key)
	redis.call('ZREM', KEYS[3], name)
	redis.call('SREM', KEYS[2], name)
	redis.call('PUBLISH', ARGV[1], cjson.encode({ n = name, e = 'removed', x = '', s = {} }))
end
return { repairs, removed, orphans }
`,
	),
	/**
	 * Takes over the start-up or wrap-up of generation ARGV[3] from ARGV[4], an instance whose liveness key (ARGV[5] ..
	 * owner) is gone: ARGV[6], this instance, becomes the owner. Returns `{ state, phase, reason }` (the step to do) or `{ 'stale' }`
	 * (the loop moved on, or the owner is alive after all).
	 */
	adopt: script(
		2,
		`
local h = redis.call('HMGET', KEYS[1], 'state', 'phase', 'gen', 'owner', 'reason')
local between = h[1] == 'starting' or h[1] == 'ending' or (h[1] == 'cancelling' and h[2] == 'starting')
if not between or h[3] ~= ARGV[3] or h[4] ~= ARGV[4] or redis.call('EXISTS', ARGV[5] .. ARGV[4]) == 1 then
	return { 'stale' }
end
redis.call('HSET', KEYS[1], 'owner', ARGV[6])
if h[1] == 'starting' then redis.call('HSET', KEYS[1], 'starter', ARGV[6]) end
return { h[1], h[2], h[5] or '' }
`,
	),
} as const satisfies Record<string, ClusterScript>;

export type ClusterScriptName = keyof typeof CLUSTER_SCRIPTS;
