//! The record the NHS holds, as the patient (or a carer, within their labels) reads it, and
//! the patient's "update now".

use crate::access::{RecordRef, Touch};
use crate::error::ServiceResult;
use crate::{Services, SignedIn};
use domain::access::{Action, Role};
use domain::audit::Category;
use domain::care_record::{
    format_value, CareRecordView, Section, SectionView, SyncStatus, SyncedItem, SyncedItemView, TrendPoint, TrendView,
};
use domain::practices::LinkStatus;
use store::synced;
use store::{care_record as outbox, links};

impl Services {
    /// The record the NHS holds, by section, with where its sync stands. A carer sees only
    /// items within their labels; the read is in the patient's access log.
    pub async fn nhs_record(&self, who: &SignedIn, record: RecordRef) -> ServiceResult<CareRecordView> {
        let (mut conn, access) = self.open_read(who, record, Action::ReadEntries, Touch::of(Category::NhsRecord)).await?;
        let own = access.role() == Role::Patient;
        let Some(patient) = access.patient() else {
            return Ok(CareRecordView { status: self.status_without_link(), sections: sections(Vec::new(), own), own, not_shown: None });
        };
        let items = synced::list_items(&mut conn, access.permit()?).await?;
        // The patient and clinicians are told how many items could not be shown; a carer is
        // not (those items' labels are not known), nor anyone else.
        let not_shown = if matches!(access.role(), Role::Patient | Role::PracticeClinician) {
            Some(u32::try_from(synced::count_quarantined(&mut conn, access.permit()?).await?).unwrap_or(u32::MAX))
        } else {
            None
        };
        let status = self.sync_status(&mut conn, patient).await?;
        conn.commit().await?;
        Ok(CareRecordView { status, sections: sections(items, own), own, not_shown })
    }

    /// Where the record's sync with the shared care record stands.
    pub(crate) async fn sync_status(&self, conn: &mut store::Conn, patient: domain::PatientId) -> ServiceResult<SyncStatus> {
        let link = links::find_link(conn, patient).await?;
        let held = outbox::find_care_record_patient(conn, patient).await?.and_then(|p| p.quarantine_reason);
        let sync = synced::find_sync(conn, patient).await?;
        let now = self.now();
        Ok(if !self.care_record_connected() {
            SyncStatus::Off
        } else if link.is_none_or(|l| l.status != LinkStatus::Linked) {
            SyncStatus::NotLinked
        } else if held.is_some() {
            SyncStatus::Held
        } else {
            let running = sync.as_ref().is_some_and(|s| s.lease_until.is_some_and(|l| l > now));
            SyncStatus::On {
                last_success: sync.as_ref().and_then(|s| s.last_success_at),
                running,
                progress: sync
                    .as_ref()
                    .filter(|_| running)
                    .map(|s| (u32::try_from(s.progress.0).unwrap_or(0), u32::try_from(s.progress.1).unwrap_or(0))),
                incomplete: sync.as_ref().and_then(|s| s.incomplete.clone()),
                last_error: sync.and_then(|s| s.last_error),
            }
        })
    }

    pub(crate) fn status_without_link(&self) -> SyncStatus {
        if self.care_record_connected() {
            SyncStatus::NotLinked
        } else {
            SyncStatus::Off
        }
    }

    /// Asks for the record to be pulled now (the patient, or a carer who may read it). Does
    /// nothing without a shared care record or a linked record.
    pub async fn update_nhs_record(&self, who: &SignedIn, record: RecordRef) -> ServiceResult<()> {
        let access = self.peek(who, record, Touch::of(Category::NhsRecord)).await?;
        let Some(patient) = access.patient() else { return Ok(()) };
        if !self.care_record_connected() {
            return Ok(());
        }
        let linked = {
            let mut conn = self.db().conn().await?;
            links::find_link(&mut conn, patient).await?.is_some_and(|l| l.status == LinkStatus::Linked)
        };
        if linked {
            self.request_pull(patient).await?;
        }
        Ok(())
    }
}

/// Every section in page order, each item in words (with the source's security codes for the
/// patient's own view), and the results' trends.
pub(crate) fn sections(items: Vec<SyncedItem>, own: bool) -> Vec<SectionView> {
    Section::ALL
        .into_iter()
        .map(|section| {
            let mine: Vec<&SyncedItem> = items.iter().filter(|i| i.section == section).collect();
            let trends = if section == Section::Results { trends(&mine) } else { Vec::new() };
            SectionView {
                section,
                items: mine
                    .into_iter()
                    .map(|i| SyncedItemView {
                        title: i.title.clone(),
                        detail: i.detail.clone(),
                        date: i.occurred.clone(),
                        source: i.source.clone(),
                        origin: i.origin,
                        label: i.label,
                        security: if own { i.security_codes.clone() } else { Vec::new() },
                    })
                    .collect(),
                trends,
            }
        })
        .collect()
}

/// Each measured kind with two or more values in one unit, oldest first by instant. Values in
/// a unit commensurable with the newest value's are converted to it (UCUM); others make a
/// series of their own, titled with their unit.
fn trends(results: &[&SyncedItem]) -> Vec<TrendView> {
    let mut by_code: Vec<(&str, Vec<&SyncedItem>)> = Vec::new();
    for item in results.iter().filter(|i| i.measure.is_some()) {
        let code = item.measure.as_ref().map_or("", |m| m.code.as_str());
        match by_code.iter_mut().find(|(c, _)| *c == code) {
            Some((_, list)) => list.push(item),
            None => by_code.push((code, vec![item])),
        }
    }
    let mut out = Vec::new();
    for (_, mut list) in by_code {
        // Oldest first as instants; undated last.
        list.sort_by_key(|i| (i.occurred_at.is_none(), i.occurred_at));
        // Series in the units met, newest unit first: (unit words, UCUM code, points).
        let mut series: Vec<(String, Option<String>, Vec<TrendPoint>)> = Vec::new();
        for item in list.iter().rev() {
            let Some(m) = item.measure.as_ref() else { continue };
            let date = item.occurred.clone().unwrap_or_default();
            let fits = series.iter_mut().find_map(|(unit, ucum, points)| {
                if *unit == m.unit && *ucum == m.ucum {
                    return Some((points, TrendPoint { date: date.clone(), value: m.value, text: m.text.clone() }));
                }
                let value = domain::ucum::convert(m.value, m.ucum.as_deref()?, ucum.as_deref()?)?;
                Some((points, TrendPoint { date: date.clone(), value, text: format_value(value) }))
            });
            match fits {
                Some((points, point)) => points.push(point),
                None => series.push((m.unit.clone(), m.ucum.clone(), vec![TrendPoint { date, value: m.value, text: m.text.clone() }])),
            }
        }
        let several = series.len() > 1;
        let title = list[0].title.clone();
        for (unit, _, mut points) in series.into_iter().filter(|(_, _, p)| p.len() >= 2) {
            points.reverse();
            let title = if several { format!("{title} (in {unit})") } else { title.clone() };
            out.push(TrendView { title, unit, points });
        }
    }
    out
}
