-- 033_tmdb_tokens_counted_after_the_lock.sql
--
-- What this changes, and why: 027's take_tmdb_tokens() read the clock before it waited for
-- the bucket's row lock. A caller that waited behind another one then counted the refill
-- from a time earlier than the refilled_at the other had just written: a negative refill,
-- which could leave fewer than zero tokens and answer {"granted": -1}, and moved refilled_at
-- backwards (seen under concurrent refresh chains: the functions refuse the answer and the
-- run fails). Now the clock is read once the lock is held, and the refill is never
-- negative, so the bucket's bound (at most burst + rate·T tokens in any T seconds) holds
-- whatever the callers' timing. Same signature, same answers otherwise.

create or replace function public.take_tmdb_tokens(p_wanted integer)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_bucket public.tmdb_rate_limit%rowtype;
  v_now timestamptz;
  v_tokens numeric;
  v_granted integer;
begin
  if p_wanted is null or p_wanted not between 1 and 50 then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_wanted must be between 1 and 50: current value is %s',
                       coalesce(p_wanted::text, 'NULL'));
  end if;

  select * into v_bucket from public.tmdb_rate_limit where id for update;
  -- Read after the lock: every caller's time is at or after the refilled_at it sees.
  v_now := greatest(clock_timestamp(), v_bucket.refilled_at);

  if v_bucket.paused_until is not null and v_bucket.paused_until > v_now then
    return jsonb_build_object('granted', 0, 'wait_ms',
      ceil(extract(epoch from v_bucket.paused_until - v_now) * 1000)::integer);
  end if;

  v_tokens := greatest(0::numeric, least(v_bucket.burst::numeric,
    v_bucket.tokens + extract(epoch from v_now - v_bucket.refilled_at) * v_bucket.requests_per_second));
  v_granted := least(p_wanted, floor(v_tokens)::integer);
  v_tokens := v_tokens - v_granted;

  update public.tmdb_rate_limit
     set tokens = v_tokens, refilled_at = v_now
   where id;

  return jsonb_build_object(
    'granted', v_granted,
    'wait_ms', case when v_granted = p_wanted then 0
                    else ceil((1 - (v_tokens - floor(v_tokens))) / v_bucket.requests_per_second * 1000)::integer
               end);
end;
$$;

comment on function public.take_tmdb_tokens(integer) is
  'Takes up to p_wanted (1..50) tokens of the shared TMDB bucket: {granted, wait_ms}. The refill is counted from the time the bucket''s lock is held (033).';

revoke execute on function public.take_tmdb_tokens(integer) from public, anon, authenticated;
grant execute on function public.take_tmdb_tokens(integer) to service_role;
