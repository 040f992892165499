-- Patients' records and the entries in them. Nothing here is ever overwritten: `entries` holds
-- each entry's current state (for the timeline's indexes) and `entry_versions` every state it
-- has had, written in the same transaction. A deletion is a tombstone (`deleted_at`).

-- A record. Usually owned by an account; a young child's record may have none.
create table patients (
    id text not null constraint patients_pk primary key,
    user_id text constraint patients_user_fk references users (id) constraint patients_user_id_unique unique,
    created_at integer not null,
    updated_at integer not null
);

create table entries (
    id text not null constraint entries_pk primary key,
    patient_id text not null constraint entries_patient_fk references patients (id),
    kind text not null constraint entries_kind_check check (kind in ('reading', 'note', 'about-me')),
    reading_kind text,
    -- The number of the latest version; a change must name it, so a stale form cannot overwrite.
    version integer not null,
    -- domain::entries::EntryBody as JSON.
    body text not null,
    label text not null constraint entries_label_check check (label in ('general', 'mental-health', 'sexual-health', 'social-care')),
    shared_with_practice integer not null constraint entries_shared_check check (shared_with_practice in (0, 1)),
    occurred_at integer not null,
    entered_by text not null constraint entries_entered_by_fk references users (id),
    source text not null constraint entries_source_check check (source in ('carry', 'sync')),
    deleted_at integer,
    deleted_by text constraint entries_deleted_by_fk references users (id),
    created_at integer not null,
    updated_at integer not null,
    constraint entries_reading_kind_check check ((kind = 'reading') = (reading_kind is not null))
);
-- The timeline, newest first, and each reading kind's chart.
create index entries_timeline_idx on entries (patient_id, occurred_at, id) where deleted_at is null;
create index entries_readings_idx on entries (patient_id, reading_kind, occurred_at, id) where deleted_at is null;
create index entries_deleted_idx on entries (patient_id, deleted_at) where deleted_at is not null;
-- One "about me" per record.
create unique index entries_patient_id_unique on entries (patient_id) where kind = 'about-me';

create table entry_versions (
    entry_id text not null constraint entry_versions_entry_fk references entries (id),
    version integer not null,
    change text not null constraint entry_versions_change_check
        check (change in ('created', 'edited', 'privacy-changed', 'deleted', 'restored')),
    body text not null,
    label text not null,
    shared_with_practice integer not null,
    occurred_at integer not null,
    changed_by text not null constraint entry_versions_changed_by_fk references users (id),
    recorded_at integer not null,
    created_at integer not null,
    updated_at integer not null,
    constraint entry_versions_pk primary key (entry_id, version)
);
