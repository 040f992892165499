-- GP practices, their staff, patients' links to them, and the review of what patients share.

create table practices (
    id text not null constraint practices_pk primary key,
    name text not null,
    ods_code text not null constraint practices_ods_code_unique unique,
    created_at bigint not null,
    updated_at bigint not null
);

-- One job at one practice per account. Ending someone's job deletes the row (the log keeps
-- what they did, under their name).
create table practice_staff (
    user_id text not null constraint practice_staff_pk primary key
        constraint practice_staff_user_fk references users (id),
    practice_id text not null constraint practice_staff_practice_fk references practices (id),
    job text not null constraint practice_staff_job_check check (job in ('gp', 'nurse', 'admin', 'social-care')),
    added_by text constraint practice_staff_added_by_fk references users (id),
    created_at bigint not null,
    updated_at bigint not null
);
create index practice_staff_practice_idx on practice_staff (practice_id);

-- An emailed invitation to join a practice's staff. Only the SHA-256 of the token is kept;
-- it is single-use (accepted_at) and expires.
create table staff_invitations (
    id text not null constraint staff_invitations_pk primary key,
    practice_id text not null constraint staff_invitations_practice_fk references practices (id),
    email text not null,
    name text not null,
    job text not null constraint staff_invitations_job_check check (job in ('gp', 'nurse', 'admin', 'social-care')),
    token_hash text not null constraint staff_invitations_token_hash_unique unique,
    invited_by text constraint staff_invitations_invited_by_fk references users (id),
    expires_at bigint not null,
    accepted_at bigint,
    accepted_by text constraint staff_invitations_accepted_by_fk references users (id),
    created_at bigint not null,
    updated_at bigint not null
);
create index staff_invitations_practice_idx on staff_invitations (practice_id, created_at);

-- A record's link to its GP practice: asked for by the patient, verified by an administrator.
create table practice_links (
    patient_id text not null constraint practice_links_pk primary key
        constraint practice_links_patient_fk references patients (id),
    practice_id text not null constraint practice_links_practice_fk references practices (id),
    nhs_number text not null,
    status text not null constraint practice_links_status_check check (status in ('requested', 'linked', 'declined')),
    requested_by text not null constraint practice_links_requested_by_fk references users (id),
    requested_at bigint not null,
    decided_by text constraint practice_links_decided_by_fk references users (id),
    decided_at bigint,
    decline_reason text,
    created_at bigint not null,
    updated_at bigint not null
);
create index practice_links_practice_idx on practice_links (practice_id, status, requested_at);
-- One verified record per NHS number at a practice. (Named by the store's rule for SQLite's
-- unique errors, which name only the first column.)
create unique index practice_links_practice_id_unique on practice_links (practice_id, nhs_number) where status = 'linked';

-- Each step of a shared entry's review: a clinician's decision, or the patient's answer.
create table entry_reviews (
    id text not null constraint entry_reviews_pk primary key,
    entry_id text not null constraint entry_reviews_entry_fk references entries (id),
    entry_version bigint not null,
    practice_id text not null constraint entry_reviews_practice_fk references practices (id),
    step text not null constraint entry_reviews_step_check check (step in ('accepted', 'noted', 'rejected', 'asked', 'answered')),
    message text,
    actor text not null constraint entry_reviews_actor_fk references users (id),
    actor_name text not null,
    created_at bigint not null
);
create index entry_reviews_entry_idx on entry_reviews (entry_id, created_at);

-- Where each shared entry stands in its practice's inbox, kept with every change to the entry,
-- the link or the review, so the inbox is one indexed read however many patients there are.
create table practice_inbox (
    entry_id text not null constraint practice_inbox_pk primary key
        constraint practice_inbox_entry_fk references entries (id),
    practice_id text not null constraint practice_inbox_practice_fk references practices (id),
    patient_id text not null constraint practice_inbox_patient_fk references patients (id),
    state text not null constraint practice_inbox_state_check check (state in ('waiting', 'waiting-for-patient', 'done')),
    -- 1 when a reading's value is concerning (the patient's own view's thresholds).
    concerning bigint not null constraint practice_inbox_concerning_check check (concerning in (0, 1)),
    -- When it began waiting for a clinician (shared, changed or answered).
    waiting_since bigint not null,
    updated_at bigint not null
);
create index practice_inbox_waiting_idx on practice_inbox (practice_id, state, patient_id);

-- Per patient, what waits for their practice: the inbox's first page reads this, ordered.
create table practice_inbox_patients (
    patient_id text not null constraint practice_inbox_patients_pk primary key
        constraint practice_inbox_patients_patient_fk references patients (id),
    practice_id text not null constraint practice_inbox_patients_practice_fk references practices (id),
    waiting bigint not null,
    -- 1 when any of them is concerning: those patients come first.
    flagged bigint not null,
    oldest bigint not null
);
create index practice_inbox_patients_order_idx on practice_inbox_patients (practice_id, flagged desc, oldest, patient_id);
