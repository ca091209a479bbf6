-- 004_staleness.sql
--
-- Adds `public.is_stale`, the "is this movie due for a TMDB refresh?" test, kept for
-- compatibility with the first design (which computed staleness in a function). It is now
-- only a comparison with the generated `works.next_refresh_at` (001/002), so it can never
-- disagree with the policy or with an index scan on that column. To find due movies in bulk,
-- query `where next_refresh_at <= now() order by next_refresh_at` (indexed) instead of
-- calling is_stale() per row.

-- ---------------------------------------------------------------------------------------
-- is_stale(work row)
-- ---------------------------------------------------------------------------------------

create or replace function public.is_stale(w public.works, as_of timestamptz default now())
returns boolean
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
  select w.next_refresh_at <= as_of
$$;

comment on function public.is_stale(public.works, timestamptz) is
  'Whether the work is due for a TMDB refresh at as_of: w.next_refresh_at <= as_of.';

revoke execute on function public.is_stale(public.works, timestamptz)
  from public, anon, authenticated;
grant execute on function public.is_stale(public.works, timestamptz)
  to anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------
-- is_stale(work id)
-- ---------------------------------------------------------------------------------------

create or replace function public.is_stale(p_work_id bigint, as_of timestamptz default now())
returns boolean
language sql
stable
parallel safe
security invoker
set search_path = ''
as $$
  -- null when there is no such work (or the caller cannot see it).
  select public.is_stale(w, as_of) from public.works as w where w.id = p_work_id
$$;

comment on function public.is_stale(bigint, timestamptz) is
  'is_stale() of the work with this id; null if there is no such work.';

revoke execute on function public.is_stale(bigint, timestamptz) from public, anon, authenticated;
grant execute on function public.is_stale(bigint, timestamptz)
  to anon, authenticated, service_role;
