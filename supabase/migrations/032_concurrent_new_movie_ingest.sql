-- 032_concurrent_new_movie_ingest.sql
--
-- What this changes, and why: two refresh-worker chains storing batches at once could
-- deadlock on people new to the catalog. ingest_tmdb_responses() (025) locked, by id, only
-- the people and genres that existed when its batch started; a person inserted meanwhile by
-- another transaction (another worker's batch, committed between the two statements) was
-- then locked by a movie, out of order. Worker B, waiting in its lock phase for a person A
-- held, and A, waiting in a movie for a person B had just locked, deadlocked; B was the
-- victim outside any per-movie retry, its refresh_worker_step raised and refresh-worker
-- answered 500 (tests/ingest_new_people_deadlock_test.ts builds that interleaving).
--
--   * public.tmdb_stored_person_ids(payloads): the people a batch's movies write (cast and
--     key crew, ingest_movie's rule; pgTAP 022 checks the two agree).
--   * public.ingest_tmdb_responses(): same signature, answers and rules as 025; its lock
--     phase now takes every person of the batch, known or new, in one id-ordered statement
--     (a new one is inserted as a placeholder the movie fills in), then every genre the same
--     way, before any movie. Placeholders a failed movie leaves unused are deleted before
--     the call returns, so nothing of a failed movie stays.
-- refresh_worker_step() (025) calls it unchanged.

-- ============================================================================
-- tmdb_stored_person_ids: the people a batch's movies write
-- ============================================================================

-- The cast, and the crew ingest_movie() keeps (departments Directing and Writing, and the
-- key jobs): the people rows ingesting these payloads writes. Elements that are not objects
-- and ids that are not integers are skipped (the movie fails on them, naming the path).
create or replace function public.tmdb_stored_person_ids(p_payloads jsonb[])
returns setof integer
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
  select public.tmdb_int(c -> 'id')
    from unnest(p_payloads) b,
         lateral public.tmdb_elements(b #> '{credits,cast}') x(c, o)
   where public.tmdb_int(c -> 'id') is not null
  union
  select public.tmdb_int(c -> 'id')
    from unnest(p_payloads) b,
         lateral public.tmdb_elements(b #> '{credits,crew}') x(c, o)
   where public.tmdb_int(c -> 'id') is not null
     and (public.tmdb_text(c -> 'department') = any (array['Directing', 'Writing'])
          or public.tmdb_text(c -> 'job') = any (array[
               'Producer', 'Executive Producer', 'Original Music Composer',
               'Director of Photography', 'Editor', 'Casting']))
$$;

comment on function public.tmdb_stored_person_ids(jsonb[]) is
  'The person ids ingest_movie() writes for these payloads: cast and key crew (Directing, '
  'Writing, and the key jobs).';

revoke execute on function public.tmdb_stored_person_ids(jsonb[]) from public, anon, authenticated;
grant execute on function public.tmdb_stored_person_ids(jsonb[]) to service_role;

-- ============================================================================
-- ingest_tmdb_responses: one lock order for known and new people and genres
-- ============================================================================

-- Same contract as 025 (see there): p_responses [{tmdb_id, status: 200, body: i} |
-- {tmdb_id, status: 404}], p_bodies the 200 bodies' text; returns {items, drift}.
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
  v_new_people integer[];
  v_new_genres integer[];
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

  -- Lock order (032). Concurrent calls (workers, ingest-movie) may share movies, people and
  -- genres: each call takes its locks in one global order, so they wait for each other
  -- instead of deadlocking: first every person its movies will write, by id, then every
  -- genre, by id, then the movies by tmdb_id (answers are still reported in input order).
  -- A person or genre new to the catalog is locked by inserting it (a placeholder the movie
  -- then fills in, as it would fill in a row it inserted itself), one the catalog knows by
  -- locking its row, in the same id-ordered statement: 025 locked only the known ones and
  -- left the new ones to the movies, so a person that another transaction inserted meanwhile
  -- was locked out of order, and two workers could deadlock (outside the per-movie retry:
  -- the step raised).
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
  -- "do update … where false" updates nothing but locks each existing row (PostgreSQL locks
  -- every conflicting row of on conflict do update); returning names only the inserted ones.
  with locked as (
    insert into public.people as p (id, name, adult, created_at, updated_at)
    select x.id, '', false, p_refreshed_at, p_refreshed_at
      from (select distinct i.id from public.tmdb_stored_person_ids(v_parsed) i(id)) x
     order by x.id
    on conflict (id) do update set id = excluded.id where false
    returning p.id
  )
  select coalesce(array_agg(l.id), '{}'::integer[]) into v_new_people from locked l;
  with locked as (
    insert into public.genres as g (id, name)
    select x.id, ''
      from (select distinct public.tmdb_int(c -> 'id') as id
              from unnest(v_parsed) b,
                   lateral public.tmdb_elements(b -> 'genres') x(c, o1)) x
     where x.id is not null
     order by x.id
    on conflict (id) do update set id = excluded.id where false
    returning g.id
  )
  select coalesce(array_agg(l.id), '{}'::integer[]) into v_new_genres from locked l;

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
        -- Every shared row it writes is locked already (above); the retry stays as a
        -- safety net for writers outside this function (its own subtransaction is rolled
        -- back with its locks and tried again).
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

  -- Placeholders of movies that failed are removed: nothing of a failed movie stays.
  delete from public.people p
   where p.id = any (v_new_people)
     and not exists (select from public.work_cast c where c.person_id = p.id)
     and not exists (select from public.work_crew c where c.person_id = p.id);
  delete from public.genres g
   where g.id = any (v_new_genres)
     and not exists (select from public.work_genres wg where wg.genre_id = g.id);

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
