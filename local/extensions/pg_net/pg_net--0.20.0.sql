-- pg_net local stand-in, version 0.20.0 interface.
--
-- Mirrors the SQL surface of supabase/pg_net 0.20: schema `net`, the unlogged tables
-- net.http_request_queue and net._http_response, and net.http_get / net.http_post with the
-- same argument names, types and defaults. What the real extension does in a C background
-- worker (sending the queued requests, recording responses, pruning them after pg_net.ttl)
-- is done here by local/pg_net_worker.ts, which the local stack runs beside PostgreSQL.
--
-- Requests become visible to the worker only when the calling transaction commits, exactly
-- like pg_net: a rolled-back net.http_post is never sent.

\echo Use "CREATE EXTENSION pg_net" to load this file. \quit

create schema if not exists net;

create unlogged table net.http_request_queue (
  id bigserial,
  method text not null,
  url text not null,
  headers jsonb not null,
  body bytea,
  timeout_milliseconds integer not null
);

create unlogged table net._http_response (
  id bigint,
  status_code integer,
  content_type text,
  headers jsonb,
  content text,
  timed_out boolean,
  error_msg text,
  created timestamptz not null default now()
);

create index _http_response_created_idx on net._http_response (created);
create index _http_response_id_idx on net._http_response (id);

-- Wakes the worker at commit time (NOTIFY is delivered only when the transaction commits).
create function net._wake_worker() returns trigger
language plpgsql as $$
begin
  perform pg_notify('pg_net_standin', '');
  return null;
end;
$$;

create trigger http_request_queue_wake
  after insert on net.http_request_queue
  for each statement execute function net._wake_worker();

-- Builds the url with the params appended as a query string (pg_net does the same).
create function net._url_with_params(url text, params jsonb) returns text
language sql immutable as $$
  select case
    when params is null or params = '{}'::jsonb then url
    else url || case when position('?' in url) > 0 then '&' else '?' end || (
      select string_agg(
        replace(replace(replace(replace(key, '%', '%25'), '&', '%26'), '=', '%3D'), ' ', '%20') || '=' ||
        replace(replace(replace(replace(value, '%', '%25'), '&', '%26'), '=', '%3D'), ' ', '%20'),
        '&')
      from jsonb_each_text(params)
    )
  end
$$;

-- The one place a request is queued; the public functions below only shape their
-- arguments (pg_net's own http_get/http_post/http_delete differ the same way).
create function net._enqueue(
  method text,
  url text,
  params jsonb,
  headers jsonb,
  body bytea,
  timeout_milliseconds integer
) returns bigint
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  request_id bigint;
begin
  if url is null then
    raise exception 'net.http_%: url must not be null', lower(method);
  end if;
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values (method, net._url_with_params(url, params), coalesce(headers, '{}'::jsonb), body,
          timeout_milliseconds)
  returning id into request_id;
  return request_id;
end;
$$;

create function net.http_get(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language sql volatile security definer
set search_path = ''
as $$
  select net._enqueue('GET', url, params, headers, null, timeout_milliseconds)
$$;

create function net.http_post(
  url text,
  body jsonb default '{}'::jsonb,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language sql volatile security definer
set search_path = ''
as $$
  select net._enqueue('POST', url, params, headers,
                      convert_to(coalesce(body, '{}'::jsonb)::text, 'UTF8'), timeout_milliseconds)
$$;

create function net.http_delete(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language sql volatile security definer
set search_path = ''
as $$
  select net._enqueue('DELETE', url, params, headers, null, timeout_milliseconds)
$$;

revoke all on function net.http_get(text, jsonb, jsonb, integer) from public;
revoke all on function net.http_post(text, jsonb, jsonb, jsonb, integer) from public;
revoke all on function net.http_delete(text, jsonb, jsonb, integer) from public;
revoke all on function net._wake_worker() from public;
revoke all on function net._enqueue(text, text, jsonb, jsonb, bytea, integer) from public;
