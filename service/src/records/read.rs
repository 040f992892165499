//! Reading the record: the timeline, one entry with its history, a chart, recently deleted
//! entries and "about me". Each read goes through [`Services::open`] and sees only the
//! labels the caller may.

use crate::access::{RecordRef, Touch};
use crate::entry_views::{step_views, summary_view, who_name};
use crate::error::{ServiceError, ServiceResult};
use crate::{Services, SignedIn};
use domain::access::{Action, Permit};
use domain::audit::Category;
use domain::charts::{plot, Period};
use domain::entries::{describe_change, Cursor, EntryBody, TimelineFilter, PAGE_SIZE, RESTORE_WINDOW};
use domain::readings::bmi;
use domain::views::{AboutMeView, ChartRow, ChartView, EntrySummaryView, EntryView, TimelineView, VersionView};
use domain::{EntryId, Reading, ReadingKind, ValidationError};
use store::entries::{self, EntryRow};

/// The timeline's filter as the form sent it; every field may be empty.
#[derive(Debug, Clone, Default)]
pub struct TimelineQuery {
    /// A `TypeFilter` slug.
    pub types: String,
    /// A label slug.
    pub label: String,
    /// From this UK date (`YYYY-MM-DD`).
    pub from: String,
    /// To this UK date, inclusive.
    pub to: String,
    /// The cursor of the page before.
    pub after: String,
}

/// The most readings one chart draws (the newest in the period).
pub const MAX_CHART_POINTS: i64 = 2000;

fn about_view(row: Option<EntryRow>) -> ServiceResult<Option<AboutMeView>> {
    let Some(row) = row else { return Ok(None) };
    let EntryBody::AboutMe(about) = row.current.body else { return Err(ServiceError::internal(&"about-me entry with another body")) };
    Ok(Some(AboutMeView {
        id: row.id,
        version: row.version,
        about,
        label: row.current.label,
        shared_with_practice: row.current.shared_with_practice,
        updated_at: row.updated_at,
    }))
}

impl Services {
    /// One page of the timeline, newest first. The filter's fields are as the form sent them
    /// (all may be empty); errors name `type`, `label`, `from`, `to` or `after`.
    pub async fn timeline(&self, who: &SignedIn, record: RecordRef, q: &TimelineQuery) -> ServiceResult<TimelineView> {
        let filter = TimelineFilter::parse(&q.types, &q.label, &q.from, &q.to, &q.after)?;
        let (mut conn, access) = self.open_read(who, record, Action::ReadEntries, Touch::of(Category::Timeline)).await?;
        if access.patient().is_none() {
            return Ok(TimelineView { entries: Vec::new(), next: None, about_me: None });
        }
        let mut rows = entries::list_timeline(&mut conn, access.permit()?, &filter, i64::from(PAGE_SIZE) + 1).await?;
        let more = rows.len() > PAGE_SIZE as usize;
        rows.truncate(PAGE_SIZE as usize);
        let next = if more { rows.last().map(|r| Cursor { occurred_at: r.current.occurred_at, id: r.id }.encode()) } else { None };
        let about_me = about_view(entries::find_about_me(&mut conn, access.permit()?).await?)?;
        conn.commit().await?;
        Ok(TimelineView { entries: rows.iter().map(|r| summary_view(who.user_id, &access, r)).collect(), next, about_me })
    }

    /// One entry with its whole history, newest change first. Deleted entries are shown too
    /// (with when they can be restored until).
    pub async fn entry(&self, who: &SignedIn, record: RecordRef, id: EntryId) -> ServiceResult<EntryView> {
        let result = self.entry_in(who, record, id).await;
        if matches!(result, Err(ServiceError::NotFound)) {
            // Someone acting for the patient asked for an entry outside what they may see.
            self.log_hidden_item(who, record, Action::ReadEntries, Touch::item(Category::Entry, id)).await?;
        }
        result
    }

    async fn entry_in(&self, who: &SignedIn, record: RecordRef, id: EntryId) -> ServiceResult<EntryView> {
        let (mut conn, access) = self.open_read(who, record, Action::ReadEntries, Touch::item(Category::Entry, id)).await?;
        let patient = access.patient().ok_or(ServiceError::NotFound)?;
        let row = entries::find_entry(&mut conn, access.permit()?, id).await?.ok_or(ServiceError::NotFound)?;
        let own = access.role() == domain::access::Role::Patient;
        // A deleted entry is the patient's to restore; to anyone else it is gone.
        if !own && row.deleted_at.is_some() {
            return Err(ServiceError::NotFound);
        }
        let versions = entries::list_versions(&mut conn, access.permit()?, id).await?;
        let mut history: Vec<VersionView> = versions
            .iter()
            .enumerate()
            .map(|(i, v)| VersionView {
                // Someone who may not see every version sees them numbered without gaps, so a
                // hidden version leaves no trace.
                version: if own { v.version } else { i as i64 + 1 },
                change: if !own && i == 0 { domain::entries::Change::Created } else { v.change },
                changed_by: who_name(who.user_id, &access, v.changed_by, &v.changed_by_name),
                recorded_at: v.recorded_at,
                // Compared with the version before it that the viewer may see (hidden ones are absent).
                details: match i.checked_sub(1).and_then(|p| versions.get(p)) {
                    None if v.change != domain::entries::Change::Created && own => vec!["Changed".to_owned()],
                    None if !own => describe_change(domain::entries::Change::Created, None, &v.state),
                    before => describe_change(v.change, before.map(|p| &p.state), &v.state),
                },
            })
            .collect();
        history.reverse();
        let whose = if own { "your" } else { "their" };
        let bmi = match &row.current.body {
            EntryBody::Reading(Reading::Weight { kg }) => self
                .latest(&mut conn, access.permit()?, ReadingKind::Height)
                .await?
                .map(|(h, text)| (bmi(*kg, h), format!("{whose} latest height, {text}"))),
            EntryBody::Reading(Reading::Height { cm }) => self
                .latest(&mut conn, access.permit()?, ReadingKind::Weight)
                .await?
                .map(|(w, text)| (bmi(w, *cm), format!("{whose} latest weight, {text}"))),
            _ => None,
        };
        let restorable_until = row.deleted_at.map(|d| d.plus(RESTORE_WINDOW)).filter(|until| *until >= self.now());
        // A review step is shown only to someone who may see the version it is about.
        let steps = store::reviews::list_for_entry(&mut conn, access.permit()?, id).await?;
        let question_waiting =
            store::reviews::find_inbox(&mut conn, id).await?.is_some_and(|i| i.state == domain::practices::InboxState::WaitingForPatient)
                && steps.last().is_some_and(|s| s.step == domain::practices::ReviewStep::Asked);
        let reviews = step_views(steps);
        // The patient's own view only: a carer's view renumbers versions so hidden ones leave no
        // trace, and a line per accepted version could count them.
        let care_record = if own {
            store::care_record::list_outbox_for_entry(&mut conn, patient, id).await?.iter().map(care_record_line).collect()
        } else {
            Vec::new()
        };
        conn.commit().await?;
        Ok(EntryView {
            summary: summary_view(who.user_id, &access, &row),
            body: row.current.body,
            history,
            restorable_until,
            bmi,
            reviews,
            question_waiting,
            care_record,
        })
    }

    /// The readings of one kind over a period, for a chart and its table.
    pub async fn chart(&self, who: &SignedIn, record: RecordRef, kind: &str, period: &str) -> ServiceResult<ChartView> {
        let kind = ReadingKind::from_slug(kind.trim()).ok_or(ServiceError::NotFound)?;
        let period = Period::from_slug(period).ok_or_else(|| ValidationError::field("period", "Choose a period from the list."))?;
        let now = self.now();
        let (mut conn, access) = self.open_read(who, record, Action::ReadEntries, Touch::of(Category::Readings(kind))).await?;
        let rows = match access.patient() {
            Some(_) => entries::list_reading_points(&mut conn, access.permit()?, kind, period.start(now), MAX_CHART_POINTS + 1).await?,
            None => Vec::new(),
        };
        let height_cm = match (kind, access.patient()) {
            (ReadingKind::Weight, Some(_)) => self.latest(&mut conn, access.permit()?, ReadingKind::Height).await?.map(|(h, _)| h),
            _ => None,
        };
        conn.commit().await?;
        let truncated = rows.len() > MAX_CHART_POINTS as usize;
        let mut readings: Vec<ChartRow> = rows
            .into_iter()
            .take(MAX_CHART_POINTS as usize)
            .filter_map(|r| match r.body {
                EntryBody::Reading(reading) => {
                    Some(ChartRow { id: r.id, occurred_at: r.occurred_at, concerning: reading.concern().is_some(), reading })
                }
                _ => None,
            })
            .collect();
        readings.reverse();
        let from = period.start(now).or_else(|| readings.first().map(|r| r.occurred_at)).unwrap_or(now);
        let points: Vec<_> = readings.iter().map(|r| (r.occurred_at, r.reading)).collect();
        Ok(ChartView { kind, period, plot: plot(kind, &points, from, now), readings, truncated, height_cm })
    }

    /// The newest visible reading of a kind: its value and how it reads.
    async fn latest(&self, conn: &mut store::Conn, permit: &Permit, kind: ReadingKind) -> ServiceResult<Option<(f64, String)>> {
        let rows = entries::list_readings(conn, permit, kind, None, 1).await?;
        Ok(rows.into_iter().find_map(|r| match r.current.body {
            EntryBody::Reading(reading) => {
                Some((reading.primary(), format!("{} on {}", reading.display(), r.current.occurred_at.to_uk_date())))
            }
            _ => None,
        }))
    }

    /// Entries deleted in the last 30 days, which can still be restored.
    pub async fn deleted_entries(&self, who: &SignedIn, record: RecordRef) -> ServiceResult<Vec<EntrySummaryView>> {
        let since = self.now().minus(RESTORE_WINDOW);
        let (mut conn, access) = self.open_read(who, record, Action::ReadEntries, Touch::of(Category::DeletedEntries)).await?;
        if access.patient().is_none() {
            return Ok(Vec::new());
        }
        let rows = entries::list_deleted(&mut conn, access.permit()?, since).await?;
        conn.commit().await?;
        Ok(rows.iter().map(|r| summary_view(who.user_id, &access, r)).collect())
    }

    /// "About me", if there is one the caller may see.
    pub async fn about_me(&self, who: &SignedIn, record: RecordRef) -> ServiceResult<Option<AboutMeView>> {
        let (mut conn, access) = self.open_read(who, record, Action::ReadEntries, Touch::of(Category::AboutMe)).await?;
        if access.patient().is_none() {
            return Ok(None);
        }
        let view = about_view(entries::find_about_me(&mut conn, access.permit()?).await?)?;
        conn.commit().await?;
        Ok(view)
    }
}

/// How an accepted version's journey to the shared care record reads to the patient.
fn care_record_line(r: &store::care_record::OutboxRow) -> String {
    use store::care_record::OutboxStatus;
    match (r.status, r.sent_at) {
        (OutboxStatus::Sent, Some(at)) => format!("Sent to the shared care record on {}", at.to_uk_string()),
        (OutboxStatus::Sent, None) => "Sent to the shared care record".to_owned(),
        (OutboxStatus::Waiting, _) => "Waiting to go to the shared care record".to_owned(),
        (OutboxStatus::Failed, _) => "Not yet in the shared care record: your GP practice has been told".to_owned(),
    }
}
