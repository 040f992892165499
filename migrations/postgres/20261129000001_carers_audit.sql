-- Carers' access to a patient's record, in-portal notices, and the access log.

-- A record may belong to nobody's account yet (a young child's): it then carries its own name,
-- and a date of birth that the age rules for parental access work from (UK date, YYYY-MM-DD).
alter table patients add column display_name text;
alter table patients add column born_on text;

-- A carer's access to one patient's record. It starts as an invitation (only the SHA-256 of the
-- emailed token is kept) and becomes active when the carer accepts with their own account.
-- Nothing is deleted: revocation and cancellation are states, and every change is a row in
-- grant_changes.
create table grants (
    id text not null constraint grants_pk primary key,
    patient_id text not null constraint grants_patient_fk references patients (id),
    carer_user_id text constraint grants_carer_fk references users (id),
    invited_email text not null,
    invited_name text not null,
    relationship text not null,
    basis text not null constraint grants_basis_check check (basis in ('patient-consent', 'parental-responsibility', 'lasting-power-of-attorney', 'court-appointed-deputy', 'best-interests')),
    -- Comma-separated privacy label slugs, at least one.
    labels text not null,
    can_add bigint not null constraint grants_can_add_check check (can_add in (0, 1)),
    starts_at bigint not null,
    ends_at bigint not null,
    status text not null constraint grants_status_check check (status in ('invited', 'active', 'declined', 'revoked', 'cancelled')),
    invite_token_hash text constraint grants_invite_token_unique unique,
    invite_expires_at bigint,
    decided_by text not null constraint grants_decided_by_fk references users (id),
    young_person_confirmed_at bigint,
    ended_at bigint,
    ended_by text constraint grants_ended_by_fk references users (id),
    version bigint not null,
    created_at bigint not null,
    updated_at bigint not null,
    constraint grants_dates_check check (ends_at > starts_at)
);
create index grants_patient_idx on grants (patient_id);
create index grants_carer_idx on grants (carer_user_id, status);

-- Every change to a grant: who, when, what, and the basis at the time.
create table grant_changes (
    grant_id text not null constraint grant_changes_grant_fk references grants (id),
    version bigint not null,
    changed_by text not null constraint grant_changes_by_fk references users (id),
    change text not null,
    details text not null,
    basis text not null,
    at bigint not null,
    constraint grant_changes_pk primary key (grant_id, version)
);

-- Reminders already sent for a grant (review, age thresholds), so each goes once.
create table grant_reminders (
    grant_id text not null constraint grant_reminders_grant_fk references grants (id),
    kind text not null,
    sent_at bigint not null,
    constraint grant_reminders_pk primary key (grant_id, kind)
);

-- Notices shown in the portal. Like the emails, they never carry clinical content.
create table notices (
    id text not null constraint notices_pk primary key,
    user_id text not null constraint notices_user_fk references users (id) on delete cascade,
    text text not null,
    link text not null,
    read_at bigint,
    created_at bigint not null
);
create index notices_user_idx on notices (user_id, created_at);

-- The access log: every read and write of a patient's data, and every refusal. One hash chain per
-- patient (chain 'none' for refusals that named no record that exists): each row's hash covers
-- its fields and the hash before it, and audit_heads holds each chain's newest row, so an edit,
-- a deletion, a swap or a truncation breaks the chain where `carry audit verify` finds it.
create table audit_log (
    chain text not null,
    seq bigint not null,
    at bigint not null,
    actor_user_id text,
    actor_name text not null,
    role text not null,
    on_behalf_of text,
    patient_id text,
    category text not null,
    item_id text,
    action text not null,
    door text not null,
    outcome text not null,
    reason text,
    request_id text not null,
    prev_hash text not null,
    hash text not null,
    constraint audit_log_pk primary key (chain, seq)
);
create index audit_log_patient_idx on audit_log (patient_id, at);

create table audit_heads (
    chain text not null constraint audit_heads_pk primary key,
    seq bigint not null,
    hash text not null
);

-- Append-only: the database itself refuses to change or remove a row of the log.
create function audit_log_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'the access log is append-only';
end;
$$;
create trigger audit_log_no_update before update or delete on audit_log
    for each row execute function audit_log_append_only();
create trigger audit_log_no_truncate before truncate on audit_log
    for each statement execute function audit_log_append_only();

-- A chain's head only moves forward, and is never removed.
create function audit_heads_forward_only() returns trigger language plpgsql as $$
begin
    if tg_op <> 'UPDATE' or new.seq < old.seq or new.chain <> old.chain then
        raise exception 'an access log chain head only moves forward';
    end if;
    return new;
end;
$$;
create trigger audit_heads_forward before update or delete on audit_heads
    for each row execute function audit_heads_forward_only();
create trigger audit_heads_no_truncate before truncate on audit_heads
    for each statement execute function audit_heads_forward_only();
