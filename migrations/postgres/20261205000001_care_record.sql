-- The shared care record: each record's match there, and what waits to be sent to it.

-- A record's Patient in the shared care record, found by NHS number and checked on name and
-- date of birth. A match in doubt is quarantined with the reason, for a person to resolve:
-- nothing is sent for that record until then.
create table care_record_patients (
    patient_id text not null constraint care_record_patients_pk primary key
        constraint care_record_patients_patient_fk references patients (id),
    nhs_number text not null,
    status text not null constraint care_record_patients_status_check check (status in ('matched', 'quarantined')),
    remote_id text,
    reason text,
    checked_at bigint not null,
    created_at bigint not null,
    updated_at bigint not null,
    constraint care_record_patients_matched_check check (status <> 'matched' or remote_id is not null)
);

-- One row per accepted version of an entry, written in the same transaction as the acceptance.
-- A worker claims due rows with a lease (two servers never send one row at once; a worker that
-- dies leaves its row to be claimed again when the lease ends). Failures back off; a row that
-- cannot be sent ends as 'failed' (the dead-letter list practice administrators see and can
-- retry). Rows are never deleted.
create table care_record_outbox (
    id text not null constraint care_record_outbox_pk primary key,
    entry_id text not null constraint care_record_outbox_entry_fk references entries (id),
    entry_version bigint not null,
    patient_id text not null constraint care_record_outbox_patient_fk references patients (id),
    practice_id text not null constraint care_record_outbox_practice_fk references practices (id),
    accepted_by text not null constraint care_record_outbox_accepted_by_fk references users (id),
    accepted_by_name text not null,
    accepted_at bigint not null,
    status text not null constraint care_record_outbox_status_check check (status in ('waiting', 'sent', 'failed')),
    attempts bigint not null,
    next_attempt_at bigint not null,
    lease_until bigint,
    last_error text,
    remote_ref text,
    sent_at bigint,
    created_at bigint not null,
    updated_at bigint not null,
    constraint care_record_outbox_entry_id_unique unique (entry_id, entry_version)
);
create index care_record_outbox_due_idx on care_record_outbox (status, next_attempt_at);
create index care_record_outbox_practice_idx on care_record_outbox (practice_id, status, created_at);

-- What the shared care record holds about a record, as last pulled: one row per resource,
-- upserted by id and version, removed when the shared care record deletes it. The resource's
-- JSON is kept as it came; the other columns are what the record pages show, read from it.
create table care_record_items (
    patient_id text not null constraint care_record_items_patient_fk references patients (id),
    resource_type text not null,
    remote_id text not null,
    version_id text not null,
    last_updated text,
    section text not null,
    title text not null,
    detail text,
    occurred text,
    source text,
    origin text not null,
    label text not null,
    measure_code text,
    measure_value double precision,
    measure_unit text,
    resource text not null,
    created_at bigint not null,
    updated_at bigint not null,
    constraint care_record_items_pk primary key (patient_id, resource_type, remote_id)
);
create index care_record_items_section_idx on care_record_items (patient_id, section, occurred);

-- Each linked record's pull: when it is next due, the watermark (the largest meta.lastUpdated
-- seen, in the shared care record's clock: never Carry's), a lease so two servers never pull
-- one record at once, how far a running pull is, and the last success and failure.
create table care_record_sync (
    patient_id text not null constraint care_record_sync_pk primary key
        constraint care_record_sync_patient_fk references patients (id),
    watermark text,
    due_at bigint not null,
    lease_until bigint,
    progress_done bigint not null,
    progress_total bigint not null,
    last_success_at bigint,
    last_error text,
    created_at bigint not null,
    updated_at bigint not null
);
create index care_record_sync_due_idx on care_record_sync (due_at);
