//! The printable summary: "about me", the problems, medicines, allergies and vaccinations the NHS
//! record holds, the latest home readings with the latest home blood pressure series averaged,
//! and who to contact. One read through the gate, in the access log as one look.

use crate::access::{RecordRef, Touch};
use crate::care_record::sections;
use crate::error::ServiceResult;
use crate::{Services, SignedIn};
use domain::access::{Action, Role};
use domain::audit::Category;
use domain::care_record::Section;
use domain::entries::EntryBody;
use domain::grants::{BirthDate, GrantStatus};
use domain::home_bp;
use domain::summary::{Contact, LatestReading, SummaryView};
use domain::{ReadingKind, Span};
use store::{entries, grants, links, patients, synced};

/// The parts of the NHS record a summary shows, in its order.
const NHS_SECTIONS: [Section; 4] = [Section::Problems, Section::Medicines, Section::Allergies, Section::Immunisations];
/// How far back a home blood pressure series may start.
const BP_LOOKBACK: Span = Span::days(home_bp::MAX_DAYS as i64 + 1);
/// The most home blood pressure readings one series can hold (four a day).
const BP_READINGS: i64 = 4 * (home_bp::MAX_DAYS as i64 + 1);

impl Services {
    /// The summary of a record, as the caller may see it (a carer: within their labels).
    pub async fn record_summary(&self, who: &SignedIn, record: RecordRef) -> ServiceResult<SummaryView> {
        let (mut conn, access) = self.open_read(who, record, Action::ReadEntries, Touch::of(Category::Summary)).await?;
        let own = access.role() == Role::Patient;
        let now = self.now();
        let mut view = SummaryView {
            patient_name: access.patient_name.clone(),
            own,
            made_at: now,
            labels: access.labels().to_vec(),
            may_export: access.also.export,
            about_me: None,
            nhs: self.status_without_link(),
            sections: sections(Vec::new(), own).into_iter().filter(|s| NHS_SECTIONS.contains(&s.section)).collect(),
            known_whole: Vec::new(),
            not_shown: None,
            readings: Vec::new(),
            home_bp: None,
            contacts: Vec::new(),
        };
        let Some(patient) = access.patient() else { return Ok(view) };
        let permit = access.permit()?;

        view.about_me = entries::find_about_me(&mut conn, permit).await?.and_then(|row| match row.current.body {
            EntryBody::AboutMe(about) => Some(about),
            _ => None,
        });
        let items = synced::list_items(&mut conn, permit).await?.into_iter().filter(|i| NHS_SECTIONS.contains(&i.section)).collect();
        view.sections = sections(items, own).into_iter().filter(|s| NHS_SECTIONS.contains(&s.section)).collect();
        view.nhs = self.sync_status(&mut conn, patient).await?;
        view.known_whole = self.known_whole(&mut conn, permit).await?.into_iter().filter(|s| NHS_SECTIONS.contains(s)).collect();
        if own {
            view.not_shown = Some(u32::try_from(synced::count_quarantined(&mut conn, permit).await?).unwrap_or(u32::MAX));
        }

        for kind in ReadingKind::ALL {
            let latest = entries::list_readings(&mut conn, permit, kind, None, 1).await?;
            if let Some(EntryBody::Reading(r)) = latest.first().map(|row| &row.current.body) {
                let at = latest[0].current.occurred_at;
                view.readings.push(LatestReading {
                    kind: kind.label().to_owned(),
                    value: r.display(),
                    at,
                    concerning: r.concern().is_some(),
                });
            }
        }
        let bp = entries::list_readings(&mut conn, permit, ReadingKind::BloodPressure, Some(now.minus(BP_LOOKBACK)), BP_READINGS).await?;
        view.home_bp = crate::entry_views::home_bp_of(&bp);

        if let Some(link) = links::find_link(&mut conn, patient).await?.filter(|l| l.status == domain::practices::LinkStatus::Linked) {
            let main = view.about_me.as_ref().map(|a| a.practice_contact.clone()).filter(|c| !c.is_empty());
            view.contacts.push(Contact {
                role: "GP practice".to_owned(),
                name: link.practice.name.clone(),
                detail: Some(match main {
                    Some(person) => format!("ODS code {}; main contact: {person}", link.practice.ods_code),
                    None => format!("ODS code {}", link.practice.ods_code),
                }),
            });
        }
        // Carers in force: every one for the patient; a carer sees only themselves (who else
        // the patient trusts is not theirs to know).
        let born = patients::find_patient(&mut conn, patient).await?.and_then(|p| p.born_on).as_deref().and_then(BirthDate::from_text);
        for g in grants::list_for_patient(&mut conn, patient).await? {
            let in_force =
                g.status == GrantStatus::Active && domain::access::grant_in_force(&g.facts(), born, now, &self.config().age_rules).is_ok();
            let shown = own || g.carer == Some(who.user_id);
            if in_force && shown {
                let role = format!("Carer ({})", g.relationship.label().to_lowercase());
                view.contacts.push(Contact { role, name: g.carer_name().to_owned(), detail: None });
            }
        }
        conn.commit().await?;
        Ok(view)
    }
}
