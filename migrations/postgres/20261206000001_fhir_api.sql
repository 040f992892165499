-- Carry's own FHIR API: system clients (the shared care record) sign in with SMART Backend
-- Services and read what patients shared with their practice.

-- Each client assertion's `jti`, kept until the assertion expires, so a replayed one is refused
-- (the primary key makes a second use fail, even between two server instances).
create table fhir_assertions (
    client_id text not null,
    jti text not null,
    expires_at bigint not null,
    created_at bigint not null,
    updated_at bigint not null,
    constraint fhir_assertions_pk primary key (client_id, jti)
);

-- Access tokens issued, stored only as SHA-256. They are short-lived (5 minutes).
create table fhir_tokens (
    token_hash text not null constraint fhir_tokens_pk primary key,
    client_id text not null,
    scope text not null,
    expires_at bigint not null,
    created_at bigint not null,
    updated_at bigint not null
);

-- A system client's search: one patient's entries by the time they last changed.
create index entries_updated_idx on entries (patient_id, updated_at, id);
-- A system client names the patient by NHS number.
create index practice_links_nhs_number_idx on practice_links (nhs_number);
