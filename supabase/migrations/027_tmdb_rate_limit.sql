-- 027_tmdb_rate_limit.sql
--
-- What this adds, and why: TMDB limits requests per IP (about 40–50 a second). Each Edge
-- Function process had its own token bucket, so N concurrent runs (several refresh chains,
-- a daily-refresh beside them) together sent up to N times the limit. Now one token bucket
-- lives here, shared by every process of every function:
--   * public.tmdb_rate_limit: the bucket (rate, burst, tokens, when it was last refilled)
--     and a pause (after a 429, TMDB's Retry-After applies to every caller).
--   * public.take_tmdb_tokens(wanted): takes up to `wanted` tokens at once (a process takes a
--     small batch and spends it locally, so this is one round trip per batch, not per
--     request) and says how long to wait when it got fewer.
--   * public.pause_tmdb_requests(until): no token is handed out before `until`.
-- A token bucket with rate r and size b hands out at most b + r·T tokens in any T seconds,
-- whatever the number of callers: with the defaults (40/s, 8) never more than 48 in a second.

create table if not exists public.tmdb_rate_limit (
  id boolean not null default true,
  requests_per_second numeric not null default 40,
  burst integer not null default 8,
  tokens numeric not null default 8,
  refilled_at timestamptz not null default clock_timestamp(),
  paused_until timestamptz,
  updated_at timestamptz not null default now(),
  constraint tmdb_rate_limit_pkey primary key (id),
  constraint tmdb_rate_limit_one_row check (id),
  constraint tmdb_rate_limit_rate_range check (requests_per_second > 0 and requests_per_second <= 50),
  constraint tmdb_rate_limit_burst_range check (burst between 1 and 50),
  constraint tmdb_rate_limit_tokens_range check (tokens >= 0)
);

comment on table public.tmdb_rate_limit is
  'The one TMDB token bucket every function shares (one row): requests_per_second, burst, '
  'the tokens left and when they were counted, and a pause after a 429. Change the rate with '
  'UPDATE as the database owner.';

insert into public.tmdb_rate_limit (id) values (true) on conflict (id) do nothing;

-- Internal: RLS on, no policies; service_role may read it, the owner (the functions' role)
-- changes it through the functions below.
alter table public.tmdb_rate_limit enable row level security;
revoke all on table public.tmdb_rate_limit from public, anon, authenticated;
grant select on table public.tmdb_rate_limit to service_role;

-- Takes up to p_wanted tokens: {"granted": n, "wait_ms": w}. w is 0 when every token wanted
-- was granted, else the time until the next token (or the end of a pause).
-- Concurrency: the bucket's row lock serialises callers for the few microseconds of the
-- update, so two callers never spend the same token; clock_timestamp() (not the
-- transaction's now()) is what the refill is counted from.
create or replace function public.take_tmdb_tokens(p_wanted integer)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_bucket public.tmdb_rate_limit%rowtype;
  v_now timestamptz := clock_timestamp();
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

  if v_bucket.paused_until is not null and v_bucket.paused_until > v_now then
    return jsonb_build_object('granted', 0, 'wait_ms',
      ceil(extract(epoch from v_bucket.paused_until - v_now) * 1000)::integer);
  end if;

  v_tokens := least(v_bucket.burst::numeric,
    v_bucket.tokens + extract(epoch from v_now - v_bucket.refilled_at) * v_bucket.requests_per_second);
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
  'Takes up to p_wanted (1..50) tokens of the shared TMDB bucket: {granted, wait_ms}.';

revoke execute on function public.take_tmdb_tokens(integer) from public, anon, authenticated;
grant execute on function public.take_tmdb_tokens(integer) to service_role;

-- After a 429: no token is handed out before p_until (a pause is only ever lengthened).
create or replace function public.pause_tmdb_requests(p_until timestamptz)
returns timestamptz
language sql
volatile
security invoker
set search_path = ''
as $$
  update public.tmdb_rate_limit
     set paused_until = greatest(paused_until, p_until), updated_at = now()
   where id and p_until is not null
  returning paused_until
$$;

comment on function public.pause_tmdb_requests(timestamptz) is
  'Hands out no TMDB token before p_until (TMDB''s Retry-After); a pause is only lengthened. Returns the pause''s end.';

revoke execute on function public.pause_tmdb_requests(timestamptz) from public, anon, authenticated;
grant execute on function public.pause_tmdb_requests(timestamptz) to service_role;
