-- pg_net local stand-in: from 0.20.0 (this stand-in's first version) to 0.20.4, which matches
-- supabase/pg_net 0.20.x as hosted Supabase runs it (sql/pg_net.sql at v0.20.0; the 0.20.1–
-- 0.20.4 update scripts change no SQL), with hosted Supabase's grants. A new local stack gets
-- this version by `create extension pg_net version '0.20.4'` (0.20.0, then this script); an
-- older one by `alter extension pg_net update to '0.20.4'` (local/bootstrap/20_extensions.sql).
--
-- What 0.20.4 is, as on hosted (docs/hosted-standins.md lists the sources):
--   * net.http_request_queue.method is the domain net.http_method (GET, POST, DELETE, any
--     case); headers may be null.
--   * http_get / http_post / http_delete are plain plpgsql, SECURITY INVOKER: they insert as
--     the caller. Every function keeps PostgreSQL's default EXECUTE for PUBLIC, and the
--     schema, the tables and the sequence are granted to PUBLIC (USAGE / ALL), so any role
--     can queue a request and read, change or delete the queue and the responses.
--   * http_post raises unless the Content-Type header is exactly application/json (it adds
--     that header when the caller's headers have none); its body is sent as
--     convert_to(body::text, 'UTF8'), so a null body is sent as no body.
--   * http_delete takes a fifth argument, body (default null).
--   * The query parameters are URL-encoded like curl_escape (every byte but A–Z a–z 0–9 - . _ ~).
-- What the C background worker does (send after commit, record responses, prune after
-- pg_net.ttl) is done by local/pg_net_worker.ts; net.wake() notifies it.

\echo Use "ALTER EXTENSION pg_net UPDATE TO '0.20.4'" to load this file. \quit

-- ============================================================================
-- The first stand-in's own objects
-- ============================================================================

drop trigger http_request_queue_wake on net.http_request_queue;
drop function net._wake_worker();
drop function net.http_get(text, jsonb, jsonb, integer);
drop function net.http_post(text, jsonb, jsonb, jsonb, integer);
drop function net.http_delete(text, jsonb, jsonb, integer);
drop function net._enqueue(text, text, jsonb, jsonb, bytea, integer);
drop function net._url_with_params(text, jsonb);
drop index net._http_response_id_idx;

-- ============================================================================
-- Tables: pg_net's column types
-- ============================================================================

create domain net.http_method as text
  check (value ilike 'get' or value ilike 'post' or value ilike 'delete');

alter table net.http_request_queue
  alter column method type net.http_method using method::net.http_method,
  alter column headers drop not null;

-- ============================================================================
-- Helpers
-- ============================================================================

-- Percent-encodes every byte of the UTF-8 text except the unreserved characters, as
-- curl_escape does (a space becomes %20).
create function net._urlencode_string(string varchar)
returns text
language sql
immutable
as $$
  select case when string is null then null else coalesce((
    select string_agg(
             case
               when b between 48 and 57 or b between 65 and 90 or b between 97 and 122
                 or b in (45, 46, 95, 126)
               then chr(b)
               else '%' || upper(lpad(to_hex(b), 2, '0'))
             end, '' order by i)
      from generate_series(0, octet_length(convert_to(string, 'UTF8')) - 1) as i,
           get_byte(convert_to(string, 'UTF8'), i) as b
  ), '') end
$$;

-- The url with the already-encoded key=value pairs appended as its query string.
create function net._encode_url_with_params_array(url text, params_array text[])
returns text
language sql
immutable
as $$
  select case
    when url is null or params_array is null then null
    when cardinality(params_array) = 0 then url
    else url || case when position('?' in url) > 0 then '&' else '?' end
             || array_to_string(params_array, '&')
  end
$$;

-- Wakes the worker; the notification is delivered when the calling transaction commits,
-- so a request is never sent before then (and never if it rolls back).
create function net.wake()
returns void
language sql
as $$
  select pg_notify('pg_net_standin', '')
$$;

-- ============================================================================
-- The request functions
-- ============================================================================

create function net.http_get(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000
)
returns bigint
language plpgsql
as $$
declare
  request_id bigint;
begin
  insert into net.http_request_queue (method, url, headers, timeout_milliseconds)
  values ('GET',
          net._encode_url_with_params_array(url, (
            select coalesce(array_agg(net._urlencode_string(p.key) || '='
                                      || net._urlencode_string(p.value)), '{}')
              from jsonb_each_text(params) p)),
          headers, timeout_milliseconds)
  returning id into request_id;
  perform net.wake();
  return request_id;
end;
$$;

create function net.http_post(
  url text,
  body jsonb default '{}'::jsonb,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
  timeout_milliseconds integer default 5000
)
returns bigint
language plpgsql
as $$
declare
  request_id bigint;
  content_type text;
begin
  select h.value into content_type
    from jsonb_each_text(coalesce(headers, '{}'::jsonb)) h
   where lower(h.key) = 'content-type'
   limit 1;
  if content_type is null then
    -- null headers stay null (null || anything is null), as in pg_net
    headers := headers || '{"Content-Type": "application/json"}'::jsonb;
  elsif content_type <> 'application/json' then
    raise exception 'Content-Type header must be "application/json"';
  end if;

  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values ('POST',
          net._encode_url_with_params_array(url, (
            select coalesce(array_agg(net._urlencode_string(p.key) || '='
                                      || net._urlencode_string(p.value)), '{}')
              from jsonb_each_text(params) p)),
          headers, convert_to(body::text, 'UTF8'), timeout_milliseconds)
  returning id into request_id;
  perform net.wake();
  return request_id;
end;
$$;

create function net.http_delete(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000,
  body jsonb default null
)
returns bigint
language plpgsql
as $$
declare
  request_id bigint;
begin
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values ('DELETE',
          net._encode_url_with_params_array(url, (
            select coalesce(array_agg(net._urlencode_string(p.key) || '='
                                      || net._urlencode_string(p.value)), '{}')
              from jsonb_each_text(params) p)),
          headers, convert_to(body::text, 'UTF8'), timeout_milliseconds)
  returning id into request_id;
  perform net.wake();
  return request_id;
end;
$$;

-- ============================================================================
-- Collecting a response (deprecated in pg_net; kept for its SQL surface)
-- ============================================================================

create type net.request_status as enum ('PENDING', 'SUCCESS', 'ERROR');
create type net.http_response as (status_code integer, headers jsonb, body text);
create type net.http_response_result as (
  status net.request_status,
  message text,
  response net.http_response
);

-- Waits (polling every 50 ms) until the response of request_id is recorded.
create function net._await_response(request_id bigint)
returns boolean
language plpgsql
as $$
begin
  while not exists (select 1 from net._http_response r where r.id = _await_response.request_id) loop
    perform pg_sleep(0.05);
  end loop;
  return true;
end;
$$;

create function net._http_collect_response(request_id bigint, async boolean default true)
returns net.http_response_result
language plpgsql
as $$
declare
  rec net._http_response;
begin
  if not async then
    perform net._await_response(request_id);
  end if;
  select * into rec from net._http_response r where r.id = _http_collect_response.request_id;
  if rec.id is null or rec.error_msg is not null then
    return ('ERROR', coalesce(rec.error_msg, 'request matching request_id not found'),
            null)::net.http_response_result;
  end if;
  return ('SUCCESS', 'ok',
          (rec.status_code, rec.headers, rec.content)::net.http_response)::net.http_response_result;
end;
$$;

create function net.http_collect_response(request_id bigint, async boolean default true)
returns net.http_response_result
language plpgsql
as $$
begin
  raise notice 'The net.http_collect_response function is deprecated.';
  return net._http_collect_response(request_id, async);
end;
$$;

-- ============================================================================
-- Grants: what pg_net itself grants (hosted Supabase adds USAGE for its API roles, see
-- local/bootstrap/20_extensions.sql)
-- ============================================================================

grant usage on schema net to public;
grant all on all sequences in schema net to public;
grant all on all tables in schema net to public;
