-- 019_add_get_stale_movies_function.sql
--
-- What this adds, and why:
--   public.get_stale_movies(limit_count): the movies most overdue for a refresh, for the
--   daily-refresh Edge Function and for people looking at the catalog.
--
-- The original design evaluated is_stale() on every movie. That is a sequential scan of the
-- whole catalog calling a function per row. The catalog stores the freshness policy's
-- answer in the generated column works.next_refresh_at (btree-indexed), and
-- is_stale(w, as_of) means w.next_refresh_at <= as_of, so "stale now, most overdue first"
-- is an index range scan that stops after limit_count rows. The pgTAP tests check both
-- that the answers agree with is_stale() and that the scan uses the index.

create or replace function public.get_stale_movies(limit_count integer default 100)
returns table (
  work_id bigint,
  tmdb_id integer,
  title text,
  last_refreshed_at timestamptz,
  next_refresh_at timestamptz
)
language sql
stable
security invoker
set search_path = ''
as $$
  select w.id, w.tmdb_id, w.title, w.last_refreshed_at, w.next_refresh_at
    from public.works w
   where w.next_refresh_at <= now()
   order by w.next_refresh_at
   limit greatest(coalesce(limit_count, 100), 0)
$$;

comment on function public.get_stale_movies(integer) is
  'Up to limit_count works due for a refresh (next_refresh_at <= now(), i.e. is_stale()), most overdue first; served by the works.next_refresh_at index.';

revoke execute on function public.get_stale_movies(integer) from public, anon, authenticated;
grant execute on function public.get_stale_movies(integer) to service_role;
