-- Copies of a record prepared to download (issue 19): who asked, for which record, with which
-- labels, and where the work stands. The files themselves are kept beside the server for an
-- hour once ready (exports.rs), then removed with the row.
create table exports (
    id text not null constraint exports_pk primary key,
    patient_id text not null constraint exports_patient_fk references patients (id),
    requested_by text not null constraint exports_user_fk references users (id),
    labels text not null,
    with_access_log bigint not null constraint exports_with_access_log_check check (with_access_log in (0, 1)),
    status text not null constraint exports_status_check check (status in ('queued', 'running', 'ready', 'failed')),
    done bigint not null,
    total bigint not null,
    failure text,
    fhir_bytes bigint,
    readable_bytes bigint,
    expires_at bigint,
    created_at bigint not null,
    updated_at bigint not null
);
create index exports_requester_idx on exports (requested_by, patient_id, created_at);
create index exports_status_idx on exports (status, created_at);
