-- @plinth/models: organisations, users, API keys, usage, and the refresh-token store.
-- Unqualified names: the tables go into the first schema of the connection's search_path.
-- The role lists below must equal ROLES of @plinth/rbac (models/contract_test.ts checks it).

create function plinth_touch_updated_at() returns trigger
language plpgsql as $$
begin
  new.updated_at := now();
  return new;
end;
$$;

create table organizations (
  id uuid primary key default gen_random_uuid(),
  name text not null
    constraint organizations_name_format check (name ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  display_name text not null
    constraint organizations_display_name_length check (char_length(display_name) between 1 and 200),
  budget_tokens_monthly bigint not null default 0
    constraint organizations_budget_nonnegative check (budget_tokens_monthly >= 0),
  tokens_used_current_month bigint not null default 0
    constraint organizations_used_nonnegative check (tokens_used_current_month >= 0),
  usage_period date not null default (date_trunc('month', now() at time zone 'UTC'))::date
    constraint organizations_usage_period_first_day check (extract(day from usage_period) = 1),
  status text not null default 'active'
    constraint organizations_status_valid check (status in ('active', 'suspended')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint organizations_name_key unique (name)
);

-- The token counter and its period change on every charge: they do not touch updated_at.
create trigger organizations_updated_at before update on organizations
  for each row
  when ((old.name, old.display_name, old.budget_tokens_monthly, old.status)
    is distinct from (new.name, new.display_name, new.budget_tokens_monthly, new.status))
  execute function plinth_touch_updated_at();

create table users (
  id uuid primary key default gen_random_uuid(),
  org_id uuid references organizations (id) on delete restrict,
  email text not null
    constraint users_email_format check (char_length(email) <= 254 and email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
  name text not null
    constraint users_name_length check (char_length(name) between 1 and 200),
  role text not null
    constraint users_role_valid check (role in ('system_admin', 'org_admin', 'org_user')),
  status text not null default 'active'
    constraint users_status_valid check (status in ('active', 'suspended')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- A system administrator belongs to no organisation; everyone else to exactly one.
  constraint users_org_matches_role check ((role = 'system_admin') = (org_id is null))
);

create unique index users_email_key on users (lower(email));
create index users_org_id_id on users (org_id, id);

create trigger users_updated_at before update on users
  for each row when (old.* is distinct from new.*)
  execute function plinth_touch_updated_at();

create table api_keys (
  id uuid primary key default gen_random_uuid(),
  public_id text not null
    constraint api_keys_public_id_format check (public_id ~ '^[0-9A-Za-z]{12}$'),
  prefix text not null
    constraint api_keys_prefix_format check (prefix ~ '^[a-z][a-z0-9]{1,15}$'),
  org_id uuid not null references organizations (id) on delete restrict,
  name text not null
    constraint api_keys_name_length check (char_length(name) between 1 and 200),
  key_hash text not null
    constraint api_keys_key_hash_format check (key_hash ~ '^[0-9a-f]{64}$'),
  scopes text[] not null default '{}',
  role text not null
    constraint api_keys_role_valid check (role in ('org_admin', 'org_user')),
  created_by uuid references users (id) on delete set null,
  last_used_at timestamptz,
  expires_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint api_keys_public_id_key unique (public_id)
);

create index api_keys_org_id_id on api_keys (org_id, id);

-- last_used_at is written in batches (createLastUsedTracker): it does not touch updated_at.
create trigger api_keys_updated_at before update on api_keys
  for each row
  when ((old.name, old.scopes, old.role, old.expires_at, old.revoked_at)
    is distinct from (new.name, new.scopes, new.role, new.expires_at, new.revoked_at))
  execute function plinth_touch_updated_at();

create table usage_records (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references organizations (id) on delete restrict,
  api_key_id text references api_keys (public_id) on delete restrict,
  user_id uuid references users (id) on delete restrict,
  model text not null
    constraint usage_model_length check (char_length(model) between 1 and 200),
  prompt_tokens integer not null constraint usage_prompt_nonnegative check (prompt_tokens >= 0),
  completion_tokens integer not null
    constraint usage_completion_nonnegative check (completion_tokens >= 0),
  total_tokens integer not null
    constraint usage_total_is_sum check (total_tokens = prompt_tokens + completion_tokens),
  request_id text,
  created_at timestamptz not null default now(),
  constraint usage_one_principal check (num_nonnulls(api_key_id, user_id) = 1)
);

create index usage_records_org_id_created_at on usage_records (org_id, created_at, id);
create index usage_records_api_key_id on usage_records (api_key_id) where api_key_id is not null;
create index usage_records_user_id on usage_records (user_id) where user_id is not null;
create index usage_records_request_id on usage_records (request_id) where request_id is not null;

-- @plinth/auth's TokenStore: refresh tokens used once, and revoked token or family ids.
create table refresh_token_uses (
  jti text primary key constraint refresh_token_uses_jti_length check (char_length(jti) between 1 and 200),
  used_at timestamptz not null,
  expires_at timestamptz not null
);

create index refresh_token_uses_expires_at on refresh_token_uses (expires_at);

create table token_revocations (
  id text primary key constraint token_revocations_id_length check (char_length(id) between 1 and 200),
  expires_at timestamptz not null
);

create index token_revocations_expires_at on token_revocations (expires_at);
