-- Accounts, sign-in and mail. Times are UTC milliseconds since the Unix epoch; ids are UUID text.
-- The same tables exist in migrations/sqlite so that one set of SQL serves both backends.

create table users (
    id text not null constraint users_pk primary key,
    email text not null,
    email_key text not null constraint users_email_key_unique unique,
    display_name text not null,
    created_at integer not null,
    updated_at integer not null
);

create table passwords (
    user_id text not null constraint passwords_pk primary key
        constraint passwords_user_fk references users (id) on delete cascade,
    phc text not null,
    created_at integer not null,
    updated_at integer not null
);

create table passkeys (
    id text not null constraint passkeys_pk primary key,
    user_id text not null constraint passkeys_user_fk references users (id) on delete cascade,
    credential_id text not null constraint passkeys_credential_id_unique unique,
    name text not null,
    passkey_json text not null,
    last_used_at integer,
    created_at integer not null,
    updated_at integer not null
);
create index passkeys_user_idx on passkeys (user_id);

-- A session ends when its passkey is removed (on delete cascade), when signed out, or by timeouts.
create table sessions (
    id text not null constraint sessions_pk primary key,
    token_hash text not null constraint sessions_token_hash_unique unique,
    user_id text not null constraint sessions_user_fk references users (id) on delete cascade,
    auth_method text not null constraint sessions_auth_method_check check (auth_method in ('password', 'passkey', 'recovery')),
    passkey_id text constraint sessions_passkey_fk references passkeys (id) on delete cascade,
    device text not null,
    authenticated_at integer not null,
    last_seen_at integer not null,
    absolute_expires_at integer not null,
    created_at integer not null,
    updated_at integer not null
);
create index sessions_user_idx on sessions (user_id);

-- Single-use links sent by email. Only a SHA-256 of the token is kept.
create table email_links (
    token_hash text not null constraint email_links_pk primary key,
    purpose text not null constraint email_links_purpose_check check (purpose in ('register', 'recover')),
    email text not null,
    email_key text not null,
    display_name text,
    user_id text constraint email_links_user_fk references users (id) on delete cascade,
    expires_at integer not null,
    used_at integer,
    created_at integer not null,
    updated_at integer not null
);
create index email_links_email_key_idx on email_links (email_key, purpose);

-- WebAuthn ceremony state, held server-side and deleted on first use.
create table webauthn_ceremonies (
    id text not null constraint webauthn_ceremonies_pk primary key,
    purpose text not null constraint webauthn_ceremonies_purpose_check check (purpose in ('register', 'add', 'authenticate', 'recover')),
    user_id text,
    link_token_hash text,
    state_json text not null,
    expires_at integer not null,
    created_at integer not null,
    updated_at integer not null
);

-- Consecutive failed sign-ins per account key (a hash of the address typed, so unknown and known
-- addresses are throttled alike).
create table sign_in_failures (
    account_key text not null constraint sign_in_failures_pk primary key,
    failures integer not null,
    last_failure_at integer not null,
    previous_failure_at integer,
    created_at integer not null,
    updated_at integer not null
);

-- Fixed-window counters for per-address limits (sign-in, registration, recovery).
create table rate_windows (
    bucket text not null,
    window_start integer not null,
    hits integer not null,
    created_at integer not null,
    updated_at integer not null,
    constraint rate_windows_pk primary key (bucket, window_start)
);

-- Mail is written here in the same transaction as the work that needs it, then sent by a worker
-- that claims rows with a lease, so a crash loses no message and two servers never send one twice.
create table mail_outbox (
    id text not null constraint mail_outbox_pk primary key,
    to_address text not null,
    subject text not null,
    body_text text not null,
    attempts integer not null,
    next_attempt_at integer not null,
    lease_until integer,
    sent_at integer,
    last_error text,
    created_at integer not null,
    updated_at integer not null
);
create index mail_outbox_due_idx on mail_outbox (sent_at, next_attempt_at);
