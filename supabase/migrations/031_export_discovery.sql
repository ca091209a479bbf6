-- 031_export_discovery.sql
--
-- What this adds, and why: every TMDB movie id, discovered from TMDB's daily id export
-- (movie_ids_MM_DD_YYYY.json.gz, one JSON object per line), instead of only the ~100 movies
-- a day the lists bring. The discover-movies Edge Function streams the gzip'd file and COPYs
-- its raw lines into a staging table; Postgres parses them and diffs them against the ids
-- already known, set-based, a bounded slice per call:
--   * an id seen for the first time is queued for ingest with public.enqueue_new_movies()
--     (029: priority by popularity, after changed and stale work; ids already in works or
--     already queued are skipped there);
--   * an id absent from two consecutive imports is queued with public.enqueue_recheck()
--     (029): one /movie/{id} request decides, a 404 marks the movie not found through the
--     existing path; a transient error only retries. Nothing is ever deleted here;
--   * an id that comes back after such a recheck is queued for a recheck again (its movie
--     may be marked not found and deserves a fresh fetch);
--   * adult titles (adult: true) are skipped unless discovery_settings.include_adult, which
--     also makes the function import the adult_movie_ids_… file of the same day.
--
-- Tables (all internal: RLS on, no policies, service_role may read, postgres writes):
--   * discovery_settings: one row, the operator's knobs.
--   * export_imports: one row per export day: status, what was staged/parsed/queued, timings.
--   * export_import_lines: the raw lines of the import in progress (unlogged: a crash loses
--     only what the next run downloads again; emptied when an import ends).
--   * export_import_ids: the parsed ids of the import in progress (emptied when it ends).
--   * tmdb_export_ids: every id an export has shown, with its consecutive absences.
--
-- Continuation: a run stops at its CPU or wall budget and queues the next run of its chain
-- through public.continue_discover_movies() (as refresh-worker does, 026). Cron job
-- discover_movies runs at 08:30 UTC, after TMDB publishes (07:00–08:00 UTC; UTC has no DST).

-- ============================================================================
-- discovery_settings
-- ============================================================================

create table if not exists public.discovery_settings (
  id boolean not null default true,
  include_adult boolean not null default false,
  paused boolean not null default false,
  max_continuations_per_hour integer not null default 60,
  updated_at timestamptz not null default now(),
  constraint discovery_settings_pkey primary key (id),
  constraint discovery_settings_one_row check (id),
  constraint discovery_settings_max_continuations_range
    check (max_continuations_per_hour between 0 and 1000)
);

comment on table public.discovery_settings is
  'Export discovery (one row): include_adult (also import adult_movie_ids_… and queue adult '
  'titles), paused (cron starts nothing, no continuation), max_continuations_per_hour. '
  'Change it with UPDATE as the database owner.';

insert into public.discovery_settings (id) values (true) on conflict (id) do nothing;

alter table public.discovery_settings enable row level security;
revoke all on table public.discovery_settings from public, anon, authenticated;
grant select on table public.discovery_settings to service_role;

-- ============================================================================
-- export_imports
-- ============================================================================

create table if not exists public.export_imports (
  id bigint generated always as identity,
  export_day date not null,
  -- The day the run asked for (today, UTC) when it fell back to the day before.
  requested_day date,
  include_adult boolean not null,
  status text not null default 'downloading',
  -- Download position: file 0 is movie_ids_…, file 1 adult_movie_ids_… (include_adult only);
  -- bytes_staged counts the decompressed bytes of that file already in staging, always at a
  -- line boundary, so a continuation skips exactly them.
  file_index smallint not null default 0,
  bytes_staged bigint not null default 0,
  lines_staged bigint not null default 0,
  -- Parse position (export_import_lines.id) and queueing position (tmdb_id).
  parse_cursor bigint not null default 0,
  queue_cursor bigint not null default 0,
  lines_parsed bigint not null default 0,
  malformed_lines bigint not null default 0,
  adult_skipped bigint not null default 0,
  ids_seen bigint not null default 0,
  new_ids bigint not null default 0,
  queued_new bigint not null default 0,
  absent_ids bigint not null default 0,
  recheck_queued bigint not null default 0,
  reappeared bigint not null default 0,
  invocations integer not null default 0,
  last_run_id uuid,
  error text,
  started_at timestamptz not null default now(),
  downloaded_at timestamptz,
  parsed_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz not null default now(),
  constraint export_imports_pkey primary key (id),
  constraint export_imports_export_day_key unique (export_day),
  constraint export_imports_status_check
    check (status in ('downloading', 'parsing', 'queuing', 'finishing', 'done', 'failed')),
  constraint export_imports_file_index_check check (file_index between 0 and 2),
  constraint export_imports_counts_check
    check (bytes_staged >= 0 and lines_staged >= 0 and malformed_lines >= 0)
);

comment on table public.export_imports is
  'One row per TMDB export day imported by discover-movies: status (downloading → parsing → '
  'queuing → finishing → done, or failed), positions, counts and timings.';
comment on column public.export_imports.malformed_lines is
  'Lines that were not a JSON object with an integer id (1..2147483647): counted, skipped.';
comment on column public.export_imports.absent_ids is
  'Known ids missing from this export (their absence counter went up).';
comment on column public.export_imports.recheck_queued is
  'Rows enqueue_recheck queued for ids absent from two consecutive exports, or back after that '
  '(it skips ids not in works, movies already marked missing and movies already queued).';

-- At most one import is in progress: every step works on "the" staging tables.
create unique index if not exists export_imports_one_in_progress
  on public.export_imports ((true))
  where status not in ('done', 'failed');

alter table public.export_imports enable row level security;
revoke all on table public.export_imports from public, anon, authenticated;
grant select on table public.export_imports to service_role;

-- ============================================================================
-- Staging: raw lines and parsed ids of the import in progress
-- ============================================================================

-- Unlogged: no WAL for ~110 MB of text a day; after a crash it is empty and the import's
-- download starts again (public.discover_import() resets a download whose staging is gone).
create unlogged table if not exists public.export_import_lines (
  id bigint generated always as identity,
  line text,
  constraint export_import_lines_pkey primary key (id)
);

comment on table public.export_import_lines is
  'Raw lines of the export being imported (COPY by discover-movies); emptied when it ends.';

alter table public.export_import_lines enable row level security;
revoke all on table public.export_import_lines from public, anon, authenticated;
grant select on table public.export_import_lines to service_role;

create unlogged table if not exists public.export_import_ids (
  tmdb_id bigint not null,
  popularity double precision not null,
  adult boolean not null,
  constraint export_import_ids_pkey primary key (tmdb_id)
);

comment on table public.export_import_ids is
  'Ids parsed from the export being imported (adult ones only with include_adult); emptied when it ends.';

alter table public.export_import_ids enable row level security;
revoke all on table public.export_import_ids from public, anon, authenticated;
grant select on table public.export_import_ids to service_role;

-- ============================================================================
-- tmdb_export_ids
-- ============================================================================

create table if not exists public.tmdb_export_ids (
  tmdb_id bigint not null,
  adult boolean not null default false,
  -- Popularity in the export that showed the id first (its queue priority came from it).
  popularity double precision not null default 0,
  first_seen_day date not null,
  -- Consecutive imports the id was missing from (0 while present).
  absent_count integer not null default 0,
  absent_since_day date,
  constraint tmdb_export_ids_pkey primary key (tmdb_id),
  constraint tmdb_export_ids_tmdb_id_check check (tmdb_id > 0),
  constraint tmdb_export_ids_absent_count_check check (absent_count >= 0)
);

comment on table public.tmdb_export_ids is
  'Every TMDB id an imported export showed, and how many consecutive imports it has been missing from.';

-- The absent ones are few: a partial index finds them without a scan.
create index if not exists tmdb_export_ids_absent_idx
  on public.tmdb_export_ids (tmdb_id) where absent_count > 0;

alter table public.tmdb_export_ids enable row level security;
revoke all on table public.tmdb_export_ids from public, anon, authenticated;
grant select on table public.tmdb_export_ids to service_role;

-- ============================================================================
-- export_line_json: one line, parsed or null
-- ============================================================================

-- The only per-line parse. Malformed JSON must not fail the slice it is in, hence the
-- exception block; the common case is a plain cast. Anything but a JSON object with an
-- integer id from 1 to 2147483647 (refresh_queue.tmdb_id is an integer) is null (counted as
-- malformed by the caller).
create or replace function public.export_line_json(p_line text)
returns jsonb
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $$
declare
  v jsonb;
begin
  -- Not declared strict: the planner folds a strict function's null call away without
  -- checking EXECUTE, and the null case is this one line.
  if p_line is null then
    return null;
  end if;
  begin
    v := p_line::jsonb;
  exception when others then
    return null;
  end;
  if jsonb_typeof(v) <> 'object' or jsonb_typeof(v -> 'id') <> 'number'
     or (v ->> 'id') !~ '^[0-9]{1,10}$' or (v ->> 'id')::bigint not between 1 and 2147483647 then
    return null;
  end if;
  return v;
end;
$$;

comment on function public.export_line_json(text) is
  'An export line as jsonb when it is a JSON object with an integer id from 1 to 2147483647, else null.';

revoke execute on function public.export_line_json(text) from public, anon, authenticated;
grant execute on function public.export_line_json(text) to service_role;

-- ============================================================================
-- discover_import: the import a run works on
-- ============================================================================

-- Called by discover-movies once it knows which export day it can download (p_day; the run
-- asked for p_requested_day). Returns {"action": …, "import": {…}}:
--   * "resume": the import in progress, whatever its day (a run finishes it first);
--   * "start": a new import of p_day (staging emptied);
--   * "done": p_day was imported already (a re-run of the same day changes nothing);
--   * "older": a later day was imported already (the newest done import is returned);
--   * "failed" is never returned: a failed import of p_day is started again ("start").
-- With p_day null only an import in progress is returned ("resume"), else {"action":"none"}.
-- The settings row is locked for the decision, so two runs cannot start two imports.
create or replace function public.discover_import(
  p_day date default null,
  p_requested_day date default null,
  p_run_id uuid default null
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_settings public.discovery_settings%rowtype;
  v_import public.export_imports%rowtype;
begin
  select * into v_settings from public.discovery_settings where id for update;

  select * into v_import from public.export_imports
   where status not in ('done', 'failed') for update;
  if found then
    -- The staging tables are unlogged: after a crash they are empty and the download, and
    -- everything after it, starts again.
    if v_import.bytes_staged + v_import.lines_staged > 0
       and not exists (select from public.export_import_lines) then
      update public.export_imports
         set status = 'downloading', file_index = 0, bytes_staged = 0, lines_staged = 0,
             parse_cursor = 0, queue_cursor = 0, lines_parsed = 0, malformed_lines = 0,
             adult_skipped = 0, ids_seen = 0, downloaded_at = null, parsed_at = null,
             updated_at = now()
       where id = v_import.id
      returning * into v_import;
      truncate public.export_import_ids;
    end if;
    update public.export_imports
       set invocations = invocations + 1, last_run_id = coalesce(p_run_id, last_run_id),
           updated_at = now()
     where id = v_import.id
    returning * into v_import;
    return jsonb_build_object('action', 'resume', 'import', to_jsonb(v_import));
  end if;
  if p_day is null then
    return jsonb_build_object('action', 'none');
  end if;

  select * into v_import from public.export_imports where export_day = p_day for update;
  if found and v_import.status = 'done' then
    return jsonb_build_object('action', 'done', 'import', to_jsonb(v_import));
  end if;
  -- Absences count consecutive exports: an export older than one already imported would
  -- count them backwards.
  if exists (select from public.export_imports i where i.status = 'done' and i.export_day > p_day) then
    return jsonb_build_object('action', 'older', 'import', (
      select to_jsonb(i) from public.export_imports i
       where i.status = 'done' order by i.export_day desc limit 1));
  end if;

  truncate public.export_import_lines restart identity;
  truncate public.export_import_ids;
  if found then
    delete from public.export_imports where id = v_import.id;
  end if;
  insert into public.export_imports (export_day, requested_day, include_adult, invocations, last_run_id)
  values (p_day, nullif(p_requested_day, p_day), v_settings.include_adult, 1, p_run_id)
  returning * into v_import;
  return jsonb_build_object('action', 'start', 'import', to_jsonb(v_import));
end;
$$;

comment on function public.discover_import(date, date, uuid) is
  'The export import a discover-movies run works on: {action: resume | start | done | older | none, import}.';

revoke execute on function public.discover_import(date, date, uuid) from public, anon, authenticated;
grant execute on function public.discover_import(date, date, uuid) to service_role;

-- ============================================================================
-- discover_stage_begin / discover_stage_commit: one downloaded segment
-- ============================================================================

-- A segment is staged in one transaction: discover_stage_begin() locks the import and
-- checks the run's position is the import's (else another run moved it: false), then the
-- function COPYs the segment's lines, then discover_stage_commit() records the new position.
-- The row lock is held until commit, so a second run on the same import waits, then sees
-- the position moved and stops.
create or replace function public.discover_stage_begin(
  p_import_id bigint,
  p_file_index integer,
  p_bytes_from bigint
)
returns boolean
language sql
volatile
security invoker
set search_path = ''
as $$
  select coalesce((
    select i.status = 'downloading' and i.file_index = p_file_index
           and i.bytes_staged = p_bytes_from
      from public.export_imports i
     where i.id = p_import_id
       for update), false)
$$;

comment on function public.discover_stage_begin(bigint, integer, bigint) is
  'Locks an import for one staged segment; true when the caller''s position (file, bytes) is the import''s.';

revoke execute on function public.discover_stage_begin(bigint, integer, bigint) from public, anon, authenticated;
grant execute on function public.discover_stage_begin(bigint, integer, bigint) to service_role;

-- p_bytes_to: the file's decompressed bytes staged so far (at a line boundary); p_file_done:
-- the file ended (move to the next file, or to parsing). lines_staged is counted here.
create or replace function public.discover_stage_commit(
  p_import_id bigint,
  p_bytes_to bigint,
  p_file_done boolean
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_import public.export_imports%rowtype;
  v_files integer;
begin
  select * into v_import from public.export_imports where id = p_import_id for update;
  if not found or v_import.status <> 'downloading' then
    raise exception using
      errcode = 'object_not_in_prerequisite_state',
      message = format('export import %s is not downloading', p_import_id);
  end if;
  if p_bytes_to is null or p_bytes_to < v_import.bytes_staged then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_bytes_to must not go back from %s: current value is %s',
                       v_import.bytes_staged, coalesce(p_bytes_to::text, 'NULL'));
  end if;
  v_files := case when v_import.include_adult then 2 else 1 end;
  update public.export_imports
     set bytes_staged = case when p_file_done then 0 else p_bytes_to end,
         file_index = case when p_file_done then file_index + 1 else file_index end,
         lines_staged = (select count(*) from public.export_import_lines),
         status = case when p_file_done and file_index + 1 >= v_files then 'parsing' else status end,
         downloaded_at = case when p_file_done and file_index + 1 >= v_files then now() end,
         updated_at = now()
   where id = p_import_id
  returning * into v_import;
  return to_jsonb(v_import);
end;
$$;

comment on function public.discover_stage_commit(bigint, bigint, boolean) is
  'Records a staged segment of an export import (position, lines); the last file''s end moves it to parsing.';

revoke execute on function public.discover_stage_commit(bigint, bigint, boolean) from public, anon, authenticated;
grant execute on function public.discover_stage_commit(bigint, bigint, boolean) to service_role;

-- ============================================================================
-- discover_step: parse, queue new ids, finish — one bounded slice per call
-- ============================================================================

-- Advances the import by at most p_max_rows rows of its current phase (finishing is one
-- statement over the known ids) and returns the import row (jsonb); the function calls it
-- until status is done or its budget is spent.
--   parsing:   the next p_max_rows staged lines (by id) → export_import_ids. A line that is
--              not a JSON object with an integer id 1..2147483647 counts as malformed; an adult
--              title without include_adult counts as skipped; a repeated id counts once.
--   queuing:   the next p_max_rows parsed ids (by tmdb_id) not in tmdb_export_ids are
--              recorded there and queued with enqueue_new_movies(), most popular first.
--   finishing: every known id missing from this export has its absence counted; those
--              reaching two consecutive absences are queued with enqueue_recheck(); ids back
--              after a recheck are queued with enqueue_recheck() again; staging is emptied.
--              (Adult ids are left alone when this import did not include adult titles.)
-- The import row is locked for the call: concurrent runs take turns, each slice once.
create or replace function public.discover_step(p_import_id bigint, p_max_rows integer default 100000)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_import public.export_imports%rowtype;
  v_last bigint;
  v_lines bigint;
  v_malformed bigint;
  v_adult bigint;
  v_inserted bigint;
  v_ids bigint[];
  v_pops double precision[];
  v_queued bigint := 0;
  v_recheck bigint[];
  v_back bigint[];
  v_absent bigint;
  v_reappeared bigint;
begin
  if p_max_rows is null or p_max_rows < 1 or p_max_rows > 1000000 then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_max_rows must be between 1 and 1000000: current value is %s',
                       coalesce(p_max_rows::text, 'NULL'));
  end if;
  select * into v_import from public.export_imports where id = p_import_id for update;
  if not found then
    raise exception using
      errcode = 'no_data_found',
      message = format('no export import with id %s', p_import_id);
  end if;

  if v_import.status = 'parsing' then
    with slice as materialized (
      select l.id, public.export_line_json(l.line) as j
        from public.export_import_lines l
       where l.id > v_import.parse_cursor
       order by l.id
       limit p_max_rows
    ), kept as (
      insert into public.export_import_ids (tmdb_id, popularity, adult)
      select (s.j ->> 'id')::bigint,
             case when jsonb_typeof(s.j -> 'popularity') = 'number'
                  then (s.j ->> 'popularity')::double precision else 0 end,
             coalesce(s.j -> 'adult' = 'true'::jsonb, false)
        from slice s
       where s.j is not null
         and (v_import.include_adult or not coalesce(s.j -> 'adult' = 'true'::jsonb, false))
      on conflict (tmdb_id) do nothing
      returning 1
    )
    select max(s.id), count(*),
           count(*) filter (where s.j is null),
           count(*) filter (where s.j is not null and not v_import.include_adult
                              and coalesce(s.j -> 'adult' = 'true'::jsonb, false)),
           (select count(*) from kept)
      into v_last, v_lines, v_malformed, v_adult, v_inserted
      from slice s;

    update public.export_imports
       set parse_cursor = coalesce(v_last, parse_cursor),
           lines_parsed = lines_parsed + v_lines,
           malformed_lines = malformed_lines + v_malformed,
           adult_skipped = adult_skipped + v_adult,
           ids_seen = ids_seen + v_inserted,
           status = case when v_lines < p_max_rows then 'queuing' else status end,
           parsed_at = case when v_lines < p_max_rows then now() end,
           updated_at = now()
     where id = p_import_id
    returning * into v_import;

  elsif v_import.status = 'queuing' then
    with slice as materialized (
      select r.tmdb_id, r.popularity, r.adult
        from public.export_import_ids r
       where r.tmdb_id > v_import.queue_cursor
       order by r.tmdb_id
       limit p_max_rows
    ), fresh as (
      insert into public.tmdb_export_ids (tmdb_id, adult, popularity, first_seen_day)
      select s.tmdb_id, s.adult, s.popularity, v_import.export_day
        from slice s
      on conflict (tmdb_id) do nothing
      returning tmdb_id, popularity
    )
    select (select max(s.tmdb_id) from slice s), (select count(*) from slice),
           array_agg(f.tmdb_id order by f.popularity desc, f.tmdb_id),
           array_agg(f.popularity order by f.popularity desc, f.tmdb_id)
      into v_last, v_lines, v_ids, v_pops
      from fresh f;

    if coalesce(cardinality(v_ids), 0) > 0 then
      v_queued := public.enqueue_new_movies(v_ids, v_pops);
    end if;

    update public.export_imports
       set queue_cursor = coalesce(v_last, queue_cursor),
           new_ids = new_ids + coalesce(cardinality(v_ids), 0),
           queued_new = queued_new + coalesce(v_queued, 0),
           status = case when v_lines < p_max_rows then 'finishing' else status end,
           updated_at = now()
     where id = p_import_id
    returning * into v_import;

  elsif v_import.status = 'finishing' then
    -- Ids present again: their absences end. Those back after a recheck (two or more
    -- absences) are queued for another one: their movie may be marked not found meanwhile.
    -- The old counts are read in the same statement (RETURNING would show the new ones).
    with back as (
      select k.tmdb_id, k.absent_count as was
        from public.tmdb_export_ids k
        join public.export_import_ids r on r.tmdb_id = k.tmdb_id
       where k.absent_count > 0
    ), reset as (
      update public.tmdb_export_ids k
         set absent_count = 0, absent_since_day = null
        from back b
       where b.tmdb_id = k.tmdb_id
      returning k.tmdb_id
    )
    select (select count(*) from reset),
           array_agg(b.tmdb_id order by b.tmdb_id) filter (where b.was >= 2)
      into v_reappeared, v_back
      from back b;

    with missing as (
      update public.tmdb_export_ids k
         set absent_count = k.absent_count + 1,
             absent_since_day = coalesce(k.absent_since_day, v_import.export_day)
       where (v_import.include_adult or not k.adult)
         and k.first_seen_day < v_import.export_day
         and not exists (select from public.export_import_ids r where r.tmdb_id = k.tmdb_id)
      returning k.tmdb_id, k.absent_count
    )
    select count(*), array_agg(m.tmdb_id order by m.tmdb_id) filter (where m.absent_count = 2)
      into v_absent, v_recheck
      from missing m;

    v_recheck := coalesce(v_recheck, '{}') || coalesce(v_back, '{}');
    if cardinality(v_recheck) > 0 then
      v_queued := public.enqueue_recheck(v_recheck);
    end if;

    truncate public.export_import_lines restart identity;
    truncate public.export_import_ids;
    update public.export_imports
       set absent_ids = v_absent,
           reappeared = v_reappeared,
           recheck_queued = v_queued,
           status = 'done', finished_at = now(), updated_at = now()
     where id = p_import_id
    returning * into v_import;
  end if;

  return to_jsonb(v_import);
end;
$$;

comment on function public.discover_step(bigint, integer) is
  'Advances an export import by one bounded slice (parsing, queuing new ids, finishing: absences and rechecks); returns the import row.';

revoke execute on function public.discover_step(bigint, integer) from public, anon, authenticated;
grant execute on function public.discover_step(bigint, integer) to service_role;

-- ============================================================================
-- discover_fail: an import that cannot go on
-- ============================================================================

-- E.g. the export file of an import in progress is gone (404 on a continuation). The next
-- run starts a new import; staging is emptied.
create or replace function public.discover_fail(p_import_id bigint, p_error text)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_import public.export_imports%rowtype;
begin
  update public.export_imports
     set status = 'failed', error = left(coalesce(p_error, 'unknown error'), 2000),
         finished_at = now(), updated_at = now()
   where id = p_import_id and status not in ('done', 'failed')
  returning * into v_import;
  if found then
    truncate public.export_import_lines restart identity;
    truncate public.export_import_ids;
  end if;
  return to_jsonb(v_import);
end;
$$;

comment on function public.discover_fail(bigint, text) is
  'Marks an export import in progress failed (with the error) and empties staging; null when it was not in progress.';

revoke execute on function public.discover_fail(bigint, text) from public, anon, authenticated;
grant execute on function public.discover_fail(bigint, text) to service_role;

-- ============================================================================
-- continue_discover_movies / call_discover_movies
-- ============================================================================

-- Called by a discover-movies run that stopped for its budget with its import unfinished:
-- queues the next run (trigger 'continuation', body p_body + chain_id + chain_link + 1) and
-- says so, {"continued": true, "reason": "queued", "request_id", "run_id"}, or why not,
-- {"continued": false, "reason": "paused" | "no_import" | "hourly_cap"}. Executable by the
-- owner only, like invoke_edge_function().
create or replace function public.continue_discover_movies(
  p_run_id uuid,
  p_chain_id uuid,
  p_chain_link integer,
  p_body jsonb default '{}'::jsonb
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_settings public.discovery_settings%rowtype;
  v_request_id bigint;
begin
  if p_run_id is null or p_chain_id is null then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_run_id and p_chain_id are required: current values are %s, %s',
                       coalesce(p_run_id::text, 'NULL'), coalesce(p_chain_id::text, 'NULL'));
  end if;
  if p_chain_link is null or p_chain_link < 1 then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_chain_link must be a positive integer: current value is %s',
                       coalesce(p_chain_link::text, 'NULL'));
  end if;
  if p_body is null or jsonb_typeof(p_body) <> 'object' then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_body must be a JSON object: current value is %s', coalesce(p_body::text, 'NULL'));
  end if;

  select * into v_settings from public.discovery_settings where id for update;
  if v_settings.paused then
    return jsonb_build_object('continued', false, 'reason', 'paused');
  end if;
  if not exists (select from public.export_imports i where i.status not in ('done', 'failed')) then
    return jsonb_build_object('continued', false, 'reason', 'no_import');
  end if;
  if (select count(*) from public.edge_function_invocations i
       where i.function_name = 'discover-movies' and i.trigger = 'continuation'
         and i.invoked_at > now() - interval '1 hour') >= v_settings.max_continuations_per_hour then
    return jsonb_build_object('continued', false, 'reason', 'hourly_cap');
  end if;

  v_request_id := public.invoke_edge_function(
    function_name => 'discover-movies',
    body => p_body || jsonb_build_object('chain_id', p_chain_id, 'chain_link', p_chain_link + 1),
    job_name => null,
    trigger => 'continuation',
    timeout_ms => 150000
  );
  return jsonb_build_object(
    'continued', true,
    'reason', 'queued',
    'request_id', v_request_id,
    'run_id', (select i.run_id from public.edge_function_invocations i where i.request_id = v_request_id)
  );
end;
$$;

comment on function public.continue_discover_movies(uuid, uuid, integer, jsonb) is
  'Queues the next discover-movies run of a chain (trigger continuation) unless paused, no import is in progress or the hourly cap is reached; returns {continued, reason, request_id?, run_id?}.';

revoke execute on function public.continue_discover_movies(uuid, uuid, integer, jsonb)
  from public, anon, authenticated, service_role;

-- Returns the pg_net request id, or null for a cron firing while discovery is paused.
create or replace function public.call_discover_movies(trigger text default 'manual')
returns bigint
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  if call_discover_movies.trigger is null or call_discover_movies.trigger not in ('manual', 'cron') then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('trigger must be ''manual'' or ''cron'': current value is %L', call_discover_movies.trigger);
  end if;
  if call_discover_movies.trigger = 'cron'
     and (select s.paused from public.discovery_settings s where s.id) then
    raise notice 'skipped: discovery_settings.paused is true';
    return null;
  end if;

  return public.invoke_edge_function(
    function_name => 'discover-movies',
    body => '{}'::jsonb,
    job_name => case when call_discover_movies.trigger = 'cron' then 'discover_movies' end,
    trigger => call_discover_movies.trigger,
    -- discover-movies' own wall budget is 110 s; pg_net waits 150 s, the Edge Function wall clock.
    timeout_ms => 150000
  );
end;
$$;

comment on function public.call_discover_movies(text) is
  'Calls the discover-movies Edge Function (imports the day''s TMDB id export); returns the pg_net request id, or null for a cron firing while paused.';

revoke execute on function public.call_discover_movies(text) from public, anon, authenticated, service_role;

-- ============================================================================
-- Cron
-- ============================================================================

-- 08:30 UTC daily: TMDB publishes the day's export between 07:00 and 08:00 UTC. UTC has no
-- DST, so one schedule is right all year (no guard as in 017/020).
select cron.schedule(
  'discover_movies',
  '30 8 * * *',
  $cmd$select public.call_discover_movies('cron')$cmd$
);
