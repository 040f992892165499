-- A parent offering a child's record to the young person, to hold with their own account.
-- One offer per record at a time (a new one replaces it); only the SHA-256 of the emailed
-- token is kept. The offer is deleted when the young person takes the record.
create table record_handovers (
    patient_id text not null constraint record_handovers_pk primary key
        constraint record_handovers_patient_fk references patients (id),
    email text not null,
    token_hash text not null constraint record_handovers_token_hash_unique unique,
    expires_at bigint not null,
    offered_by text not null constraint record_handovers_offered_by_fk references users (id),
    created_at bigint not null,
    updated_at bigint not null
);
