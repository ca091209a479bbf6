-- 025_tolerant_tmdb_payloads.sql
--
-- What this adds, and why: TMDB's real payloads omit documented fields, send null, "" or a
-- value of another type, and grow new fields over the years. The catalog must store every
-- movie whose identity is intact and say what it had to default, instead of rejecting it.
--
--   * public.tmdb_movie_fields(): the tolerance policy, one row per field of a
--     /movie/{id}?append_to_response=credits,videos,release_dates,external_ids,keywords
--     payload. A field is ESSENTIAL only when its row cannot exist without it (the movie's
--     id; a genre's, person's or credit's id; a video's key and site; a release's country
--     and type): a missing, null, ill-typed or unusable essential field fails that movie,
--     naming the path. Every other field is optional: when missing, null (where TMDB does
--     not document null) or of another type it degrades to its default and is counted.
--   * public.tmdb_movie_drift(payload): applies the policy: raises on an essential field,
--     else returns what was defaulted, by field path and kind
--     ({"release_dates.results[].release_dates[].note": {"missing": 10}}), including
--     fields the policy does not know ("unknown"), so a shape change is visible.
--   * typed accessors (public.tmdb_text, tmdb_int, …) that read a value only when it has the
--     policy's type, so the writer can never fail on a non-essential value.
--   * public.works.extra: the payload's unknown top-level fields, kept.
--   * public.ingest_movie(payload, refreshed_at): same signature and write rules as 005,
--     now reading every value through the policy; its result also carries `drift`.
--     Shared rows (genres, people) are never overwritten with a defaulted value.
--   * public.tmdb_payload_drift + public.ingest_tmdb_responses(): the Edge Functions hand
--     TMDB's response TEXT to Postgres (parsing and validating a payload in the function
--     costs its CPU budget; here it costs none), many movies per call, and the drift of
--     each run is stored per field path.
--   * public.refresh_worker_step(): refresh-worker's whole per-batch database step in one
--     round trip: store the batch's responses, finish its queue rows, claim the next batch.
--   * public.prune_old_rows(): now also prunes tmdb_payload_drift.
-- The policy is documented field by field in docs/schema.md.

-- ============================================================================
-- The policy
-- ============================================================================

-- parent: the normalised path of the object (or, for field '[]', of the array) the field
--   belongs to; '' is the payload itself, '[]' marks array elements.
-- json_type: string, key (a string of at most 255 characters: it is part of a primary or
--   unique key, whose index entries are bounded), smallint / integer / bigint (a whole
--   number within the column's range; bigint up to 2^53), number, boolean, array, object,
--   date (a 'YYYY-MM-DD' string or ""), timestamp (an ISO 8601 string or "", its zone within
--   ±15:59).
-- nullable: TMDB documents null as a normal value (not counted).
-- optional: TMDB may leave the key out as a normal thing (not counted when missing).
-- essential: the row cannot exist without it (see the header).
create or replace function public.tmdb_movie_fields()
returns table (
  parent text,
  field text,
  json_type text,
  nullable boolean,
  optional boolean,
  essential boolean
)
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
  values
    -- the movie
    ('', 'adult', 'boolean', false, false, false),
    ('', 'backdrop_path', 'string', true, false, false),
    ('', 'belongs_to_collection', 'object', true, false, false),
    ('', 'budget', 'bigint', false, false, false),
    ('', 'genres', 'array', false, false, false),
    ('', 'homepage', 'string', true, false, false),
    ('', 'id', 'integer', false, false, true),
    ('', 'imdb_id', 'string', true, false, false),
    ('', 'origin_country', 'array', false, false, false),
    ('', 'original_language', 'string', false, false, false),
    ('', 'original_title', 'string', false, false, false),
    ('', 'overview', 'string', true, false, false),
    ('', 'popularity', 'number', false, false, false),
    ('', 'poster_path', 'string', true, false, false),
    ('', 'production_companies', 'array', false, false, false),
    ('', 'production_countries', 'array', false, false, false),
    ('', 'release_date', 'date', false, false, false),
    ('', 'revenue', 'bigint', false, false, false),
    ('', 'runtime', 'integer', true, false, false),
    ('', 'spoken_languages', 'array', false, false, false),
    ('', 'status', 'string', false, false, false),
    ('', 'tagline', 'string', true, false, false),
    ('', 'title', 'string', false, false, false),
    ('', 'video', 'boolean', false, false, false),
    ('', 'vote_average', 'number', false, false, false),
    ('', 'vote_count', 'integer', false, false, false),
    ('', 'credits', 'object', false, false, false),
    ('', 'videos', 'object', false, false, false),
    ('', 'release_dates', 'object', false, false, false),
    ('', 'external_ids', 'object', false, false, false),
    ('', 'keywords', 'object', false, false, false),
    ('belongs_to_collection', 'id', 'integer', false, false, false),
    ('belongs_to_collection', 'name', 'string', false, false, false),
    ('belongs_to_collection', 'poster_path', 'string', true, false, false),
    ('belongs_to_collection', 'backdrop_path', 'string', true, false, false),
    ('genres', '[]', 'object', false, false, false),
    ('genres[]', 'id', 'integer', false, false, true),
    ('genres[]', 'name', 'string', false, false, false),
    ('origin_country', '[]', 'string', false, false, false),
    ('production_companies', '[]', 'object', false, false, false),
    ('production_companies[]', 'id', 'integer', false, false, false),
    ('production_companies[]', 'logo_path', 'string', true, false, false),
    ('production_companies[]', 'name', 'string', false, false, false),
    ('production_companies[]', 'origin_country', 'string', false, false, false),
    ('production_countries', '[]', 'object', false, false, false),
    ('production_countries[]', 'iso_3166_1', 'string', false, false, false),
    ('production_countries[]', 'name', 'string', false, false, false),
    ('spoken_languages', '[]', 'object', false, false, false),
    ('spoken_languages[]', 'english_name', 'string', false, false, false),
    ('spoken_languages[]', 'iso_639_1', 'string', false, false, false),
    ('spoken_languages[]', 'name', 'string', false, false, false),
    -- appended parts (they carry an `id` only when fetched on their own: optional)
    ('credits', 'id', 'integer', false, true, false),
    ('credits', 'cast', 'array', false, false, false),
    ('credits', 'crew', 'array', false, false, false),
    ('credits.cast', '[]', 'object', false, false, false),
    ('credits.cast[]', 'adult', 'boolean', false, false, false),
    ('credits.cast[]', 'gender', 'smallint', false, false, false),
    ('credits.cast[]', 'id', 'integer', false, false, true),
    ('credits.cast[]', 'known_for_department', 'string', true, false, false),
    ('credits.cast[]', 'name', 'string', false, false, false),
    ('credits.cast[]', 'original_name', 'string', false, false, false),
    ('credits.cast[]', 'popularity', 'number', false, false, false),
    ('credits.cast[]', 'profile_path', 'string', true, false, false),
    ('credits.cast[]', 'cast_id', 'integer', false, false, false),
    ('credits.cast[]', 'character', 'string', true, false, false),
    ('credits.cast[]', 'credit_id', 'key', false, false, true),
    ('credits.cast[]', 'order', 'integer', false, false, false),
    ('credits.crew', '[]', 'object', false, false, false),
    ('credits.crew[]', 'adult', 'boolean', false, false, false),
    ('credits.crew[]', 'gender', 'smallint', false, false, false),
    ('credits.crew[]', 'id', 'integer', false, false, true),
    ('credits.crew[]', 'known_for_department', 'string', true, false, false),
    ('credits.crew[]', 'name', 'string', false, false, false),
    ('credits.crew[]', 'original_name', 'string', false, false, false),
    ('credits.crew[]', 'popularity', 'number', false, false, false),
    ('credits.crew[]', 'profile_path', 'string', true, false, false),
    ('credits.crew[]', 'credit_id', 'key', false, false, true),
    ('credits.crew[]', 'department', 'string', false, false, false),
    ('credits.crew[]', 'job', 'string', false, false, false),
    ('videos', 'id', 'integer', false, true, false),
    ('videos', 'results', 'array', false, false, false),
    ('videos.results', '[]', 'object', false, false, false),
    ('videos.results[]', 'id', 'key', false, false, false),
    ('videos.results[]', 'iso_639_1', 'string', false, false, false),
    ('videos.results[]', 'iso_3166_1', 'string', false, false, false),
    ('videos.results[]', 'key', 'key', false, false, true),
    ('videos.results[]', 'name', 'string', false, false, false),
    ('videos.results[]', 'site', 'key', false, false, true),
    ('videos.results[]', 'size', 'integer', false, false, false),
    ('videos.results[]', 'type', 'string', false, false, false),
    ('videos.results[]', 'official', 'boolean', false, false, false),
    ('videos.results[]', 'published_at', 'timestamp', false, false, false),
    ('release_dates', 'id', 'integer', false, true, false),
    ('release_dates', 'results', 'array', false, false, false),
    ('release_dates.results', '[]', 'object', false, false, false),
    ('release_dates.results[]', 'iso_3166_1', 'key', false, false, true),
    ('release_dates.results[]', 'release_dates', 'array', false, false, false),
    ('release_dates.results[].release_dates', '[]', 'object', false, false, false),
    ('release_dates.results[].release_dates[]', 'certification', 'string', false, false, false),
    ('release_dates.results[].release_dates[]', 'descriptors', 'array', false, false, false),
    ('release_dates.results[].release_dates[]', 'iso_639_1', 'string', false, false, false),
    ('release_dates.results[].release_dates[]', 'note', 'key', false, false, false),
    ('release_dates.results[].release_dates[]', 'release_date', 'timestamp', false, false, false),
    ('release_dates.results[].release_dates[]', 'type', 'integer', false, false, true),
    ('release_dates.results[].release_dates[].descriptors', '[]', 'string', false, false, false),
    ('external_ids', 'id', 'integer', false, true, false),
    ('external_ids', 'imdb_id', 'string', true, false, false),
    ('external_ids', 'wikidata_id', 'string', true, false, false),
    ('external_ids', 'facebook_id', 'string', true, false, false),
    ('external_ids', 'instagram_id', 'string', true, false, false),
    ('external_ids', 'twitter_id', 'string', true, false, false),
    ('keywords', 'id', 'integer', false, true, false),
    ('keywords', 'keywords', 'array', false, false, false),
    ('keywords.keywords', '[]', 'object', false, false, false),
    ('keywords.keywords[]', 'id', 'integer', false, false, false),
    ('keywords.keywords[]', 'name', 'string', false, false, false)
$$;

comment on function public.tmdb_movie_fields() is
  'The tolerance policy for TMDB movie payloads: one row per field (parent path, field, JSON type, '
  'nullable, optional, essential). See docs/schema.md.';

revoke execute on function public.tmdb_movie_fields() from public, anon, authenticated;
grant execute on function public.tmdb_movie_fields() to service_role;

-- ============================================================================
-- Typed accessors: a value of the policy's type, else null (never an error)
-- ============================================================================

-- Parses a TMDB date or ISO 8601 timestamp string; null for anything else, including a date
-- that does not exist (e.g. 2023-02-30). Reached only for days 29–31 (see tmdb_timestamptz).
create or replace function public.tmdb_timestamptz_checked(v text)
returns timestamptz
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $$
begin
  -- A date or time without a zone is UTC for TMDB.
  return (v || case when v ~ '(Z|[+-](0\d|1[0-5])(:?[0-5]\d)?)$' then '' else 'Z' end)::timestamptz;
exception
  when datetime_field_overflow or invalid_datetime_format
       or invalid_time_zone_displacement_value then
    return null;
end;
$$;

comment on function public.tmdb_timestamptz_checked(text) is
  'A date/time string that looks valid as timestamptz (UTC when no zone is given); null when it does not exist.';

-- A TMDB date ('YYYY-MM-DD') or timestamp ('2023-07-03T15:17:52.000Z') as timestamptz (UTC
-- when no zone is given); null for "", another type or a malformed or impossible date. The
-- pattern admits only real months, days 01–31, hours, minutes and seconds; days up to 28 are
-- always valid and cast directly, later ones go through the checked parser.
create or replace function public.tmdb_timestamptz(v jsonb)
returns timestamptz
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
  select case
    when pg_catalog.jsonb_typeof(v) = 'string'
     and (v #>> '{}') ~ '^[1-9]\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])([T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?)?(Z|[+-](0\d|1[0-5])(:?[0-5]\d)?)?$'
    then case
      when pg_catalog.substr(v #>> '{}', 9, 2) <= '28'
        then ((v #>> '{}') || case when (v #>> '{}') ~ '(Z|[+-](0\d|1[0-5])(:?[0-5]\d)?)$' then '' else 'Z' end)
          ::timestamptz
      else public.tmdb_timestamptz_checked(v #>> '{}')
    end
  end
$$;

comment on function public.tmdb_timestamptz(jsonb) is
  'A TMDB date/time string as timestamptz (UTC when no zone is given); null for "", another type or an invalid date.';

-- True when v has the policy's json_type (see tmdb_movie_fields()).
create or replace function public.tmdb_type_ok(v jsonb, json_type text)
returns boolean
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
  select case json_type
    when 'integer' then case when pg_catalog.jsonb_typeof(v) = 'number'
      then v::numeric = pg_catalog.trunc(v::numeric) and v::numeric between -2147483648 and 2147483647
      else false end
    when 'smallint' then case when pg_catalog.jsonb_typeof(v) = 'number'
      then v::numeric = pg_catalog.trunc(v::numeric) and v::numeric between -32768 and 32767
      else false end
    when 'key' then case when pg_catalog.jsonb_typeof(v) = 'string'
      then pg_catalog.char_length(v #>> '{}') <= 255
      else false end
    when 'bigint' then case when pg_catalog.jsonb_typeof(v) = 'number'
      then v::numeric = pg_catalog.trunc(v::numeric) and pg_catalog.abs(v::numeric) <= 9007199254740991
      else false end
    when 'date' then case when pg_catalog.jsonb_typeof(v) = 'string'
      then (v #>> '{}') = '' or ((v #>> '{}') ~ '^\d{4}-\d{2}-\d{2}$'
                                 and public.tmdb_timestamptz(v) is not null)
      else false end
    when 'timestamp' then case when pg_catalog.jsonb_typeof(v) = 'string'
      then (v #>> '{}') = '' or public.tmdb_timestamptz(v) is not null else false end
    else pg_catalog.jsonb_typeof(v) is not distinct from json_type
  end
$$;

comment on function public.tmdb_type_ok(jsonb, text) is
  'Whether a JSON value has a json_type of the TMDB payload policy (string, key, smallint, integer, bigint, number, boolean, array, object, date, timestamp; a whole number is of a size type only within its column''s range, a key is a string of at most 255 characters).';

create or replace function public.tmdb_text(v jsonb)
returns text
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
  select case when pg_catalog.jsonb_typeof(v) = 'string' then v #>> '{}' end
$$;

comment on function public.tmdb_text(jsonb) is 'v as text when it is a JSON string, else null.';

create or replace function public.tmdb_int(v jsonb)
returns integer
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
  select case when pg_catalog.jsonb_typeof(v) = 'number' then
    case when v::numeric = pg_catalog.trunc(v::numeric) and v::numeric between -2147483648 and 2147483647
      then v::numeric::integer end
  end
$$;

comment on function public.tmdb_int(jsonb) is
  'v as integer when it is a whole JSON number within integer range, else null.';

create or replace function public.tmdb_key(v jsonb)
returns text
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
  select case when pg_catalog.jsonb_typeof(v) = 'string'
               and pg_catalog.char_length(v #>> '{}') <= 255 then v #>> '{}' end
$$;

comment on function public.tmdb_key(jsonb) is
  'v as text when it is a JSON string that fits a key (at most 255 characters), else null.';

create or replace function public.tmdb_smallint(v jsonb)
returns smallint
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
  select case when pg_catalog.jsonb_typeof(v) = 'number' then
    case when v::numeric = pg_catalog.trunc(v::numeric) and v::numeric between -32768 and 32767
      then v::numeric::smallint end
  end
$$;

comment on function public.tmdb_smallint(jsonb) is
  'v as smallint when it is a whole JSON number within smallint range, else null.';

create or replace function public.tmdb_bigint(v jsonb)
returns bigint
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
  select case when pg_catalog.jsonb_typeof(v) = 'number' then
    case when v::numeric = pg_catalog.trunc(v::numeric) and pg_catalog.abs(v::numeric) <= 9007199254740991
      then v::numeric::bigint end
  end
$$;

comment on function public.tmdb_bigint(jsonb) is
  'v as bigint when it is a whole JSON number (|v| < 2^53), else null.';

create or replace function public.tmdb_numeric(v jsonb)
returns numeric
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
  select case when pg_catalog.jsonb_typeof(v) = 'number' then v::numeric end
$$;

comment on function public.tmdb_numeric(jsonb) is 'v as numeric when it is a JSON number, else null.';

create or replace function public.tmdb_bool(v jsonb)
returns boolean
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
  select case when pg_catalog.jsonb_typeof(v) = 'boolean' then v::boolean end
$$;

comment on function public.tmdb_bool(jsonb) is 'v as boolean when it is a JSON boolean, else null.';

-- The elements of v that are objects (an empty array for anything else).
create or replace function public.tmdb_objects(v jsonb)
returns jsonb
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
  select case when pg_catalog.jsonb_typeof(v) = 'array' then
    coalesce((select pg_catalog.jsonb_agg(e.value order by e.ord)
                from pg_catalog.jsonb_array_elements(v) with ordinality as e(value, ord)
               where pg_catalog.jsonb_typeof(e.value) = 'object'), '[]'::jsonb)
  else '[]'::jsonb end
$$;

comment on function public.tmdb_objects(jsonb) is
  'The object elements of a JSON array, in order; [] for anything that is not an array.';

-- The elements of v that are objects, with their position among v's elements (none for
-- anything that is not an array).
create or replace function public.tmdb_elements(v jsonb)
returns table (value jsonb, ord bigint)
language sql
immutable
parallel safe
security invoker
-- A payload's arrays hold tens of elements: the default estimate (1000 rows) makes a join of
-- two such arrays look like a million rows and costly enough to be JIT-compiled (~1 s).
rows 20
set search_path = ''
as $$
  select e.value, e.ord
    from pg_catalog.jsonb_array_elements(
           case when pg_catalog.jsonb_typeof(v) = 'array' then v else '[]'::jsonb end)
         with ordinality as e(value, ord)
   where pg_catalog.jsonb_typeof(e.value) = 'object'
$$;

comment on function public.tmdb_elements(jsonb) is
  'The object elements of a JSON array with their 1-based position; no rows for anything that is not an array.';

-- The elements of v that are strings, as text[] ('{}' for anything else).
create or replace function public.tmdb_strings(v jsonb)
returns text[]
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
  select case when pg_catalog.jsonb_typeof(v) = 'array' then
    array(select e.value #>> '{}'
            from pg_catalog.jsonb_array_elements(v) with ordinality as e(value, ord)
           where pg_catalog.jsonb_typeof(e.value) = 'string'
           order by e.ord)
  else '{}'::text[] end
$$;

comment on function public.tmdb_strings(jsonb) is
  'The string elements of a JSON array as text[], in order; {} for anything that is not an array.';

revoke execute on function public.tmdb_timestamptz_checked(text), public.tmdb_timestamptz(jsonb),
  public.tmdb_type_ok(jsonb, text),
  public.tmdb_text(jsonb), public.tmdb_key(jsonb), public.tmdb_smallint(jsonb),
  public.tmdb_int(jsonb),
  public.tmdb_bigint(jsonb),
  public.tmdb_numeric(jsonb), public.tmdb_bool(jsonb), public.tmdb_objects(jsonb),
  public.tmdb_elements(jsonb), public.tmdb_strings(jsonb)
  from public, anon, authenticated;
grant execute on function public.tmdb_timestamptz_checked(text), public.tmdb_timestamptz(jsonb),
  public.tmdb_type_ok(jsonb, text),
  public.tmdb_text(jsonb), public.tmdb_key(jsonb), public.tmdb_smallint(jsonb),
  public.tmdb_int(jsonb),
  public.tmdb_bigint(jsonb),
  public.tmdb_numeric(jsonb), public.tmdb_bool(jsonb), public.tmdb_objects(jsonb),
  public.tmdb_elements(jsonb), public.tmdb_strings(jsonb)
  to service_role;

-- ============================================================================
-- tmdb_movie_drift: apply the policy to one payload
-- ============================================================================

-- Walks the payload below the policy's known containers (unknown subtrees are counted once,
-- not walked), classifies every field and raises on the first essential problem:
--   missing     key absent (not counted for optional fields)
--   null        JSON null where TMDB does not document null
--   wrong_type  another JSON type (or an unparseable date); the value is not used
--   unknown     a key the policy does not know (new TMDB field); kept, not used
-- Essential fields must also be usable: ids > 0, strings non-empty, release types 1–6.
create or replace function public.tmdb_movie_drift(payload jsonb)
returns jsonb
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $$
declare
  v_containers jsonb;
  v_bad_path text;
  v_bad_kind text;
  v_drift jsonb;
begin
  if payload is null or jsonb_typeof(payload) <> 'object' then
    raise exception 'ingest_movie: payload must be a JSON object: got %',
      coalesce(jsonb_typeof(payload), 'null')
      using errcode = '22023';
  end if;

  -- The known containers, {normalised path: true for an array (the policy types its
  -- elements: field '[]'), false for an object}, looked up once per child below.
  select pg_catalog.jsonb_object_agg(c.parent, c.is_array)
    into v_containers
    from (select f.parent, bool_or(f.field = '[]') as is_array
            from public.tmdb_movie_fields() f group by f.parent) c;

  with recursive
  spec as materialized (select * from public.tmdb_movie_fields()),
  -- The containers present in the payload with the right JSON type (normalised and indexed
  -- paths, value). Only containers are walked here; their fields are checked below, one
  -- pass over each container's keys or elements.
  walk (npath, ipath, value, is_array) as (
    select ''::text, ''::text, payload, false
    union all
    select c.npath, c.ipath, c.value, (v_containers ->> c.npath)::boolean
      from walk w
      cross join lateral (
        select case when w.npath = '' then e.key else w.npath || '.' || e.key end,
               case when w.ipath = '' then e.key else w.ipath || '.' || e.key end,
               e.value
          from pg_catalog.jsonb_each(case when not w.is_array then w.value else '{}'::jsonb end) e
        union all
        select w.npath || '[]', w.ipath || '[' || (a.ord - 1) || ']', a.value
          from pg_catalog.jsonb_array_elements(case when w.is_array then w.value else '[]'::jsonb end)
               with ordinality a(value, ord)
      ) c(npath, ipath, value)
     where pg_catalog.jsonb_typeof(c.value) =
           case (v_containers ->> c.npath) when 'true' then 'array' when 'false' then 'object' end
  ),
  -- Every value inside a walked container: its container, key ('[]' for an element), paths.
  nodes (container, key, npath, ipath, value) as (
    select w.npath, e.key,
           case when w.npath = '' then e.key else w.npath || '.' || e.key end,
           case when w.ipath = '' then e.key else w.ipath || '.' || e.key end,
           e.value
      from walk w
      cross join lateral pg_catalog.jsonb_each(w.value) e
     where not w.is_array
    union all
    select w.npath, '[]', w.npath || '[]', w.ipath || '[' || (a.ord - 1) || ']', a.value
      from walk w
      cross join lateral pg_catalog.jsonb_array_elements(w.value) with ordinality a(value, ord)
     where w.is_array
  ),
  problems as materialized (
    -- values that are present
    select p.path, p.ipath, p.kind, p.essential
      from (
        select n.npath as path, n.ipath,
               case
                 when s.parent is null then 'unknown'
                 when pg_catalog.jsonb_typeof(n.value) = 'null' then
                   case when s.nullable and not s.essential then null else 'null' end
                 -- tmdb_type_ok(), written out: it runs for every value of the payload.
                 when not case s.json_type
                   -- (an essential id beyond integer range is out of range, below)
                   when 'integer' then case when pg_catalog.jsonb_typeof(n.value) = 'number'
                     then n.value::numeric = pg_catalog.trunc(n.value::numeric)
                          and case when s.essential
                                then pg_catalog.abs(n.value::numeric) <= 9007199254740991
                                else n.value::numeric between -2147483648 and 2147483647 end
                     else false end
                   when 'smallint' then public.tmdb_type_ok(n.value, s.json_type)
                   when 'bigint' then public.tmdb_type_ok(n.value, s.json_type)
                   when 'key' then public.tmdb_type_ok(n.value, s.json_type)
                   when 'date' then public.tmdb_type_ok(n.value, s.json_type)
                   when 'timestamp' then public.tmdb_type_ok(n.value, s.json_type)
                   else pg_catalog.jsonb_typeof(n.value) = s.json_type
                 end then 'wrong_type'
                 when not s.essential then null
                 when s.json_type = 'integer' and n.value::numeric not between 1 and 2147483647
                   then 'out_of_range'
                 when s.json_type in ('string', 'key') and pg_catalog.btrim(n.value #>> '{}') = ''
                   then 'empty'
                 when n.npath = 'release_dates.results[].release_dates[].type'
                      and n.value::numeric not between 1 and 6 then 'out_of_range'
               end as kind,
               coalesce(s.essential, false) as essential
          from nodes n
          left join spec s on s.parent = n.container and s.field = n.key
      ) p
     where p.kind is not null
    union all
    -- keys the policy expects that an object lacks
    select case when w.npath = '' then s.field else w.npath || '.' || s.field end,
           case when w.ipath = '' then s.field else w.ipath || '.' || s.field end,
           'missing', s.essential
      from walk w
      join spec s on s.parent = w.npath and s.field <> '[]'
     where not w.is_array
       and not (w.value ? s.field)
       and (not s.optional or s.essential)
  )
  select (select b.ipath from problems b where b.essential order by b.ipath limit 1),
         (select b.kind from problems b where b.essential order by b.ipath limit 1),
         (select coalesce(pg_catalog.jsonb_object_agg(g.path, g.kinds), '{}'::jsonb)
            from (select k.path, pg_catalog.jsonb_object_agg(k.kind, k.n) as kinds
                    from (select d.path, d.kind, count(*) as n
                            from problems d
                           where not d.essential
                           group by d.path, d.kind) k
                   group by k.path) g)
    into v_bad_path, v_bad_kind, v_drift;

  if v_bad_path = 'id' then
    raise exception 'ingest_movie: payload.id must be a positive integer (the TMDB movie id): got %',
      coalesce((payload -> 'id')::text, 'nothing (key missing)')
      using errcode = '22023';
  elsif v_bad_path is not null then
    raise exception 'ingest_movie: % is %: the row cannot exist without it (tmdb_id %)',
      v_bad_path,
      case v_bad_kind when 'wrong_type' then 'of the wrong type'
                      when 'out_of_range' then 'out of range' else v_bad_kind end,
      payload -> 'id'
      using errcode = '22023';
  end if;
  return v_drift;
end;
$$;

comment on function public.tmdb_movie_drift(jsonb) is
  'Applies the TMDB payload policy (tmdb_movie_fields) to one movie payload: raises 22023 naming '
  'the path of an unusable essential field, else returns {path: {missing|null|wrong_type|unknown: n}}.';

revoke execute on function public.tmdb_movie_drift(jsonb) from public, anon, authenticated;
grant execute on function public.tmdb_movie_drift(jsonb) to service_role;
-- ============================================================================
-- works.extra: unknown top-level fields
-- ============================================================================

alter table public.works add column if not exists extra jsonb not null default '{}'::jsonb;
alter table public.works add column if not exists payload_drift jsonb not null default '{}'::jsonb;
alter table public.works drop constraint if exists works_extra_object;
alter table public.works add constraint works_extra_object check (jsonb_typeof(extra) = 'object');

comment on column public.works.payload_drift is
  'What the payload policy defaulted in the last payload ({path: {kind: n}}): reported again, '
  'without checking the payload again, when the same payload comes back.';
comment on column public.works.extra is
  'Top-level fields of the last TMDB payload that the payload policy (tmdb_movie_fields) does not '
  'know, kept as sent (e.g. a field TMDB added later).';

-- ============================================================================
-- ingest_movie, through the policy
-- ============================================================================

-- The child rows stored for a work, as ingest_movie() reports them.
create or replace function public.work_child_counts(p_work_id bigint)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select jsonb_build_object(
    'cast', (select count(*) from public.work_cast as x where x.work_id = p_work_id),
    'crew', (select count(*) from public.work_crew as x where x.work_id = p_work_id),
    'videos', (select count(*) from public.work_videos as x where x.work_id = p_work_id),
    'genres', (select count(*) from public.work_genres as x where x.work_id = p_work_id),
    'release_dates',
      (select count(*) from public.work_release_dates as x where x.work_id = p_work_id)
  )
$$;

comment on function public.work_child_counts(bigint) is
  'Counts of a work''s cast, crew, videos, genres and release_dates rows, as jsonb.';

revoke execute on function public.work_child_counts(bigint) from public, anon, authenticated;
grant execute on function public.work_child_counts(bigint) to service_role;

-- Same signature, write rules and concurrency reasoning as 005 (see its comments); what
-- changed is where values come from: every value is read with a typed accessor, so a
-- non-essential field that is missing, null or ill-typed takes its default (docs/schema.md)
-- instead of failing the movie, and tmdb_movie_drift() has already refused a payload
-- whose essential fields are unusable. Defaults: title falls back to original_title, then
-- ""; text columns that cannot be null get ""; booleans false; everything else null.
-- Shared rows (genres, people) take a value from a payload only when it is present, so one
-- movie's degraded payload never erases what the others said.
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
  select w.id, w.payload_hash, w.tmdb_missing_at, w.payload_drift
    into v_work_id, v_old_hash, v_old_missing_at, v_drift
    from public.works as w
    where w.tmdb_id = v_tmdb_id
    for update;

  -- ---- the same payload again: only the refresh time is written ----
  -- (It passed the policy when it was stored; its drift is reported again from the row.)
  if found and v_old_hash = v_hash and v_old_missing_at is null then
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
      tmdb_missing_at, first_ingested_at, last_refreshed_at, updated_at
    ) values (
      v_new.tmdb_id, v_new.title, v_new.original_title, v_new.original_language,
      v_new.overview, v_new.tagline, v_new.release_date, v_new.runtime, v_new.status,
      v_new.adult, v_new.video, v_new.poster_path, v_new.backdrop_path, v_new.popularity,
      v_new.vote_average, v_new.vote_count, v_new.budget, v_new.revenue, v_new.homepage,
      v_new.imdb_id, v_new.wikidata_id, v_new.facebook_id, v_new.instagram_id,
      v_new.twitter_id, v_new.collection_id, v_new.collection_name, v_new.origin_country,
      v_new.spoken_languages, v_new.production_companies, v_new.production_countries,
      v_new.keywords, v_new.extra, v_drift, v_hash, null,
      ingest_movie.refreshed_at, ingest_movie.refreshed_at, ingest_movie.refreshed_at
    )
    on conflict (tmdb_id) do nothing
    returning id into v_work_id;

    if v_work_id is not null then
      v_action := 'inserted';
    else
      select w.id, w.payload_hash, w.tmdb_missing_at
        into strict v_work_id, v_old_hash, v_old_missing_at
        from public.works as w
        where w.tmdb_id = v_tmdb_id
        for update;
    end if;
  end if;

  if v_action is null then
    if v_old_hash = v_hash then
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
            tmdb_missing_at = null,
            last_refreshed_at = greatest(w.last_refreshed_at, ingest_movie.refreshed_at),
            updated_at = ingest_movie.refreshed_at
        where w.id = v_work_id;
    end if;
  end if;

  -- ---- child rows: only when the payload is new or changed ----
  if v_action = 'inserted' or v_old_hash is distinct from v_hash then
    -- The children, one jsonb array each, with every value already read through the
    -- policy's accessors (objects only; essential fields were checked above).
    select coalesce(jsonb_agg(jsonb_build_object(
             'id', public.tmdb_int(e.value -> 'id'),
             'name', public.tmdb_text(e.value -> 'name'),
             'position', e.ord - 1) order by e.ord), '[]'::jsonb)
      into v_genres
      from public.tmdb_elements(payload -> 'genres') e(value, ord);

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
  'keywords) and its child rows, reading it through the payload policy (tmdb_movie_fields). '
  'Returns {tmdb_id, work_id, action: inserted|updated|unchanged, drift, cast, crew, videos, '
  'genres, release_dates}; raises 22023 naming the path of an unusable essential field.';

revoke execute on function public.ingest_movie(jsonb, timestamptz) from public, anon, authenticated;
grant execute on function public.ingest_movie(jsonb, timestamptz) to service_role;

-- ============================================================================
-- tmdb_payload_drift: what the policy defaulted, per run and field path
-- ============================================================================

create table if not exists public.tmdb_payload_drift (
  id bigint generated always as identity,
  run_id uuid not null,
  function_name text not null,
  -- Normalised field path, e.g. release_dates.results[].release_dates[].note.
  path text not null,
  kind text not null,
  -- Occurrences in the run (one movie may count several, e.g. one per release date).
  count integer not null,
  -- A movie of the run that showed it, to look at.
  sample_tmdb_id integer,
  first_seen_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  constraint tmdb_payload_drift_pkey primary key (id),
  constraint tmdb_payload_drift_run_path_kind_key unique (run_id, path, kind),
  constraint tmdb_payload_drift_kind_check
    check (kind in ('missing', 'null', 'wrong_type', 'unknown')),
  constraint tmdb_payload_drift_count_positive check (count > 0)
);

comment on table public.tmdb_payload_drift is
  'Per run and field path: how often a TMDB payload field was missing, null, of another type or '
  'unknown to the payload policy, and defaulted (the movie was stored).';

create index if not exists tmdb_payload_drift_last_seen_at_idx
  on public.tmdb_payload_drift (last_seen_at);

-- Internal: RLS on, no policies; service_role (the functions) and postgres bypass RLS.
alter table public.tmdb_payload_drift enable row level security;
revoke all on table public.tmdb_payload_drift from public, anon, authenticated;
grant select, insert, update, delete on table public.tmdb_payload_drift to service_role;

-- Adds a run's drift ({path: {kind: n}}) to tmdb_payload_drift; p_samples ({path: {kind:
-- tmdb_id}}) names a movie that showed each, when known. Called by ingest_tmdb_responses()
-- for movie payloads, and by the functions for the list pages and change feed they read.
create or replace function public.record_payload_drift(
  p_run_id uuid,
  p_function_name text,
  p_drift jsonb,
  p_samples jsonb default null
)
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_rows integer;
begin
  if p_run_id is null or p_function_name is null or btrim(p_function_name) = '' then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_run_id and p_function_name are required: current values are %s, %L',
                       coalesce(p_run_id::text, 'NULL'), p_function_name);
  end if;
  if p_drift is null or jsonb_typeof(p_drift) <> 'object' or exists (
       select from jsonb_each(p_drift) d
        where jsonb_typeof(d.value) <> 'object'
           or exists (select from jsonb_each(d.value) c
                       where c.key not in ('missing', 'null', 'wrong_type', 'unknown')
                          or jsonb_typeof(c.value) <> 'number'
                          or (c.value #>> '{}') !~ '^[1-9][0-9]{0,8}$')) then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_drift must be {path: {missing|null|wrong_type|unknown: positive count}}: current value is %s',
                       left(coalesce(p_drift::text, 'NULL'), 500));
  end if;

  insert into public.tmdb_payload_drift as t
    (run_id, function_name, path, kind, count, sample_tmdb_id)
  select p_run_id, p_function_name, d.key, c.key, (c.value #>> '{}')::integer,
         public.tmdb_int(p_samples #> array[d.key, c.key])
    from jsonb_each(p_drift) d
    cross join lateral jsonb_each(d.value) c
   order by d.key, c.key
  on conflict (run_id, path, kind) do update
    set count = t.count + excluded.count,
        sample_tmdb_id = coalesce(t.sample_tmdb_id, excluded.sample_tmdb_id),
        last_seen_at = now();
  get diagnostics v_rows = row_count;
  return v_rows;
end;
$$;

comment on function public.record_payload_drift(uuid, text, jsonb, jsonb) is
  'Adds a run''s payload drift {path: {kind: n}} to tmdb_payload_drift (with optional sample '
  'movies {path: {kind: tmdb_id}}); returns the rows written.';

revoke execute on function public.record_payload_drift(uuid, text, jsonb, jsonb)
  from public, anon, authenticated;
grant execute on function public.record_payload_drift(uuid, text, jsonb, jsonb) to service_role;

-- ============================================================================
-- ingest_tmdb_responses: many TMDB answers stored in one round trip
-- ============================================================================

-- p_responses: [{"tmdb_id": 550, "status": 200, "body": 1}, {"tmdb_id": 7, "status": 404}]
--   status 200: p_bodies[body] is /movie/{tmdb_id}'s response text (parsed here, not in the
--   function); status 404: TMDB does not know the movie (mark_movie_not_found).
-- Returns {"items": [{tmdb_id, outcome, work_id, kind?, error?}, …] (input order),
--          "drift": {path: {kind: n}}} and, when p_run_id is given, adds the drift to
-- tmdb_payload_drift. outcome: inserted | updated | unchanged | not_found | failed, with
-- kind invalid_response (not JSON, another movie, or refused by the policy: the message
-- names the path) or database. Each movie is stored in its own subtransaction, so one bad
-- movie never undoes the others.
create or replace function public.ingest_tmdb_responses(
  p_run_id uuid,
  p_function_name text,
  p_responses jsonb,
  p_bodies text[],
  p_refreshed_at timestamptz default now()
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
  v_bad jsonb;
  v_item record;
  v_id integer;
  v_text text;
  v_payload jsonb;
  v_result jsonb;
  v_stage text;
  v_items jsonb[] := '{}'::jsonb[];
  v_drifts jsonb[] := '{}'::jsonb[];
  v_drift jsonb;
  v_parsed jsonb[] := '{}'::jsonb[];
  v_try integer;
begin
  if p_responses is null or jsonb_typeof(p_responses) <> 'array' then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_responses must be a JSON array: current value is %s',
                       coalesce(p_responses::text, 'NULL'));
  end if;
  if p_refreshed_at is null then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = 'p_refreshed_at must not be null';
  end if;
  -- Every item is checked before anything is written.
  select e into v_bad
    from jsonb_array_elements(p_responses) e
   where not case
           when jsonb_typeof(e) <> 'object' then false
           when coalesce(e ->> 'tmdb_id', '') !~ '^[0-9]{1,10}$' then false
           when (e ->> 'tmdb_id')::bigint not between 1 and 2147483647 then false
           when e ->> 'status' = '404' then true
           when e ->> 'status' <> '200' or coalesce(e ->> 'body', '') !~ '^[0-9]{1,9}$' then false
           else (e ->> 'body')::integer between 1 and coalesce(cardinality(p_bodies), 0)
                and p_bodies[(e ->> 'body')::integer] is not null
         end
   limit 1;
  if v_bad is not null then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_responses items must be {tmdb_id: 1..2147483647, status: 200, body: index of a non-null p_bodies element} or {tmdb_id, status: 404}: invalid item %s', v_bad);
  end if;

  -- Lock order. Concurrent calls (workers, ingest-movie) may share movies and people: each
  -- call takes its locks in one global order, so they wait for each other instead of
  -- deadlocking. Movies go by tmdb_id (answers are still reported in input order), and
  -- the people and genres of every parsable body are locked, by id, before any movie.
  for v_item in
    select e.value from jsonb_array_elements(p_responses) e where e.value ->> 'status' = '200'
  loop
    v_text := p_bodies[(v_item.value ->> 'body')::integer];
    begin
      v_parsed[(v_item.value ->> 'body')::integer] := v_text::jsonb;
    exception
      -- jsonb has no room for U+0000; TMDB text fields rarely carry it: drop it.
      when untranslatable_character then
        begin
          v_parsed[(v_item.value ->> 'body')::integer] := replace(v_text, '\u0000', '')::jsonb;
        exception
          when others then null;  -- reported by the loop below
        end;
      when others then null;  -- reported by the loop below
    end;
  end loop;
  perform from public.people p
   where p.id in (select public.tmdb_int(c -> 'id')
                    from unnest(v_parsed) b,
                         lateral public.tmdb_elements(b #> '{credits,cast}') x(c, o1)
                  union
                  select public.tmdb_int(c -> 'id')
                    from unnest(v_parsed) b,
                         lateral public.tmdb_elements(b #> '{credits,crew}') x(c, o1))
   order by p.id
     for update;
  perform from public.genres g
   where g.id in (select public.tmdb_int(c -> 'id')
                    from unnest(v_parsed) b,
                         lateral public.tmdb_elements(b -> 'genres') x(c, o1))
   order by g.id
     for update;

  for v_item in
    select e.value, e.ord from jsonb_array_elements(p_responses) with ordinality e(value, ord)
     order by (e.value ->> 'tmdb_id')::integer, e.ord
  loop
    v_id := (v_item.value ->> 'tmdb_id')::integer;
    v_stage := 'store';
    begin
      if v_item.value ->> 'status' = '404' then
        v_result := public.mark_movie_not_found(v_id, p_refreshed_at);
      else
        v_stage := 'parse';
        v_payload := v_parsed[(v_item.value ->> 'body')::integer];
        if v_payload is null then
          -- Not parsable (see above): parse again for the error to report.
          v_payload := replace(p_bodies[(v_item.value ->> 'body')::integer], '\u0000', '')::jsonb;
        end if;
        if jsonb_typeof(v_payload) <> 'object' then
          raise exception 'the body is a JSON %, not an object', jsonb_typeof(v_payload)
            using errcode = '22023';
        end if;
        if v_payload -> 'id' is distinct from to_jsonb(v_id) then
          raise exception 'TMDB answered movie % when asked for %; not stored',
            coalesce(v_payload ->> 'id', 'without id'), v_id
            using errcode = '22023';
        end if;
        v_stage := 'store';
        -- People new to the catalog cannot be locked before they exist: two calls inserting
        -- the same new people in crossing orders can still deadlock. The victim's attempt is
        -- rolled back with its locks (its own subtransaction) and tried again.
        for v_try in 1 .. 3 loop
          begin
            v_result := public.ingest_movie(v_payload, p_refreshed_at);
            exit;
          exception
            when deadlock_detected then
              if v_try = 3 then
                raise;
              end if;
          end;
        end loop;
        v_drifts := v_drifts || jsonb_build_object('tmdb_id', v_id, 'drift', v_result -> 'drift');
      end if;
      v_items := v_items || jsonb_build_object(
        'tmdb_id', v_id, 'outcome', v_result ->> 'action', 'work_id', v_result -> 'work_id',
        'ord', v_item.ord);
    exception
      when others then
        v_items := v_items || jsonb_build_object(
          'ord', v_item.ord,
          'tmdb_id', v_id,
          'outcome', 'failed',
          'work_id', null,
          'kind', case when v_stage = 'parse' or sqlstate = '22023' then 'invalid_response'
                       else 'database' end,
          'error', case
            when v_stage = 'parse' and sqlstate <> '22023'
              then format('HTTP 200 body is not JSON (%s)', sqlerrm)
            else sqlerrm end);
    end;
  end loop;

  -- Drift of the whole call: {path: {kind: n}}, and one sample movie per (path, kind).
  select coalesce(jsonb_object_agg(g.path, g.kinds), '{}'::jsonb)
    into v_drift
    from (select k.path, jsonb_object_agg(k.kind, k.n) as kinds
            from (select d.key as path, c.key as kind, sum(c.value::integer) as n
                    from unnest(v_drifts) as x(m)
                    cross join lateral jsonb_each(x.m -> 'drift') d
                    cross join lateral jsonb_each(d.value) c
                   group by d.key, c.key) k
           group by k.path) g;

  if p_run_id is not null and v_drift <> '{}'::jsonb then
    perform public.record_payload_drift(
      p_run_id, p_function_name, v_drift,
      -- One sample per (path, kind): the lowest tmdb_id that showed it.
      (select jsonb_object_agg(g.path, g.samples)
         from (select k.path, jsonb_object_agg(k.kind, k.tmdb_id) as samples
                 from (select d.key as path, c.key as kind,
                              min((x.m ->> 'tmdb_id')::integer) as tmdb_id
                         from unnest(v_drifts) as x(m)
                         cross join lateral jsonb_each(x.m -> 'drift') d
                         cross join lateral jsonb_each(d.value) c
                        group by d.key, c.key) k
                group by k.path) g));
  end if;

  return jsonb_build_object(
    'items', (select coalesce(jsonb_agg(x - 'ord' order by (x ->> 'ord')::bigint), '[]'::jsonb)
                from unnest(v_items) x),
    'drift', v_drift);
end;
$$;

comment on function public.ingest_tmdb_responses(uuid, text, jsonb, text[], timestamptz) is
  'Stores many /movie/{id} answers in one call: 200 bodies (text, parsed here) through ingest_movie, '
  '404s through mark_movie_not_found, each in its own subtransaction. Returns {items: [{tmdb_id, '
  'outcome, work_id, kind?, error?}], drift} and records the drift in tmdb_payload_drift.';

revoke execute on function public.ingest_tmdb_responses(uuid, text, jsonb, text[], timestamptz)
  from public, anon, authenticated;
grant execute on function public.ingest_tmdb_responses(uuid, text, jsonb, text[], timestamptz)
  to service_role;

-- ============================================================================
-- refresh_worker_step: store a batch, finish it and claim the next, in one round trip
-- ============================================================================

-- p_items: the claimed items of the batch in hand (may be empty for the first claim):
--   [{"queue_id", "attempt", "tmdb_id", "status": 200, "body": i}   TMDB answered
--    {"queue_id", "attempt", "tmdb_id", "status": 404}              TMDB does not know it
--    {"queue_id", "attempt", "tmdb_id", "error": "…", "retryable": true}]  no usable answer
-- Answered items are stored with ingest_tmdb_responses(); each item's queue row is then
-- finished (completed with result refreshed | unchanged | not_found, or failed and retried
-- with the error) and up to p_batch_size more are claimed, by
-- finish_and_claim_refresh_batch() (its lease rules apply: a lost lease changes nothing —
-- the movie itself was still stored, which is harmless: ingest_movie is idempotent).
-- Returns {"stored": [{queue_id, tmdb_id, outcome, kind?, error?}] (answered items, input
-- order), "finished": {…}, "claimed": […], "drift": {…}}.
create or replace function public.refresh_worker_step(
  p_worker text,
  p_run_id uuid,
  p_items jsonb,
  p_bodies text[],
  p_batch_size integer default 10,
  p_lease_seconds integer default 120
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
  v_answered jsonb;
  v_stored jsonb;
  v_drift jsonb;
  v_results jsonb;
  v_step jsonb;
begin
  if p_items is null or jsonb_typeof(p_items) <> 'array' then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_items must be a JSON array: current value is %s',
                       coalesce(p_items::text, 'NULL'));
  end if;

  select coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
             'tmdb_id', e.value -> 'tmdb_id', 'status', e.value -> 'status',
             'body', e.value -> 'body')) order by e.ord), '[]'::jsonb)
    into v_answered
    from jsonb_array_elements(p_items) with ordinality e(value, ord)
   where e.value ? 'status';

  v_stored := public.ingest_tmdb_responses(p_run_id, 'refresh-worker', v_answered, p_bodies);
  v_drift := v_stored -> 'drift';

  -- The finish results, in input order: answered items pair with their stored outcome.
  with items as (
    select e.value, e.ord,
           case when e.value ? 'status'
             then row_number() over (partition by e.value ? 'status' order by e.ord) end as answer
      from jsonb_array_elements(p_items) with ordinality e(value, ord)
  ),
  outcomes as (
    select i.value, i.ord, s.value as stored
      from items i
      left join jsonb_array_elements(v_stored -> 'items') with ordinality s(value, ord)
        on s.ord = i.answer
  )
  select
    coalesce(jsonb_agg(
      case
        when o.stored is null then jsonb_build_object(
          'queue_id', o.value -> 'queue_id', 'attempt', o.value -> 'attempt', 'ok', false,
          'error', coalesce(o.value ->> 'error', 'not refreshed'),
          'retryable', coalesce(o.value -> 'retryable', 'true'::jsonb))
        when o.stored ->> 'outcome' = 'failed' then jsonb_build_object(
          'queue_id', o.value -> 'queue_id', 'attempt', o.value -> 'attempt', 'ok', false,
          'error', (o.stored ->> 'kind') || ': ' || (o.stored ->> 'error'), 'retryable', true)
        else jsonb_build_object(
          'queue_id', o.value -> 'queue_id', 'attempt', o.value -> 'attempt', 'ok', true,
          'result', case o.stored ->> 'outcome'
                      when 'unchanged' then 'unchanged'
                      when 'not_found' then 'not_found'
                      else 'refreshed' end)
      end order by o.ord), '[]'::jsonb),
    coalesce(jsonb_agg(
      (o.stored - 'tmdb_id') || jsonb_build_object('queue_id', o.value -> 'queue_id',
                                                   'tmdb_id', o.value -> 'tmdb_id')
      order by o.ord) filter (where o.stored is not null), '[]'::jsonb)
    into v_results, v_stored
    from outcomes o;

  v_step := public.finish_and_claim_refresh_batch(p_worker, v_results, p_batch_size, p_lease_seconds);
  return jsonb_build_object('stored', v_stored, 'drift', v_drift, 'finished', v_step -> 'finished',
                            'claimed', v_step -> 'claimed');
end;
$$;

comment on function public.refresh_worker_step(text, uuid, jsonb, text[], integer, integer) is
  'refresh-worker''s database step for one batch, in one round trip: stores the answered items '
  '(ingest_tmdb_responses), finishes every item''s queue row and claims up to p_batch_size more '
  '(finish_and_claim_refresh_batch). Returns {stored, drift, finished, claimed}.';

revoke execute on function public.refresh_worker_step(text, uuid, jsonb, text[], integer, integer)
  from public, anon, authenticated;
grant execute on function public.refresh_worker_step(text, uuid, jsonb, text[], integer, integer)
  to service_role;

-- ============================================================================
-- prune_old_rows: the drift log is pruned with the other logs
-- ============================================================================

-- Same signature and rules as 022; tmdb_payload_drift follows log_retention.
create or replace function public.prune_old_rows(
  queue_retention interval default '7 days',
  log_retention interval default '30 days',
  cron_history_retention interval default '7 days'
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_queue bigint;
  v_api_logs bigint;
  v_ingestion_log bigint;
  v_invocations bigint;
  v_drift bigint;
  v_cron bigint;
begin
  if queue_retention is null or queue_retention < interval '1 hour'
     or log_retention is null or log_retention < interval '1 hour'
     or cron_history_retention is null or cron_history_retention < interval '1 hour' then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('retentions must be at least 1 hour: current values are queue_retention %s, log_retention %s, cron_history_retention %s',
                       coalesce(queue_retention::text, 'NULL'), coalesce(log_retention::text, 'NULL'),
                       coalesce(cron_history_retention::text, 'NULL'));
  end if;

  -- Only finished rows: pending and processing rows are live work whatever their age.
  delete from public.refresh_queue q
   where q.status in ('completed', 'failed')
     and q.completed_at < now() - queue_retention;
  get diagnostics v_queue = row_count;

  delete from public.tmdb_api_logs l where l.created_at < now() - log_retention;
  get diagnostics v_api_logs = row_count;

  delete from public.scheduled_ingestion_log l where l.created_at < now() - log_retention;
  get diagnostics v_ingestion_log = row_count;

  delete from public.edge_function_invocations i where i.invoked_at < now() - log_retention;
  get diagnostics v_invocations = row_count;

  delete from public.tmdb_payload_drift d where d.last_seen_at < now() - log_retention;
  get diagnostics v_drift = row_count;

  -- pg_cron's history of the caller's own jobs; a run still going has no end_time.
  delete from cron.job_run_details d where d.end_time < now() - cron_history_retention;
  get diagnostics v_cron = row_count;

  return jsonb_build_object(
    'refresh_queue', v_queue,
    'tmdb_api_logs', v_api_logs,
    'scheduled_ingestion_log', v_ingestion_log,
    'edge_function_invocations', v_invocations,
    'tmdb_payload_drift', v_drift,
    'cron_job_run_details', v_cron
  );
end;
$$;

comment on function public.prune_old_rows(interval, interval, interval) is
  'Deletes finished refresh_queue rows, tmdb_api_logs, scheduled_ingestion_log, '
  'edge_function_invocations and tmdb_payload_drift older than their retention, and '
  'cron.job_run_details history; returns the counts. (net._http_response is pruned by pg_net.)';

revoke execute on function public.prune_old_rows(interval, interval, interval)
  from public, anon, authenticated, service_role;
