-- 030_depth_policy_and_freshness.sql
--
-- What this adds, and why: a mirror of all of TMDB (about 1.1 M movies) does not fit a small
-- Supabase plan when every movie carries its credits, videos and release dates, and an
-- operator seeding or keeping it fresh needs to see, in one place, how far behind it is.
--   * public.works.depth ('full' | 'base') and public.catalog_depth_policy (one row): a
--     movie is stored at FULL depth (the work, its genres, cast, key crew, videos, release
--     dates) or at BASE depth (the work and its genres only). The default policy stores every
--     movie at full depth, so nothing changes until an operator sets a popularity threshold.
--   * public.catalog_depth_for(popularity, current_depth): the policy's decision for one
--     movie, the only place it is written.
--   * public.ingest_movie(payload, refreshed_at): same signature and answers as 025; it
--     applies the policy. At base depth it stores the work and its genres and neither reads
--     nor writes the credits, videos and release dates parts; a movie switching from full to
--     base loses those child rows (people stay: they are shared), one switching from base to
--     full gets them, even when its payload did not change.
--   * public.catalog_freshness: one row saying how fresh the catalog is (share within its
--     tier, overdue movies, queue backlog and its ETA, TMDB requests per day against the
--     limit, drift and failures). Every figure comes from an index range scan or a single
--     index-only pass (see the view), so it stays cheap at 1 M works.
-- Docs: docs/depth-and-freshness.md.

-- ============================================================================
-- works.depth
-- ============================================================================

-- A constant default: adding the column rewrites nothing (Postgres 11+ stores the default in
-- the catalog), even at 1 M works; every movie stored before 030 is full.
alter table public.works add column if not exists depth text not null default 'full';
alter table public.works drop constraint if exists works_depth_check;
alter table public.works add constraint works_depth_check check (depth in ('full', 'base'));

comment on column public.works.depth is
  'full: the work, its genres, cast, key crew, videos and release dates are stored; base: the '
  'work and its genres only. Decided at each ingest by public.catalog_depth_for().';

-- ============================================================================
-- catalog_depth_policy
-- ============================================================================

create table if not exists public.catalog_depth_policy (
  id boolean not null default true,
  -- Movies with at least this TMDB popularity are stored at full depth, the others at base.
  -- null (the default): every movie is full, as before 030.
  full_min_popularity numeric,
  -- A movie already stored at full depth stays full when its popularity falls below the
  -- threshold (what an existing catalog holds is kept; popularity wobbles day to day, and a
  -- movie near the threshold would otherwise lose and regain its credits again and again).
  -- false: a full movie below the threshold drops to base at its next refresh.
  keep_full boolean not null default true,
  updated_at timestamptz not null default now(),
  constraint catalog_depth_policy_pkey primary key (id),
  constraint catalog_depth_policy_one_row check (id),
  constraint catalog_depth_policy_full_min_popularity_nonnegative
    check (full_min_popularity >= 0)
);

comment on table public.catalog_depth_policy is
  'How deep each movie is stored (one row): full_min_popularity (null = every movie full) and '
  'keep_full (a full movie stays full). Change it with UPDATE as postgres or service_role; it '
  'applies to each movie at its next ingest (docs/depth-and-freshness.md).';

insert into public.catalog_depth_policy (id) values (true) on conflict (id) do nothing;

-- Internal: RLS on, no policy (anon and authenticated get nothing); service_role (the
-- functions, through ingest_movie) reads it and may change it.
alter table public.catalog_depth_policy enable row level security;
revoke all on table public.catalog_depth_policy from public, anon, authenticated;
grant select, update on table public.catalog_depth_policy to service_role;

-- The depth a movie with this popularity is stored at, given the depth it is stored at now
-- (null for a movie not yet in the catalog). A popularity TMDB did not send counts as 0.
create or replace function public.catalog_depth_for(
  p_popularity numeric,
  p_current_depth text default null
)
returns text
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_policy public.catalog_depth_policy%rowtype;
begin
  if p_current_depth is not null and p_current_depth not in ('full', 'base') then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_current_depth must be full, base or null: current value is %s',
                       p_current_depth);
  end if;
  select * into v_policy from public.catalog_depth_policy where id;
  if v_policy.full_min_popularity is null then
    return 'full';
  end if;
  if v_policy.keep_full and p_current_depth = 'full' then
    return 'full';
  end if;
  return case when coalesce(p_popularity, 0) >= v_policy.full_min_popularity
    then 'full' else 'base' end;
end;
$$;

comment on function public.catalog_depth_for(numeric, text) is
  'The depth (full | base) a movie with this popularity is stored at under '
  'public.catalog_depth_policy, given the depth it is stored at now (null if new).';

revoke execute on function public.catalog_depth_for(numeric, text) from public, anon, authenticated;
grant execute on function public.catalog_depth_for(numeric, text) to service_role;

-- ============================================================================
-- ingest_movie, applying the depth policy
-- ============================================================================

-- Same signature, answers, write rules and concurrency reasoning as 025 (see its comments).
-- What 030 adds: the depth, decided under the work's row lock, so two concurrent ingests of
-- one movie agree; the payload is still checked in full by tmdb_movie_drift() at either
-- depth (the same payload gets the same answer and the same drift whatever the policy), but
-- at base depth the credits, videos and release dates are neither read into rows nor
-- written, and the shared people of the credits are not touched. The answer's counts are
-- what is stored: 0 cast, crew, videos and release dates for a base movie.
create or replace function public.ingest_movie(
  payload jsonb,
  refreshed_at timestamptz default now()
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
-- Short OLTP statements: never worth JIT compilation (which costs up to a second).
set jit = off
as $$
declare
  -- The key crew stored in work_crew (every other crew credit is ignored).
  key_crew_departments constant text[] := array['Directing', 'Writing'];
  key_crew_jobs constant text[] := array[
    'Producer', 'Executive Producer', 'Original Music Composer', 'Director of Photography',
    'Editor', 'Casting'
  ];
  v_drift jsonb;
  v_tmdb_id integer;
  v_hash text;
  v_new public.works%rowtype;
  v_collection jsonb;
  v_work_id bigint;
  v_old_hash text;
  v_old_missing_at timestamptz;
  v_action text;
  v_genres jsonb;
  v_cast jsonb;
  v_crew jsonb;
  v_videos jsonb;
  v_release_dates jsonb;
  v_popularity numeric;
  v_old_depth text;
  v_depth text;
begin
  -- The movie id first (the row is found and locked by it): without a usable one the
  -- policy's own check raises, naming the problem.
  if jsonb_typeof(payload) is distinct from 'object'
     or coalesce(public.tmdb_int(payload -> 'id'), 0) < 1 then
    perform public.tmdb_movie_drift(payload);
  end if;
  v_tmdb_id := (payload ->> 'id')::integer;
  if ingest_movie.refreshed_at is null then
    raise exception 'ingest_movie: refreshed_at must not be null (tmdb_id %)', v_tmdb_id
      using errcode = '22004';
  end if;

  -- Canonical text: jsonb normalises key order and whitespace, so equal content gives an
  -- equal hash whatever the JSON text looked like.
  v_hash := encode(sha256(convert_to(payload::text, 'UTF8')), 'hex');

  -- ---- find the work and lock it (concurrency: see 005) ----
  select w.id, w.payload_hash, w.tmdb_missing_at, w.payload_drift, w.depth
    into v_work_id, v_old_hash, v_old_missing_at, v_drift, v_old_depth
    from public.works as w
    where w.tmdb_id = v_tmdb_id
    for update;

  -- ---- the depth this movie is stored at (030): the policy, from its popularity now ----
  v_popularity := public.tmdb_numeric(payload -> 'popularity');
  v_depth := public.catalog_depth_for(v_popularity, v_old_depth);

  -- ---- the same payload again, at the same depth: only the refresh time is written ----
  -- (It passed the policy when it was stored; its drift is reported again from the row.)
  if found and v_old_hash = v_hash and v_old_missing_at is null and v_old_depth = v_depth then
    update public.works as w
      set last_refreshed_at = ingest_movie.refreshed_at
      where w.id = v_work_id
        and w.last_refreshed_at is distinct from
              greatest(w.last_refreshed_at, ingest_movie.refreshed_at);
    return jsonb_build_object('tmdb_id', v_tmdb_id, 'work_id', v_work_id, 'action', 'unchanged',
                              'drift', v_drift)
      || public.work_child_counts(v_work_id);
  end if;

  -- ---- the policy: raises on an unusable essential field, else says what it defaulted ----
  v_drift := public.tmdb_movie_drift(payload);

  -- ---- the work's column values (the one place that maps them) ----
  v_collection := case when jsonb_typeof(payload -> 'belongs_to_collection') = 'object'
    and public.tmdb_int(payload #> '{belongs_to_collection,id}') is not null
    then payload -> 'belongs_to_collection' end;
  select
    v_tmdb_id,
    coalesce(public.tmdb_text(payload -> 'title'), public.tmdb_text(payload -> 'original_title'), ''),
    public.tmdb_text(payload -> 'original_title'),
    public.tmdb_text(payload -> 'original_language'),
    public.tmdb_text(payload -> 'overview'),
    public.tmdb_text(payload -> 'tagline'),
    case when public.tmdb_type_ok(payload -> 'release_date', 'date')
      then (public.tmdb_timestamptz(payload -> 'release_date') at time zone 'UTC')::date end,
    public.tmdb_int(payload -> 'runtime'),
    public.tmdb_text(payload -> 'status'),
    coalesce(public.tmdb_bool(payload -> 'adult'), false),
    coalesce(public.tmdb_bool(payload -> 'video'), false),
    nullif(public.tmdb_text(payload -> 'poster_path'), ''),
    nullif(public.tmdb_text(payload -> 'backdrop_path'), ''),
    public.tmdb_numeric(payload -> 'popularity'),
    public.tmdb_numeric(payload -> 'vote_average'),
    public.tmdb_int(payload -> 'vote_count'),
    public.tmdb_bigint(payload -> 'budget'),
    public.tmdb_bigint(payload -> 'revenue'),
    nullif(public.tmdb_text(payload -> 'homepage'), ''),
    coalesce(nullif(public.tmdb_text(payload #> '{external_ids,imdb_id}'), ''),
             nullif(public.tmdb_text(payload -> 'imdb_id'), '')),
    nullif(public.tmdb_text(payload #> '{external_ids,wikidata_id}'), ''),
    nullif(public.tmdb_text(payload #> '{external_ids,facebook_id}'), ''),
    nullif(public.tmdb_text(payload #> '{external_ids,instagram_id}'), ''),
    nullif(public.tmdb_text(payload #> '{external_ids,twitter_id}'), ''),
    public.tmdb_int(v_collection -> 'id'),
    case when v_collection is not null then coalesce(public.tmdb_text(v_collection -> 'name'), '') end,
    public.tmdb_strings(payload -> 'origin_country'),
    public.tmdb_objects(payload -> 'spoken_languages'),
    public.tmdb_objects(payload -> 'production_companies'),
    public.tmdb_objects(payload -> 'production_countries'),
    public.tmdb_objects(payload #> '{keywords,keywords}'),
    coalesce((select jsonb_object_agg(e.key, e.value)
                from jsonb_each(payload) e
               where e.key not in (select f.field from public.tmdb_movie_fields() f
                                    where f.parent = '')), '{}'::jsonb)
  into
    v_new.tmdb_id, v_new.title, v_new.original_title, v_new.original_language,
    v_new.overview, v_new.tagline, v_new.release_date, v_new.runtime, v_new.status,
    v_new.adult, v_new.video, v_new.poster_path, v_new.backdrop_path, v_new.popularity,
    v_new.vote_average, v_new.vote_count, v_new.budget, v_new.revenue, v_new.homepage,
    v_new.imdb_id, v_new.wikidata_id, v_new.facebook_id, v_new.instagram_id,
    v_new.twitter_id, v_new.collection_id, v_new.collection_name, v_new.origin_country,
    v_new.spoken_languages, v_new.production_companies, v_new.production_countries,
    v_new.keywords, v_new.extra;

  -- ---- create the work when it is new ----
  if v_work_id is null then
    insert into public.works (
      tmdb_id, title, original_title, original_language, overview, tagline, release_date,
      runtime, status, adult, video, poster_path, backdrop_path, popularity, vote_average,
      vote_count, budget, revenue, homepage, imdb_id, wikidata_id, facebook_id, instagram_id,
      twitter_id, collection_id, collection_name, origin_country, spoken_languages,
      production_companies, production_countries, keywords, extra, payload_drift, payload_hash,
      tmdb_missing_at, first_ingested_at, last_refreshed_at, updated_at, depth
    ) values (
      v_new.tmdb_id, v_new.title, v_new.original_title, v_new.original_language,
      v_new.overview, v_new.tagline, v_new.release_date, v_new.runtime, v_new.status,
      v_new.adult, v_new.video, v_new.poster_path, v_new.backdrop_path, v_new.popularity,
      v_new.vote_average, v_new.vote_count, v_new.budget, v_new.revenue, v_new.homepage,
      v_new.imdb_id, v_new.wikidata_id, v_new.facebook_id, v_new.instagram_id,
      v_new.twitter_id, v_new.collection_id, v_new.collection_name, v_new.origin_country,
      v_new.spoken_languages, v_new.production_companies, v_new.production_countries,
      v_new.keywords, v_new.extra, v_drift, v_hash, null,
      ingest_movie.refreshed_at, ingest_movie.refreshed_at, ingest_movie.refreshed_at, v_depth
    )
    on conflict (tmdb_id) do nothing
    returning id into v_work_id;

    if v_work_id is not null then
      v_action := 'inserted';
    else
      -- A concurrent ingest inserted it first: decide the depth again from that row's.
      select w.id, w.payload_hash, w.tmdb_missing_at, w.depth
        into strict v_work_id, v_old_hash, v_old_missing_at, v_old_depth
        from public.works as w
        where w.tmdb_id = v_tmdb_id
        for update;
      v_depth := public.catalog_depth_for(v_popularity, v_old_depth);
    end if;
  end if;

  if v_action is null then
    -- A depth switch with the same payload is an update: child rows are added or removed.
    if v_old_hash = v_hash and v_old_depth = v_depth then
      v_action := case when v_old_missing_at is null then 'unchanged' else 'updated' end;
      update public.works as w
        set last_refreshed_at = greatest(w.last_refreshed_at, ingest_movie.refreshed_at),
            tmdb_missing_at = null,
            updated_at = case when w.tmdb_missing_at is null then w.updated_at
              else ingest_movie.refreshed_at end
        where w.id = v_work_id
          and (w.last_refreshed_at is distinct from
                greatest(w.last_refreshed_at, ingest_movie.refreshed_at)
            or w.tmdb_missing_at is not null);
    else
      v_action := 'updated';
      update public.works as w
        set title = v_new.title,
            original_title = v_new.original_title,
            original_language = v_new.original_language,
            overview = v_new.overview,
            tagline = v_new.tagline,
            release_date = v_new.release_date,
            runtime = v_new.runtime,
            status = v_new.status,
            adult = v_new.adult,
            video = v_new.video,
            poster_path = v_new.poster_path,
            backdrop_path = v_new.backdrop_path,
            popularity = v_new.popularity,
            vote_average = v_new.vote_average,
            vote_count = v_new.vote_count,
            budget = v_new.budget,
            revenue = v_new.revenue,
            homepage = v_new.homepage,
            imdb_id = v_new.imdb_id,
            wikidata_id = v_new.wikidata_id,
            facebook_id = v_new.facebook_id,
            instagram_id = v_new.instagram_id,
            twitter_id = v_new.twitter_id,
            collection_id = v_new.collection_id,
            collection_name = v_new.collection_name,
            origin_country = v_new.origin_country,
            spoken_languages = v_new.spoken_languages,
            production_companies = v_new.production_companies,
            production_countries = v_new.production_countries,
            keywords = v_new.keywords,
            extra = v_new.extra,
            payload_drift = v_drift,
            payload_hash = v_hash,
            depth = v_depth,
            tmdb_missing_at = null,
            last_refreshed_at = greatest(w.last_refreshed_at, ingest_movie.refreshed_at),
            updated_at = ingest_movie.refreshed_at
        where w.id = v_work_id;
    end if;
  end if;

  -- ---- child rows: only when the payload is new or changed, or the depth switched ----
  if v_action = 'inserted' or v_old_hash is distinct from v_hash
     or v_old_depth is distinct from v_depth then
    -- Genres are stored at every depth. Children are built as one jsonb array each, with
    -- every value already read through the policy's accessors (objects only; essential
    -- fields were checked above).
    select coalesce(jsonb_agg(jsonb_build_object(
             'id', public.tmdb_int(e.value -> 'id'),
             'name', public.tmdb_text(e.value -> 'name'),
             'position', e.ord - 1) order by e.ord), '[]'::jsonb)
      into v_genres
      from public.tmdb_elements(payload -> 'genres') e(value, ord);

    -- Genres (shared), upserted in id order so concurrent ingests lock shared rows in the
    -- same order (no deadlock). A genre without a name in this payload keeps its name.
    insert into public.genres as g (id, name)
    select distinct on (x.id) x.id, coalesce(x.name, '')
      from jsonb_to_recordset(v_genres) as x(id integer, name text)
      order by x.id, x.name is null
    on conflict (id) do update
      set name = excluded.name
      where excluded.name <> '' and g.name is distinct from excluded.name;

    delete from public.work_genres as wg
      where wg.work_id = v_work_id
        and not exists (
          select from jsonb_to_recordset(v_genres) as x(id integer) where x.id = wg.genre_id
        );

    insert into public.work_genres as wg (work_id, genre_id, position)
    select distinct on (x.id) v_work_id, x.id, x.position::smallint
      from jsonb_to_recordset(v_genres) as x(id integer, position integer)
      order by x.id, x.position
    on conflict (work_id, genre_id) do update
      set position = excluded.position
      where wg.position is distinct from excluded.position;
  end if;

  -- ---- base depth: no credits, videos or release dates (their parts are not even read) ----
  -- A movie that was full before loses them; the people rows stay (they are shared).
  if v_depth = 'base' and v_old_depth = 'full' then
    delete from public.work_cast as x where x.work_id = v_work_id;
    delete from public.work_crew as x where x.work_id = v_work_id;
    delete from public.work_videos as x where x.work_id = v_work_id;
    delete from public.work_release_dates as x where x.work_id = v_work_id;
  end if;

  -- ---- full depth: the children, as 025 wrote them ----
  if v_depth = 'full' and (v_action = 'inserted' or v_old_hash is distinct from v_hash
                           or v_old_depth is distinct from v_depth) then
    select coalesce(jsonb_agg(jsonb_build_object(
             'id', public.tmdb_int(e.value -> 'id'),
             'credit_id', public.tmdb_text(e.value -> 'credit_id'),
             'character', public.tmdb_text(e.value -> 'character'),
             'order', coalesce(public.tmdb_int(e.value -> 'order'), (e.ord - 1)::integer),
             'ord', e.ord,
             'person', e.value) order by e.ord), '[]'::jsonb)
      into v_cast
      from public.tmdb_elements(payload #> '{credits,cast}') e(value, ord);

    -- Keep only the key crew.
    select coalesce(jsonb_agg(jsonb_build_object(
             'id', public.tmdb_int(e.value -> 'id'),
             'credit_id', public.tmdb_text(e.value -> 'credit_id'),
             'department', coalesce(public.tmdb_text(e.value -> 'department'), ''),
             'job', coalesce(public.tmdb_text(e.value -> 'job'), ''),
             'ord', e.ord,
             'person', e.value) order by e.ord), '[]'::jsonb)
      into v_crew
      from public.tmdb_elements(payload #> '{credits,crew}') e(value, ord)
     where public.tmdb_text(e.value -> 'department') = any (key_crew_departments)
        or public.tmdb_text(e.value -> 'job') = any (key_crew_jobs);

    -- A video without TMDB's id is identified by where it lives.
    select coalesce(jsonb_agg(jsonb_build_object(
             'video_id', coalesce(nullif(public.tmdb_key(e.value -> 'id'), ''),
                                  public.tmdb_text(e.value -> 'site') || ':'
                                    || public.tmdb_text(e.value -> 'key')),
             'site', public.tmdb_text(e.value -> 'site'),
             'key', public.tmdb_text(e.value -> 'key'),
             'name', public.tmdb_text(e.value -> 'name'),
             'type', public.tmdb_text(e.value -> 'type'),
             'official', coalesce(public.tmdb_bool(e.value -> 'official'), false),
             'size', public.tmdb_int(e.value -> 'size'),
             'iso_639_1', nullif(public.tmdb_text(e.value -> 'iso_639_1'), ''),
             'iso_3166_1', nullif(public.tmdb_text(e.value -> 'iso_3166_1'), ''),
             'published_at', public.tmdb_timestamptz(e.value -> 'published_at'),
             'ord', e.ord)
             order by e.ord), '[]'::jsonb)
      into v_videos
      from public.tmdb_elements(payload #> '{videos,results}') e(value, ord);

    -- Release dates, flattened and deduplicated on the natural key of
    -- work_release_dates_release_key (country, type, date, note).
    select coalesce(jsonb_agg(n.row order by n.iso_3166_1, n.release_type, n.release_date,
                              n.note), '[]'::jsonb)
      into v_release_dates
      from (
        select distinct on (r.iso_3166_1, r.release_type, r.release_date, r.note)
            r.iso_3166_1, r.release_type, r.release_date, r.note,
            jsonb_build_object(
              'iso_3166_1', r.iso_3166_1,
              'release_type', r.release_type,
              'release_date', r.release_date,
              'certification', coalesce(public.tmdb_text(d.value -> 'certification'), ''),
              'descriptors', to_jsonb(public.tmdb_strings(d.value -> 'descriptors')),
              'iso_639_1', coalesce(public.tmdb_text(d.value -> 'iso_639_1'), ''),
              'note', r.note
            ) as row
          from public.tmdb_elements(payload #> '{release_dates,results}') g(value, ord)
          cross join lateral public.tmdb_elements(g.value -> 'release_dates') d(value, ord)
          cross join lateral (
            select public.tmdb_text(g.value -> 'iso_3166_1') as iso_3166_1,
                   public.tmdb_int(d.value -> 'type')::smallint as release_type,
                   public.tmdb_timestamptz(d.value -> 'release_date') as release_date,
                   coalesce(public.tmdb_key(d.value -> 'note'), '') as note
          ) r
          order by r.iso_3166_1, r.release_type, r.release_date, r.note
      ) as n;

    -- People (shared) of the cast and key crew: a value this payload lacks never replaces
    -- a known one.
    insert into public.people as p (
      id, name, original_name, gender, known_for_department, profile_path, popularity, adult,
      created_at, updated_at
    )
    select distinct on (x.id)
        x.id,
        coalesce(public.tmdb_text(x.person -> 'name'), ''),
        public.tmdb_text(x.person -> 'original_name'),
        public.tmdb_smallint(x.person -> 'gender'),
        public.tmdb_text(x.person -> 'known_for_department'),
        nullif(public.tmdb_text(x.person -> 'profile_path'), ''),
        public.tmdb_numeric(x.person -> 'popularity'),
        coalesce(public.tmdb_bool(x.person -> 'adult'), false),
        ingest_movie.refreshed_at, ingest_movie.refreshed_at
      from jsonb_to_recordset(v_cast || v_crew) as x(id integer, person jsonb)
      order by x.id, public.tmdb_text(x.person -> 'name') is null
    on conflict (id) do update
      set name = case when excluded.name <> '' then excluded.name else p.name end,
          original_name = coalesce(excluded.original_name, p.original_name),
          gender = coalesce(excluded.gender, p.gender),
          known_for_department = coalesce(excluded.known_for_department, p.known_for_department),
          profile_path = coalesce(excluded.profile_path, p.profile_path),
          popularity = coalesce(excluded.popularity, p.popularity),
          updated_at = excluded.updated_at
      where (p.name, p.original_name, p.gender, p.known_for_department, p.profile_path,
             p.popularity, p.adult)
        is distinct from
            (case when excluded.name <> '' then excluded.name else p.name end,
             coalesce(excluded.original_name, p.original_name),
             coalesce(excluded.gender, p.gender),
             coalesce(excluded.known_for_department, p.known_for_department),
             coalesce(excluded.profile_path, p.profile_path),
             coalesce(excluded.popularity, p.popularity),
             p.adult);

    -- adult is not null: a new person without it gets false above; a known person's flag
    -- changes only when this payload says so.
    update public.people as p
       set adult = x.adult, updated_at = ingest_movie.refreshed_at
      from (select distinct on (y.id) y.id, public.tmdb_bool(y.person -> 'adult') as adult
              from jsonb_to_recordset(v_cast || v_crew) as y(id integer, person jsonb)
             order by y.id, public.tmdb_text(y.person -> 'name') is null) as x
     where p.id = x.id and x.adult is not null and p.adult is distinct from x.adult;

    -- Cast: delete credits gone from the payload, upsert the rest (first of duplicates).
    delete from public.work_cast as wc
      where wc.work_id = v_work_id
        and not exists (
          select from jsonb_to_recordset(v_cast) as x(credit_id text)
          where x.credit_id = wc.credit_id
        );

    insert into public.work_cast as wc (work_id, credit_id, person_id, character, cast_order)
    select distinct on (x.credit_id) v_work_id, x.credit_id, x.id, x.character, x."order"
      from jsonb_to_recordset(v_cast) as x(id integer, credit_id text, character text,
             "order" integer, ord bigint)
      order by x.credit_id, x.ord
    on conflict (work_id, credit_id) do update
      set person_id = excluded.person_id,
          character = excluded.character,
          cast_order = excluded.cast_order
      where (wc.person_id, wc.character, wc.cast_order)
        is distinct from (excluded.person_id, excluded.character, excluded.cast_order);

    -- Key crew: same rule.
    delete from public.work_crew as wc
      where wc.work_id = v_work_id
        and not exists (
          select from jsonb_to_recordset(v_crew) as x(credit_id text)
          where x.credit_id = wc.credit_id
        );

    insert into public.work_crew as wc (work_id, credit_id, person_id, department, job)
    select distinct on (x.credit_id) v_work_id, x.credit_id, x.id, x.department, x.job
      from jsonb_to_recordset(v_crew) as x(id integer, credit_id text, department text,
             job text, ord bigint)
      order by x.credit_id, x.ord
    on conflict (work_id, credit_id) do update
      set person_id = excluded.person_id,
          department = excluded.department,
          job = excluded.job
      where (wc.person_id, wc.department, wc.job)
        is distinct from (excluded.person_id, excluded.department, excluded.job);

    -- Videos.
    delete from public.work_videos as wv
      where wv.work_id = v_work_id
        and not exists (
          select from jsonb_to_recordset(v_videos) as x(video_id text)
          where x.video_id = wv.video_id
        );

    insert into public.work_videos as wv (
      work_id, video_id, site, key, name, type, official, size, iso_639_1, iso_3166_1,
      published_at
    )
    select distinct on (x.video_id)
        v_work_id, x.video_id, x.site, x.key, x.name, x.type, x.official, x.size, x.iso_639_1,
        x.iso_3166_1, x.published_at
      from jsonb_to_recordset(v_videos) as x(
        video_id text, site text, key text, name text, type text, official boolean,
        size integer, iso_639_1 text, iso_3166_1 text, published_at timestamptz, ord bigint
      )
      order by x.video_id, x.ord
    on conflict (work_id, video_id) do update
      set site = excluded.site,
          key = excluded.key,
          name = excluded.name,
          type = excluded.type,
          official = excluded.official,
          size = excluded.size,
          iso_639_1 = excluded.iso_639_1,
          iso_3166_1 = excluded.iso_3166_1,
          published_at = excluded.published_at
      where (wv.site, wv.key, wv.name, wv.type, wv.official, wv.size, wv.iso_639_1,
             wv.iso_3166_1, wv.published_at)
        is distinct from
            (excluded.site, excluded.key, excluded.name, excluded.type, excluded.official,
             excluded.size, excluded.iso_639_1, excluded.iso_3166_1, excluded.published_at);

    -- Release dates: matched on the natural key (TMDB gives them no id).
    delete from public.work_release_dates as rd
      where rd.work_id = v_work_id
        and not exists (
          select
            from jsonb_to_recordset(v_release_dates) as n(
              iso_3166_1 text, release_type smallint, release_date timestamptz, note text
            )
            where n.iso_3166_1 = rd.iso_3166_1
              and n.release_type = rd.release_type
              and n.release_date is not distinct from rd.release_date
              and n.note = rd.note
        );

    insert into public.work_release_dates as rd (
      work_id, iso_3166_1, release_type, release_date, certification, descriptors,
      iso_639_1, note
    )
    select v_work_id, n.iso_3166_1, n.release_type, n.release_date, n.certification,
        n.descriptors, n.iso_639_1, n.note
      from jsonb_to_recordset(v_release_dates) as n(
        iso_3166_1 text, release_type smallint, release_date timestamptz, certification text,
        descriptors text[], iso_639_1 text, note text
      )
    on conflict (work_id, iso_3166_1, release_type, release_date, note) do update
      set certification = excluded.certification,
          descriptors = excluded.descriptors,
          iso_639_1 = excluded.iso_639_1
      where (rd.certification, rd.descriptors, rd.iso_639_1)
        is distinct from (excluded.certification, excluded.descriptors, excluded.iso_639_1);
  end if;

  -- ---- result: what is stored now, and what the policy defaulted ----
  return jsonb_build_object('tmdb_id', v_tmdb_id, 'work_id', v_work_id, 'action', v_action,
                            'drift', v_drift)
    || public.work_child_counts(v_work_id);
end;
$$;

comment on function public.ingest_movie(jsonb, timestamptz) is
  'Upserts one TMDB movie details payload (with credits, videos, release_dates, external_ids, '
  'keywords) and its child rows, reading it through the payload policy (tmdb_movie_fields); at '
  'base depth (catalog_depth_for) only the work and its genres are stored. '
  'Returns {tmdb_id, work_id, action: inserted|updated|unchanged, drift, cast, crew, videos, '
  'genres, release_dates}; raises 22023 naming the path of an unusable essential field.';

revoke execute on function public.ingest_movie(jsonb, timestamptz) from public, anon, authenticated;
grant execute on function public.ingest_movie(jsonb, timestamptz) to service_role;

-- ============================================================================
-- catalog_freshness
-- ============================================================================

-- works is rewritten by every refresh (last_refreshed_at), ~150,000 rows a day at catalog
-- size. With the default scale factor (20 %) autovacuum would wait for 200,000 dead rows at
-- 1 M works, and the pages changed meanwhile drop out of the visibility map, so index-only
-- scans (this view, get_stale_movies) turn into heap reads. 2 % vacuums it every ~20,000
-- changes; inserts (a seeding run adds ~150,000 movies an hour) count the same way.
alter table public.works set (
  autovacuum_vacuum_scale_factor = 0.02,
  autovacuum_vacuum_insert_scale_factor = 0.02,
  autovacuum_analyze_scale_factor = 0.02
);

-- One row. What each figure costs at 1 M works (the plan is shown by benchmark scenario 9):
--   works, overdue, never_refreshed, oldest_overdue_at: ONE pass over works. The only column
--     read is next_refresh_at, so the planner takes an index-only scan of
--     works_next_refresh_at_idx (30 MB at 1 M works, ~95 ms) while the visibility map is
--     current (the autovacuum settings below keep it so); on a table with many pages changed
--     since its last vacuum it falls back to a (parallel) sequential scan of the heap;
--   queue figures: range scans of refresh_queue's partial indexes (pending, processing and
--     finished rows each have one; 018);
--   tmdb_requests_last_day: a range scan of tmdb_api_logs_created_at_idx;
--   drift and failures: range scans of tmdb_payload_drift_last_seen_at_idx and
--     scheduled_ingestion_log_created_at_idx (a day of rows).
-- Every CTE is MATERIALIZED: the final select names its columns several times, and an
-- inlined CTE would run its counts once per mention.
-- security_invoker: the view reads with the caller's privileges, so only roles that may read
-- the tables (postgres, service_role) see anything; it is granted to service_role only.
create or replace view public.catalog_freshness
with (security_invoker = true)
as
with
works as materialized (
  select count(*) as works,
         count(*) filter (where w.next_refresh_at <= now()) as overdue,
         count(*) filter (where w.next_refresh_at = '-infinity') as never_refreshed,
         min(w.next_refresh_at) filter (where w.next_refresh_at > '-infinity') as oldest_due_at
    from public.works as w
),
queue as materialized (
  select
    (select count(*) from public.refresh_queue q where q.status = 'pending') as pending,
    (select count(*) from public.refresh_queue q where q.status = 'processing') as processing,
    (select count(*) from public.refresh_queue q
      where q.status in ('completed', 'failed') and q.completed_at > now() - interval '1 hour')
      as finished_last_hour,
    (select count(*) from public.refresh_queue q
      where q.status in ('completed', 'failed') and q.completed_at > now() - interval '1 day')
      as finished_last_day,
    (select count(*) from public.refresh_queue q
      where q.status = 'failed' and q.completed_at > now() - interval '1 day')
      as failed_last_day
),
rate as materialized (
  -- The measured rate: the last hour's when it finished anything, else the last day's.
  select q.*,
         case when q.finished_last_hour > 0 then q.finished_last_hour::numeric
              else round(q.finished_last_day / 24.0, 2) end as per_hour
    from queue q
),
api as materialized (
  select
    (select count(*) from public.tmdb_api_logs l where l.created_at > now() - interval '1 day')
      as requests_last_day,
    (select floor(r.requests_per_second * 86400)::bigint from public.tmdb_rate_limit r where r.id)
      as limit_per_day
),
drift as materialized (
  select coalesce(sum(d.count), 0)::bigint as occurrences,
         count(distinct (d.path, d.kind)) as paths
    from public.tmdb_payload_drift d
   where d.last_seen_at > now() - interval '1 day'
),
runs as materialized (
  select count(*) filter (where l.status in ('failed', 'partial')) as failed_runs,
         coalesce(sum(l.failed), 0)::bigint as failed_items
    from public.scheduled_ingestion_log l
   where l.created_at > now() - interval '1 day'
)
select
  now() as as_of,
  w.works,
  w.works - w.overdue as within_tier,
  case when w.works > 0 then round((w.works - w.overdue)::numeric / w.works, 4) end
    as within_tier_share,
  w.overdue,
  w.never_refreshed,
  case when w.oldest_due_at <= now() then w.oldest_due_at end as oldest_overdue_at,
  case when w.oldest_due_at <= now() then now() - w.oldest_due_at end as oldest_overdue_by,
  r.pending as queue_pending,
  r.processing as queue_processing,
  r.pending + r.processing as queue_backlog,
  r.finished_last_hour as queue_finished_last_hour,
  r.finished_last_day as queue_finished_last_day,
  r.per_hour as queue_finished_per_hour,
  case when r.pending + r.processing = 0 then interval '0'
       when r.per_hour > 0
         then make_interval(secs => round((r.pending + r.processing) * 3600 / r.per_hour))
  end as queue_backlog_eta,
  a.requests_last_day as tmdb_requests_last_day,
  a.limit_per_day as tmdb_requests_limit_per_day,
  case when a.limit_per_day > 0 then round(a.requests_last_day::numeric / a.limit_per_day, 4) end
    as tmdb_requests_share,
  d.occurrences as drift_last_day,
  d.paths as drift_paths_last_day,
  r.failed_last_day as queue_failed_last_day,
  u.failed_runs as ingest_runs_failed_last_day,
  u.failed_items as ingest_items_failed_last_day
from works w, rate r, api a, drift d, runs u;

comment on view public.catalog_freshness is
  'How fresh the catalog is now (one row): share within its freshness tier, overdue movies and '
  'the most overdue, queue backlog and its ETA at the measured rate, TMDB requests in the last '
  'day against the rate limit, drift and failures of the last day. See '
  'docs/depth-and-freshness.md.';

revoke all on table public.catalog_freshness from public, anon, authenticated;
grant select on table public.catalog_freshness to service_role;
