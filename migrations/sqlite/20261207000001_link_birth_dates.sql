-- Linking a record to a practice needs the patient's date of birth: the administrator checks
-- it beside the NHS number and the name, and the shared care record match needs all three.

-- The date of birth the patient gave with their request (YYYY-MM-DD). Earlier requests take
-- the record's own date of birth where it has one (a child's record); links verified without
-- one stay verified, but nothing is pulled or sent for them until the patient gives it.
alter table practice_links add column born_on text;
update practice_links set born_on = (select p.born_on from patients p where p.id = practice_links.patient_id);

-- The date of birth a shared care record match was made with. Matches made before this was
-- kept have none, so each is made again, this time checked against the date of birth.
alter table care_record_patients add column born_on text;
