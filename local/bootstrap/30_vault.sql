-- Local stack bootstrap, step 3: Vault stand-in (only where supabase_vault is absent).
--
-- Same interface as Supabase Vault: vault.create_secret(new_secret, new_name,
-- new_description) returns the secret's uuid, vault.update_secret(secret_id, new_secret,
-- new_name, new_description), which silently does nothing for an unknown id, and the view
-- vault.decrypted_secrets(id, name, description, secret, decrypted_secret, key_id, nonce,
-- created_at, updated_at). Names are unique.
--
-- Privileges as hosted Supabase grants them (supabase/postgres, the supabase_vault
-- after-create script): postgres (with grant option) and service_role get USAGE on the
-- schema, SELECT and DELETE on vault.secrets and vault.decrypted_secrets, EXECUTE on
-- create_secret, update_secret and the decrypting function; no INSERT or UPDATE: secrets are
-- written only through create_secret / update_secret. anon and authenticated get nothing.
--
-- Difference from the real Vault: the real one encrypts secrets at rest with a key that
-- never enters the database (libsodium). This stand-in stores them with pgcrypto's
-- symmetric encryption under a per-cluster key kept in a superuser-only table, which keeps
-- secrets out of plain `select * from vault.secrets` but is not a security boundary.
\set ON_ERROR_STOP on

do $$
begin
  if exists (select from pg_available_extensions where name = 'supabase_vault') then
    execute 'create extension if not exists supabase_vault with schema vault cascade';
    raise notice 'using the real supabase_vault extension';
    return;
  end if;

  create extension if not exists pgcrypto with schema extensions;
  create schema if not exists vault;

  create table if not exists vault._key (
    id boolean primary key default true check (id),
    key text not null
  );
  insert into vault._key (key)
    values (encode(extensions.gen_random_bytes(32), 'hex'))
    on conflict (id) do nothing;
  revoke all on vault._key from public;

  create table if not exists vault.secrets (
    id uuid primary key default gen_random_uuid(),
    name text,
    description text not null default '',
    secret text not null,
    key_id uuid,
    nonce bytea,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint secrets_name_key unique (name)
  );
  revoke all on vault.secrets from public;
end
$$;

create or replace function vault._encrypt(plain text) returns text
language sql volatile security definer set search_path = ''
as $$
  select encode(extensions.pgp_sym_encrypt(plain, (select key from vault._key)), 'base64')
$$;

create or replace function vault._decrypt(cipher text) returns text
language sql stable security definer set search_path = ''
as $$
  select extensions.pgp_sym_decrypt(decode(cipher, 'base64'), (select key from vault._key))
$$;

create or replace function vault.create_secret(
  new_secret text,
  new_name text default null,
  new_description text default '',
  new_key_id uuid default null
) returns uuid
language plpgsql volatile security definer set search_path = ''
as $$
declare
  secret_id uuid;
begin
  if new_secret is null then
    raise exception 'vault.create_secret: new_secret must not be null';
  end if;
  insert into vault.secrets (secret, name, description, key_id)
  values (vault._encrypt(new_secret), new_name, coalesce(new_description, ''), new_key_id)
  returning id into secret_id;
  return secret_id;
end;
$$;

create or replace function vault.update_secret(
  secret_id uuid,
  new_secret text default null,
  new_name text default null,
  new_description text default null,
  new_key_id uuid default null
) returns void
language plpgsql volatile security definer set search_path = ''
as $$
begin
  update vault.secrets s set
    secret = case when new_secret is null then s.secret else vault._encrypt(new_secret) end,
    name = coalesce(new_name, s.name),
    description = coalesce(new_description, s.description),
    key_id = coalesce(new_key_id, s.key_id),
    updated_at = now()
  where s.id = secret_id;
end;
$$;

create or replace view vault.decrypted_secrets as
  select s.id, s.name, s.description, s.secret,
         vault._decrypt(s.secret) as decrypted_secret,
         s.key_id, s.nonce, s.created_at, s.updated_at
  from vault.secrets s;

revoke all on all functions in schema vault from public;
revoke all on all tables in schema vault from public;
revoke all on all tables in schema vault from postgres, service_role;
revoke all on all functions in schema vault from postgres, service_role;
grant usage on schema vault to postgres with grant option;
grant usage on schema vault to service_role;
grant select, delete on vault.secrets, vault.decrypted_secrets to postgres with grant option;
grant select, delete on vault.secrets, vault.decrypted_secrets to service_role;
-- The view calls _decrypt with the reader's privileges: the roles that may read the view
-- may call it (it reveals nothing they could not already read through the view); hosted
-- grants its decrypting function the same way.
grant execute on function vault.create_secret(text, text, text, uuid),
                          vault.update_secret(uuid, text, text, text, uuid),
                          vault._decrypt(text)
  to postgres with grant option;
grant execute on function vault.create_secret(text, text, text, uuid),
                          vault.update_secret(uuid, text, text, text, uuid),
                          vault._decrypt(text)
  to service_role;
