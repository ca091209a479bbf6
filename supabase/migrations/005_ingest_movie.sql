-- 005_ingest_movie.sql
--
-- Adds the two writers of the catalog, called by the edge functions (as service_role) in one
-- round trip each:
--   * public.ingest_movie(payload, refreshed_at): upserts one TMDB movie details payload
--     (/movie/{id}?append_to_response=credits,videos,release_dates,external_ids,keywords)
--     into public.works and every child table, in one statement (so one transaction).
--   * public.mark_movie_not_found(tmdb_id, at): records that TMDB answered 404.
--
-- Why in SQL: idempotency and concurrency rules (hash comparison, row lock, dedupe of
-- shared people and genres) must hold whichever worker calls, so they live next to the data
-- and are tested with pgTAP (supabase/tests/database/020_*, 025_*).
--
-- Write rules (docs/schema.md has the long form):
--   * The payload's sha256 (over its canonical jsonb text) is kept in works.payload_hash. The
--     same payload again writes NO catalog or child row: the only write is
--     works.last_refreshed_at (the freshness clock restarts), and the result is "unchanged".
--   * A changed payload updates the work and replaces each child set: rows missing from the
--     new payload are deleted, the others upserted, and an upsert only writes a row whose
--     values actually differ (so a popularity change rewrites one work row, not the cast).
--   * People and genres are shared by many movies and upserted by TMDB id.

-- ---------------------------------------------------------------------------------------
-- ingest_movie
-- ---------------------------------------------------------------------------------------

create or replace function public.ingest_movie(
  payload jsonb,
  refreshed_at timestamptz default now()
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  -- The key crew stored in work_crew (every other crew credit is ignored).
  key_crew_departments constant text[] := array['Directing', 'Writing'];
  key_crew_jobs constant text[] := array[
    'Producer', 'Executive Producer', 'Original Music Composer', 'Director of Photography',
    'Editor', 'Casting'
  ];
  -- Parts of the payload that must be arrays when present (and not null).
  array_paths constant text[] := array[
    'genres', 'origin_country', 'spoken_languages', 'production_companies',
    'production_countries', 'credits.cast', 'credits.crew', 'videos.results',
    'release_dates.results', 'keywords.keywords'
  ];
  v_path text;
  v_part jsonb;
  v_id numeric;
  v_tmdb_id integer;
  v_hash text;
  v_new public.works%rowtype;
  v_work_id bigint;
  v_old_hash text;
  v_old_missing_at timestamptz;
  v_action text;
  v_genres jsonb;
  v_cast jsonb;
  v_crew jsonb;
  v_videos jsonb;
  v_release_groups jsonb;
  v_release_dates jsonb;
  v_counts jsonb;
begin
  -- ---- validation (the TypeScript side validated with zod; this names what is wrong) ----
  if payload is null or jsonb_typeof(payload) <> 'object' then
    raise exception 'ingest_movie: payload must be a JSON object: got %',
      coalesce(jsonb_typeof(payload), 'null')
      using errcode = '22023';
  end if;
  if jsonb_typeof(payload -> 'id') is distinct from 'number' then
    raise exception 'ingest_movie: payload.id must be a positive integer (the TMDB movie id): got %',
      coalesce((payload -> 'id')::text, 'nothing (key missing)')
      using errcode = '22023';
  end if;
  v_id := (payload ->> 'id')::numeric;
  if v_id <> trunc(v_id) or v_id < 1 or v_id > 2147483647 then
    raise exception 'ingest_movie: payload.id must be a positive integer (the TMDB movie id): got %',
      payload -> 'id'
      using errcode = '22023';
  end if;
  v_tmdb_id := v_id::integer;
  if jsonb_typeof(payload -> 'title') is distinct from 'string' then
    raise exception 'ingest_movie: payload.title must be a string: got % (tmdb_id %)',
      coalesce((payload -> 'title')::text, 'nothing (key missing)'), v_tmdb_id
      using errcode = '22023';
  end if;
  foreach v_path in array array_paths loop
    v_part := payload #> string_to_array(v_path, '.');
    if v_part is not null and jsonb_typeof(v_part) not in ('array', 'null') then
      raise exception 'ingest_movie: payload.% must be an array: got % (tmdb_id %)',
        v_path, jsonb_typeof(v_part), v_tmdb_id
        using errcode = '22023';
    end if;
  end loop;
  if ingest_movie.refreshed_at is null then
    raise exception 'ingest_movie: refreshed_at must not be null (tmdb_id %)', v_tmdb_id
      using errcode = '22004';
  end if;

  -- Canonical text: jsonb normalises key order and whitespace, so equal content gives an
  -- equal hash whatever the JSON text looked like. sha256() is built into PostgreSQL 11+.
  v_hash := encode(sha256(convert_to(payload::text, 'UTF8')), 'hex');

  -- ---- the work's column values, from the payload (the one place that maps them) ----
  select
    v_tmdb_id,
    payload ->> 'title',
    payload ->> 'original_title',
    payload ->> 'original_language',
    payload ->> 'overview',
    payload ->> 'tagline',
    nullif(payload ->> 'release_date', '')::date,
    (payload ->> 'runtime')::numeric::integer,
    payload ->> 'status',
    coalesce((payload ->> 'adult')::boolean, false),
    coalesce((payload ->> 'video')::boolean, false),
    nullif(payload ->> 'poster_path', ''),
    nullif(payload ->> 'backdrop_path', ''),
    (payload ->> 'popularity')::numeric,
    (payload ->> 'vote_average')::numeric,
    (payload ->> 'vote_count')::numeric::integer,
    (payload ->> 'budget')::numeric::bigint,
    (payload ->> 'revenue')::numeric::bigint,
    nullif(payload ->> 'homepage', ''),
    coalesce(nullif(payload #>> '{external_ids,imdb_id}', ''), nullif(payload ->> 'imdb_id', '')),
    nullif(payload #>> '{external_ids,wikidata_id}', ''),
    nullif(payload #>> '{external_ids,facebook_id}', ''),
    nullif(payload #>> '{external_ids,instagram_id}', ''),
    nullif(payload #>> '{external_ids,twitter_id}', ''),
    (payload #>> '{belongs_to_collection,id}')::numeric::integer,
    payload #>> '{belongs_to_collection,name}',
    case when jsonb_typeof(payload -> 'origin_country') = 'array'
      then array(select jsonb_array_elements_text(payload -> 'origin_country'))
      else '{}'::text[] end,
    case when jsonb_typeof(payload -> 'spoken_languages') = 'array'
      then payload -> 'spoken_languages' else '[]'::jsonb end,
    case when jsonb_typeof(payload -> 'production_companies') = 'array'
      then payload -> 'production_companies' else '[]'::jsonb end,
    case when jsonb_typeof(payload -> 'production_countries') = 'array'
      then payload -> 'production_countries' else '[]'::jsonb end,
    case when jsonb_typeof(payload #> '{keywords,keywords}') = 'array'
      then payload #> '{keywords,keywords}' else '[]'::jsonb end
  into
    v_new.tmdb_id, v_new.title, v_new.original_title, v_new.original_language,
    v_new.overview, v_new.tagline, v_new.release_date, v_new.runtime, v_new.status,
    v_new.adult, v_new.video, v_new.poster_path, v_new.backdrop_path, v_new.popularity,
    v_new.vote_average, v_new.vote_count, v_new.budget, v_new.revenue, v_new.homepage,
    v_new.imdb_id, v_new.wikidata_id, v_new.facebook_id, v_new.instagram_id,
    v_new.twitter_id, v_new.collection_id, v_new.collection_name, v_new.origin_country,
    v_new.spoken_languages, v_new.production_companies, v_new.production_countries,
    v_new.keywords;

  -- ---- find or create the work, and lock it ----
  -- Concurrency: the work row's lock (FOR UPDATE) serialises every writer of one movie, so
  -- its child rows are only ever replaced by one transaction at a time. Two sessions
  -- ingesting the same new movie: both miss the SELECT, both INSERT … ON CONFLICT DO
  -- NOTHING; the second waits for the first to commit, inserts nothing, then locks and reads
  -- the committed row with the second SELECT (each statement of a volatile function takes a
  -- new snapshot under READ COMMITTED), and carries on as an update — no unique violation.
  select w.id, w.payload_hash, w.tmdb_missing_at
    into v_work_id, v_old_hash, v_old_missing_at
    from public.works as w
    where w.tmdb_id = v_tmdb_id
    for update;

  if not found then
    insert into public.works (
      tmdb_id, title, original_title, original_language, overview, tagline, release_date,
      runtime, status, adult, video, poster_path, backdrop_path, popularity, vote_average,
      vote_count, budget, revenue, homepage, imdb_id, wikidata_id, facebook_id, instagram_id,
      twitter_id, collection_id, collection_name, origin_country, spoken_languages,
      production_companies, production_countries, keywords, payload_hash, tmdb_missing_at,
      first_ingested_at, last_refreshed_at, updated_at
    ) values (
      v_new.tmdb_id, v_new.title, v_new.original_title, v_new.original_language,
      v_new.overview, v_new.tagline, v_new.release_date, v_new.runtime, v_new.status,
      v_new.adult, v_new.video, v_new.poster_path, v_new.backdrop_path, v_new.popularity,
      v_new.vote_average, v_new.vote_count, v_new.budget, v_new.revenue, v_new.homepage,
      v_new.imdb_id, v_new.wikidata_id, v_new.facebook_id, v_new.instagram_id,
      v_new.twitter_id, v_new.collection_id, v_new.collection_name, v_new.origin_country,
      v_new.spoken_languages, v_new.production_companies, v_new.production_countries,
      v_new.keywords, v_hash, null,
      ingest_movie.refreshed_at, ingest_movie.refreshed_at, ingest_movie.refreshed_at
    )
    on conflict (tmdb_id) do nothing
    returning id into v_work_id;

    if v_work_id is not null then
      v_action := 'inserted';
    else
      -- Another session inserted it since our SELECT and has committed: lock its row.
      select w.id, w.payload_hash, w.tmdb_missing_at
        into strict v_work_id, v_old_hash, v_old_missing_at
        from public.works as w
        where w.tmdb_id = v_tmdb_id
        for update;
    end if;
  end if;

  if v_action is null then
    if v_old_hash = v_hash then
      -- Same payload: nothing but the refresh time is written (and the missing mark
      -- cleared if the movie is back with the very payload it had before it went missing).
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
            payload_hash = v_hash,
            tmdb_missing_at = null,
            last_refreshed_at = greatest(w.last_refreshed_at, ingest_movie.refreshed_at),
            updated_at = ingest_movie.refreshed_at
        where w.id = v_work_id;
    end if;
  end if;

  -- ---- child rows: only when the payload is new or changed ----
  if v_action = 'inserted' or v_old_hash is distinct from v_hash then
    v_genres := case when jsonb_typeof(payload -> 'genres') = 'array'
      then payload -> 'genres' else '[]'::jsonb end;
    v_cast := case when jsonb_typeof(payload #> '{credits,cast}') = 'array'
      then payload #> '{credits,cast}' else '[]'::jsonb end;
    v_crew := case when jsonb_typeof(payload #> '{credits,crew}') = 'array'
      then payload #> '{credits,crew}' else '[]'::jsonb end;
    v_videos := case when jsonb_typeof(payload #> '{videos,results}') = 'array'
      then payload #> '{videos,results}' else '[]'::jsonb end;
    v_release_groups := case when jsonb_typeof(payload #> '{release_dates,results}') = 'array'
      then payload #> '{release_dates,results}' else '[]'::jsonb end;

    -- Keep only the key crew.
    select coalesce(jsonb_agg(c.value order by c.ordinality), '[]'::jsonb)
      into v_crew
      from jsonb_array_elements(v_crew) with ordinality as c
      where c.value ->> 'department' = any (key_crew_departments)
         or c.value ->> 'job' = any (key_crew_jobs);

    -- Genres (shared). Rows are upserted in id order, so concurrent ingests of movies that
    -- share genres or people lock those rows in the same order and cannot deadlock; an
    -- unchanged row is locked but not rewritten (the WHERE of DO UPDATE).
    insert into public.genres as g (id, name)
    select distinct on (x.id) x.id, x.name
      from jsonb_to_recordset(v_genres) as x(id integer, name text)
      order by x.id
    on conflict (id) do update
      set name = excluded.name
      where g.name is distinct from excluded.name;

    delete from public.work_genres as wg
      where wg.work_id = v_work_id
        and not exists (
          select from jsonb_to_recordset(v_genres) as x(id integer)
          where x.id = wg.genre_id
        );

    insert into public.work_genres as wg (work_id, genre_id, position)
    select distinct on ((e.value ->> 'id')::integer)
        v_work_id, (e.value ->> 'id')::integer, (e.ord - 1)::smallint
      from jsonb_array_elements(v_genres) with ordinality as e(value, ord)
      order by (e.value ->> 'id')::integer, e.ord
    on conflict (work_id, genre_id) do update
      set position = excluded.position
      where wg.position is distinct from excluded.position;

    -- People (shared) appearing in the cast or the key crew, one row per TMDB person id.
    insert into public.people as p (
      id, name, original_name, gender, known_for_department, profile_path, popularity, adult,
      created_at, updated_at
    )
    select distinct on (x.id)
        x.id, x.name, x.original_name, x.gender, x.known_for_department,
        nullif(x.profile_path, ''), x.popularity, coalesce(x.adult, false),
        ingest_movie.refreshed_at, ingest_movie.refreshed_at
      from jsonb_to_recordset(v_cast || v_crew) as x(
        id integer, name text, original_name text, gender smallint,
        known_for_department text, profile_path text, popularity numeric, adult boolean
      )
      order by x.id
    on conflict (id) do update
      set name = excluded.name,
          original_name = excluded.original_name,
          gender = excluded.gender,
          known_for_department = excluded.known_for_department,
          profile_path = excluded.profile_path,
          popularity = excluded.popularity,
          adult = excluded.adult,
          updated_at = excluded.updated_at
      where (p.name, p.original_name, p.gender, p.known_for_department, p.profile_path,
             p.popularity, p.adult)
        is distinct from
            (excluded.name, excluded.original_name, excluded.gender,
             excluded.known_for_department, excluded.profile_path, excluded.popularity,
             excluded.adult);

    -- Cast: delete credits gone from the payload, upsert the rest.
    delete from public.work_cast as wc
      where wc.work_id = v_work_id
        and not exists (
          select from jsonb_to_recordset(v_cast) as x(credit_id text)
          where x.credit_id = wc.credit_id
        );

    insert into public.work_cast as wc (work_id, credit_id, person_id, character, cast_order)
    select distinct on (x.credit_id)
        v_work_id, x.credit_id, x.id, x.character, coalesce(x."order", (e.ord - 1)::integer)
      from jsonb_array_elements(v_cast) with ordinality as e(value, ord),
        lateral jsonb_to_record(e.value) as x(credit_id text, id integer, character text, "order" integer)
      order by x.credit_id, e.ord
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
      from jsonb_to_recordset(v_crew) as x(credit_id text, id integer, department text, job text)
      order by x.credit_id
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
          select from jsonb_to_recordset(v_videos) as x(id text)
          where x.id = wv.video_id
        );

    insert into public.work_videos as wv (
      work_id, video_id, site, key, name, type, official, size, iso_639_1, iso_3166_1,
      published_at
    )
    select distinct on (x.id)
        v_work_id, x.id, x.site, x.key, x.name, x.type, coalesce(x.official, false), x.size,
        nullif(x.iso_639_1, ''), nullif(x.iso_3166_1, ''), nullif(x.published_at, '')::timestamptz
      from jsonb_to_recordset(v_videos) as x(
        id text, site text, key text, name text, type text, official boolean, size integer,
        iso_639_1 text, iso_3166_1 text, published_at text
      )
      order by x.id
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

    -- Release dates: TMDB gives no id, so rows are matched on the natural key (country,
    -- type, date, note) of the work_release_dates_release_key constraint. The payload's
    -- groups are flattened (and deduplicated on that key) once, into v_release_dates.
    select coalesce(jsonb_agg(n.row order by n.iso_3166_1, n.release_type, n.release_date,
                              n.note), '[]'::jsonb)
      into v_release_dates
      from (
        select distinct on (g.iso_3166_1, r.type, nullif(r.release_date, '')::timestamptz,
                            coalesce(r.note, ''))
            g.iso_3166_1,
            r.type as release_type,
            nullif(r.release_date, '')::timestamptz as release_date,
            coalesce(r.note, '') as note,
            jsonb_build_object(
              'iso_3166_1', g.iso_3166_1,
              'release_type', r.type,
              'release_date', nullif(r.release_date, '')::timestamptz,
              'certification', coalesce(r.certification, ''),
              'descriptors', case when jsonb_typeof(r.descriptors) = 'array'
                then r.descriptors else '[]'::jsonb end,
              'iso_639_1', coalesce(r.iso_639_1, ''),
              'note', coalesce(r.note, '')
            ) as row
          from jsonb_to_recordset(v_release_groups) as g(iso_3166_1 text, release_dates jsonb),
            lateral jsonb_to_recordset(
              case when jsonb_typeof(g.release_dates) = 'array' then g.release_dates
                else '[]'::jsonb end
            ) as r(type smallint, release_date text, certification text, descriptors jsonb,
                   iso_639_1 text, note text)
          order by g.iso_3166_1, r.type, nullif(r.release_date, '')::timestamptz,
            coalesce(r.note, '')
      ) as n;

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

  -- ---- result: what is stored now ----
  select jsonb_build_object(
      'cast', (select count(*) from public.work_cast as x where x.work_id = v_work_id),
      'crew', (select count(*) from public.work_crew as x where x.work_id = v_work_id),
      'videos', (select count(*) from public.work_videos as x where x.work_id = v_work_id),
      'genres', (select count(*) from public.work_genres as x where x.work_id = v_work_id),
      'release_dates',
        (select count(*) from public.work_release_dates as x where x.work_id = v_work_id)
    )
    into v_counts;

  return jsonb_build_object('tmdb_id', v_tmdb_id, 'work_id', v_work_id, 'action', v_action)
    || v_counts;
end;
$$;

comment on function public.ingest_movie(jsonb, timestamptz) is
  'Upserts one TMDB movie details payload (with credits, videos, release_dates, external_ids, '
  'keywords) and its child rows. Returns {tmdb_id, work_id, action: inserted|updated|unchanged, '
  'cast, crew, videos, genres, release_dates}. The same payload again writes only '
  'works.last_refreshed_at.';

revoke execute on function public.ingest_movie(jsonb, timestamptz) from public, anon, authenticated;
grant execute on function public.ingest_movie(jsonb, timestamptz) to service_role;

-- ---------------------------------------------------------------------------------------
-- mark_movie_not_found
-- ---------------------------------------------------------------------------------------

create or replace function public.mark_movie_not_found(
  p_tmdb_id integer,
  at timestamptz default now()
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_work_id bigint;
begin
  if p_tmdb_id is null or p_tmdb_id < 1 then
    raise exception 'mark_movie_not_found: p_tmdb_id must be a positive integer: got %',
      coalesce(p_tmdb_id::text, 'null')
      using errcode = '22023';
  end if;
  if mark_movie_not_found.at is null then
    raise exception 'mark_movie_not_found: at must not be null (tmdb_id %)', p_tmdb_id
      using errcode = '22004';
  end if;

  -- tmdb_missing_at keeps the first time TMDB said 404 ("missing since"); the refresh clock
  -- restarts, so the movie is asked about again after max_refresh_interval() (180 days).
  update public.works as w
    set tmdb_missing_at = coalesce(w.tmdb_missing_at, mark_movie_not_found.at),
        last_refreshed_at = greatest(w.last_refreshed_at, mark_movie_not_found.at),
        updated_at = case when w.tmdb_missing_at is null then mark_movie_not_found.at
          else w.updated_at end
    where w.tmdb_id = p_tmdb_id
    returning w.id into v_work_id;

  return jsonb_build_object('tmdb_id', p_tmdb_id, 'work_id', v_work_id, 'action', 'not_found');
end;
$$;

comment on function public.mark_movie_not_found(integer, timestamptz) is
  'Records that TMDB answered 404 for this movie: sets tmdb_missing_at (first time only) and '
  'last_refreshed_at. Returns {tmdb_id, work_id (null if unknown), action: "not_found"}; '
  'writes nothing for an unknown movie.';

revoke execute on function public.mark_movie_not_found(integer, timestamptz)
  from public, anon, authenticated;
grant execute on function public.mark_movie_not_found(integer, timestamptz) to service_role;
