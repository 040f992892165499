-- SMART Health Links to a patient's summary (issue 19). The link's address holds 256 random
-- bits; only their SHA-256 is kept. A link made to show the summary as it was keeps that
-- summary encrypted under the link's key (`file`) and never the key; a long-term link keeps
-- its key sealed under the server's key (`sealed_key`) to encrypt the current summary each
-- time. Its uses are in the patient's access log, under the link's id.
create table health_links (
    id text not null constraint health_links_pk primary key,
    patient_id text not null constraint health_links_patient_fk references patients (id),
    made_by text not null constraint health_links_user_fk references users (id),
    label text not null,
    labels text not null,
    manifest_hash text not null constraint health_links_manifest_unique unique,
    passcode_hash text,
    attempts_left integer not null,
    long_term integer not null constraint health_links_long_term_check check (long_term in (0, 1)),
    sealed_key text,
    file text,
    expires_at integer not null,
    ended_at integer,
    created_at integer not null,
    updated_at integer not null,
    constraint health_links_key_check check ((long_term = 1 and sealed_key is not null and file is null)
        or (long_term = 0 and sealed_key is null and file is not null))
);
create index health_links_patient_idx on health_links (patient_id, created_at);

-- A file a manifest named by address rather than embedded (a client asked for small
-- manifests): its address holds 256 random bits, kept hashed, and works for an hour.
create table health_link_files (
    token_hash text not null constraint health_link_files_pk primary key,
    link_id text not null constraint health_link_files_link_fk references health_links (id) on delete cascade,
    file text not null,
    expires_at integer not null,
    created_at integer not null
);
create index health_link_files_expiry_idx on health_link_files (expires_at);
