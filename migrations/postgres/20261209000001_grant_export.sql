-- Whether a carer may take the record out of Carry: download it, or make a health link to its
-- summary (issue 19). Off for every grant that exists: a patient who gave access before this
-- existed never agreed to it, and must choose it when they invite or edit the carer.
alter table grants add column can_export bigint not null default 0
    constraint grants_can_export_check check (can_export in (0, 1));
