-- Who beyond its label may see a synced item, from the source's confidentiality and
-- sensitivity codes, matched by system and code (access-rules.md, "Labels of synced items"):
-- 'normal', 'restricted' (the patient and clinicians, never a carer) or 'no-patient'
-- (clinicians only); and the codes as the source gave them, to show.
--
-- Items pulled before this have 'unchecked': nobody sees them until Carry has read their
-- stored resource again with the full mapping (at start-up), which also corrects their label
-- (codes were once matched without their system, and unknown codes made an item general).
alter table care_record_items add column confidentiality text not null default 'unchecked'
    constraint care_record_items_confidentiality_check check (confidentiality in ('unchecked', 'normal', 'restricted', 'no-patient'));
alter table care_record_items add column security_codes text;
create index care_record_items_unchecked_idx on care_record_items (confidentiality) where confidentiality = 'unchecked';
