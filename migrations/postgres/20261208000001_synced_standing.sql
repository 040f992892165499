-- Whether a synced item stands as part of the record (fhir.md, "Status matters"): 'current'
-- items are shown; 'entered-in-error', 'refuted' and 'superseded' ones are kept for the
-- record's history and shown nowhere; 'quarantined' ones did not conform to FHIR R4 in what
-- Carry reads, or carried a modifier Carry does not understand: kept with the reason, counted
-- for the patient and clinicians, listed for administrators by type, id and reason only.
alter table care_record_items add column standing text not null default 'current'
    constraint care_record_items_standing_check
    check (standing in ('current', 'entered-in-error', 'refuted', 'superseded', 'quarantined'));
alter table care_record_items add column quarantine_reason text;
-- When it happened as an instant (milliseconds, UTC), so items sort as moments whatever
-- offsets the source wrote; and a result's number exactly as the source wrote it, with its
-- UCUM code, so "5.0" stays "5.0" and trends keep one unit.
alter table care_record_items add column occurred_at bigint;
alter table care_record_items add column measure_text text;
alter table care_record_items add column measure_ucum text;
drop index care_record_items_section_idx;
create index care_record_items_shown_idx on care_record_items (patient_id, standing, section, occurred_at);

-- Every item pulled before this was read without these checks: nobody sees it until Carry has
-- read its stored resource again (at start-up, as for 'unchecked' confidentiality).
update care_record_items set confidentiality = 'unchecked';

-- A pull that could not fetch everything the server said it holds (no paging it could use):
-- what is missing, in words, and since when. Cleared by a complete pull.
alter table care_record_sync add column incomplete text;
alter table care_record_sync add column incomplete_since bigint;
-- Failed pulls in a row: each waits twice as long as the one before (up to the usual interval).
alter table care_record_sync add column failures integer not null default 0;
