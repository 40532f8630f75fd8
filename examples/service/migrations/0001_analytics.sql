-- The analytics consumer's tables: usage per organisation and UTC day, and the ids of the
-- events already counted (a redelivered event finds its id here and is counted once).
create table analytics_usage_daily (
  org_id uuid not null,
  day date not null,
  requests integer not null default 0,
  prompt_tokens bigint not null default 0,
  completion_tokens bigint not null default 0,
  total_tokens bigint not null default 0,
  primary key (org_id, day)
);

create table analytics_counted_events (
  event_id text primary key,
  counted_at timestamptz not null default now()
);
