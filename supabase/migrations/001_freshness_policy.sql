-- 001_freshness_policy.sql
--
-- Adds the refresh (freshness) policy of the catalog: how long a movie's TMDB data stays
-- fresh, as pure IMMUTABLE functions. It comes first because `public.works.next_refresh_at`
-- (002) is a STORED generated column computed by `public.compute_next_refresh_at`, so the
-- policy lives in exactly one place and the column can never disagree with it.
--
-- Tiers (modelled on Radarr's ShouldRefreshMovie rules; the full table is
-- in docs/schema.md):
--   announced / unreleased (status Rumored, Planned, In Production, Post Production;
--     release_date null; release_date after as_of)      1 day
--   released 0–30 days ago (in cinemas)                 1 day
--   released 31–365 days ago                            7 days
--   released more than 365 days ago                     30 days
--   status Canceled                                     30 days
--   missing on TMDB (last answer was 404)               180 days
--   always clamped to [min_refresh_interval() = 12 hours, max_refresh_interval() = 180 days]
--
-- Why IMMUTABLE needs care: `timestamptz + interval` and `timestamptz::date` depend on the
-- session's TimeZone (a day is 23 h across a DST change), so they are only STABLE. Every
-- date and day computation here is done on `timestamp` values taken explicitly
-- `at time zone 'UTC'`, which makes the result the same in every session.
--
-- Changing the policy later: `create or replace` these functions in a new migration, then
-- recompute the stored column with `update public.works set last_refreshed_at =
-- last_refreshed_at;` (a generated column is recomputed only when its row is written).

-- ---------------------------------------------------------------------------------------
-- Bounds
-- ---------------------------------------------------------------------------------------

create or replace function public.min_refresh_interval()
returns interval
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
  -- Radarr never refreshes a movie synced less than 12 hours ago; neither do we. Later code
  -- that refreshes movies listed by /movie/changes uses this as its floor too.
  select interval '12 hours'
$$;

comment on function public.min_refresh_interval() is
  'Shortest time between two refreshes of one movie (12 hours), whatever the tier.';

create or replace function public.max_refresh_interval()
returns interval
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
  -- Radarr refreshes every movie at least every 180 days; so do we (and that is also the
  -- interval at which a movie that TMDB answered 404 for is asked about again).
  select interval '180 days'
$$;

comment on function public.max_refresh_interval() is
  'Longest time between two refreshes of one movie (180 days); also the tier of movies missing on TMDB.';

revoke execute on function public.min_refresh_interval() from public, anon, authenticated;
revoke execute on function public.max_refresh_interval() from public, anon, authenticated;
grant execute on function public.min_refresh_interval() to anon, authenticated, service_role;
grant execute on function public.max_refresh_interval() to anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------
-- Tiers
-- ---------------------------------------------------------------------------------------

create or replace function public.refresh_interval(
  status text,
  release_date date,
  as_of timestamptz
)
returns interval
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
  -- least()/greatest() skip nulls, so an unknown as_of is handled before the clamp.
  select case
    when as_of is null then null
    else greatest(
      public.min_refresh_interval(),
      least(
        public.max_refresh_interval(),
        case
          -- Announced: TMDB's pre-release statuses, whatever date TMDB shows.
          when status in ('Rumored', 'Planned', 'In Production', 'Post Production')
            then interval '1 day'
          -- Canceled movies rarely change again; without this tier one with no release
          -- date would be refreshed every day forever.
          when status = 'Canceled' then interval '30 days'
          -- No date yet, or a date after as_of (UTC calendar day): still unreleased.
          when release_date is null then interval '1 day'
          when release_date > (as_of at time zone 'UTC')::date then interval '1 day'
          -- Released: by whole days since the release, counted on the UTC calendar.
          when (as_of at time zone 'UTC')::date - release_date <= 30 then interval '1 day'
          when (as_of at time zone 'UTC')::date - release_date <= 365 then interval '7 days'
          else interval '30 days'
        end
      )
    )
  end
$$;

comment on function public.refresh_interval(text, date, timestamptz) is
  'How long a movie with this TMDB status and release date, refreshed at as_of, stays fresh '
  '(the tier table is in docs/schema.md). Immutable: all date math is done in UTC.';

create or replace function public.compute_next_refresh_at(
  status text,
  release_date date,
  last_refreshed_at timestamptz,
  tmdb_missing_at timestamptz
)
returns timestamptz
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
  select case
    -- Never refreshed: due now (and before every movie that has a real due time).
    when last_refreshed_at is null then '-infinity'::timestamptz
    -- TMDB answered 404: ask again only after the longest interval.
    when tmdb_missing_at is not null
      then ((last_refreshed_at at time zone 'UTC') + public.max_refresh_interval())
        at time zone 'UTC'
    -- The tier is decided at the time of the refresh, which is all a stored column can see.
    else ((last_refreshed_at at time zone 'UTC')
        + public.refresh_interval(status, release_date, last_refreshed_at))
      at time zone 'UTC'
  end
$$;

comment on function public.compute_next_refresh_at(text, date, timestamptz, timestamptz) is
  'When a movie is due for its next TMDB refresh: -infinity if never refreshed, '
  'last_refreshed_at + 180 days if missing on TMDB, else last_refreshed_at + refresh_interval(). '
  'Generates public.works.next_refresh_at.';

revoke execute on function public.refresh_interval(text, date, timestamptz)
  from public, anon, authenticated;
revoke execute on function public.compute_next_refresh_at(text, date, timestamptz, timestamptz)
  from public, anon, authenticated;
-- Pure functions of their arguments: safe for the API roles (a client can show "refreshes
-- in 3 days"); service_role needs them to write public.works (its generated column).
grant execute on function public.refresh_interval(text, date, timestamptz)
  to anon, authenticated, service_role;
grant execute on function public.compute_next_refresh_at(text, date, timestamptz, timestamptz)
  to anon, authenticated, service_role;
