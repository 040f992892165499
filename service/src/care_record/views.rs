//! The record the NHS holds, as the patient (or a carer, within their labels) reads it, and
//! the patient's "update now".

use crate::access::{RecordRef, Touch};
use crate::error::ServiceResult;
use crate::{Services, SignedIn};
use domain::access::{Action, Role};
use domain::audit::Category;
use domain::care_record::{CareRecordView, Section, SectionView, SyncStatus, SyncedItemView, TrendView};
use domain::practices::LinkStatus;
use store::synced::{self, ItemRow};
use store::{care_record as outbox, links};

impl Services {
    /// The record the NHS holds, by section, with where its sync stands. A carer sees only
    /// items within their labels; the read is in the patient's access log.
    pub async fn nhs_record(&self, who: &SignedIn, record: RecordRef) -> ServiceResult<CareRecordView> {
        let (mut conn, access) = self.open_read(who, record, Action::ReadEntries, Touch::of(Category::NhsRecord)).await?;
        let own = access.role() == Role::Patient;
        let Some(patient) = access.patient() else {
            return Ok(CareRecordView { status: self.status_without_link(), sections: sections(Vec::new(), own), own });
        };
        let items = synced::list_items(&mut conn, access.permit()?).await?;
        let link = links::find_link(&mut conn, patient).await?;
        let held = outbox::find_care_record_patient(&mut conn, patient).await?.and_then(|p| p.quarantine_reason);
        let sync = synced::find_sync(&mut conn, patient).await?;
        conn.commit().await?;
        let now = self.now();
        let status = if !self.care_record_connected() {
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
                last_error: sync.and_then(|s| s.last_error),
            }
        };
        Ok(CareRecordView { status, sections: sections(items, own), own })
    }

    fn status_without_link(&self) -> SyncStatus {
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
/// patient's own view), and the results' trends (a measured kind with two or more values,
/// oldest first).
fn sections(items: Vec<ItemRow>, own: bool) -> Vec<SectionView> {
    Section::ALL
        .into_iter()
        .map(|section| {
            let mine: Vec<&ItemRow> = items.iter().filter(|i| i.section == section).collect();
            let mut trends: Vec<TrendView> = Vec::new();
            if section == Section::Results {
                let mut by_code: Vec<(&str, Vec<&ItemRow>)> = Vec::new();
                for item in mine.iter().filter(|i| i.measure.is_some()) {
                    let code = item.measure.as_ref().map_or("", |m| m.0.as_str());
                    match by_code.iter_mut().find(|(c, _)| *c == code) {
                        Some((_, list)) => list.push(item),
                        None => by_code.push((code, vec![item])),
                    }
                }
                for (_, list) in by_code.into_iter().filter(|(_, l)| l.len() >= 2) {
                    let mut points: Vec<(String, f64)> =
                        list.iter().filter_map(|i| Some((i.occurred.clone().unwrap_or_default(), i.measure.as_ref()?.1))).collect();
                    points.sort_by(|a, b| a.0.cmp(&b.0));
                    let unit = list[0].measure.as_ref().map(|m| m.2.clone()).unwrap_or_default();
                    trends.push(TrendView { title: list[0].title.clone(), unit, points });
                }
            }
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
