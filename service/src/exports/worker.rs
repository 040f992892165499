//! Preparing copies: the worker takes queued copies one at a time, decides the asker's access
//! again, and writes the Bundle and the readable document a page of the record at a time.

use super::document as doc;
use super::Subject;
use crate::care_record::sections;
use crate::error::ServiceResult;
use crate::Services;
use domain::access::{Action, Permit, Role};
use domain::audit::{describe, Category, Touch};
use domain::entries::{describe_change, Cursor, EntryBody, TimelineFilter};
use domain::exports::{ExportFormat, KEPT_FOR};
use domain::grants::GrantStatus;
use domain::Span;
use fhir::api::{Served, ServedEntry};
use fhir::export::{self as fx, ExportGrant, ExportLogRow, GrantState};
use serde_json::Value;
use std::time::Duration;
use store::audit::LogFilter;
use store::entries::{EntryRow, VersionRow};
use store::exports::{self, ExportRow};
use store::{audit, entries, grants, synced};
use tokio::fs::File;
use tokio::io::{AsyncWriteExt, BufWriter};

/// Entries, items or log rows read at once.
const PAGE: i64 = 200;

/// The two files being written, and how far.
struct Out {
    json: BufWriter<File>,
    html: BufWriter<File>,
    entries: usize,
    done: i64,
}

impl Out {
    async fn resource(&mut self, full_url: Option<&str>, resource: Value) -> std::io::Result<()> {
        let entry = match full_url {
            Some(url) => fx::entry(url, resource),
            None => serde_json::json!({ "resource": resource }),
        };
        if self.entries > 0 {
            self.json.write_all(b",\n").await?;
        }
        self.json.write_all(entry.to_string().as_bytes()).await?;
        self.entries += 1;
        Ok(())
    }

    async fn html(&mut self, text: &str) -> std::io::Result<()> {
        self.html.write_all(text.as_bytes()).await
    }
}

/// Why a copy could not be prepared, in words for the person who asked.
type Failure = String;

impl Services {
    /// Prepares queued copies until the process ends, and removes expired ones. Copies a
    /// stopped server left half-written start again.
    pub async fn run_export_worker(self) {
        match self.db().conn().await {
            Ok(mut conn) => {
                if let Err(e) = exports::requeue_running(&mut conn, self.now()).await {
                    tracing::error!(error = %e, "copies left half-prepared could not be queued again");
                }
            }
            Err(e) => tracing::error!(error = %e, "the export worker could not reach the database"),
        }
        let wakeup = self.inner.export_wakeup.clone();
        loop {
            if let Err(e) = self.prepare_queued_exports().await {
                tracing::error!(error = %e, "preparing copies failed; will retry");
            }
            if let Err(e) = self.sweep_exports().await {
                tracing::warn!(error = %e, "removing expired copies failed; will retry");
            }
            if let Err(e) = self.sweep_health_link_files().await {
                tracing::warn!(error = %e, "removing health link files past their hour failed; will retry");
            }
            let _ = tokio::time::timeout(Duration::from_secs(30), wakeup.notified()).await;
        }
    }

    /// Prepares every queued copy; returns how many it took.
    pub async fn prepare_queued_exports(&self) -> ServiceResult<usize> {
        let mut taken = 0;
        loop {
            let job = {
                let mut conn = self.db().conn().await?;
                exports::claim_queued(&mut conn, self.now()).await?
            };
            let Some(job) = job else { return Ok(taken) };
            taken += 1;
            let outcome = self.prepare(&job).await;
            let now = self.now();
            let mut conn = self.db().conn().await?;
            match outcome {
                Ok(Ok(sizes)) => exports::update_ready(&mut conn, &job.id, sizes, now.plus(KEPT_FOR), now).await?,
                Ok(Err(failure)) => {
                    self.remove_files(&job.id).await;
                    exports::update_failed(&mut conn, &job.id, &failure, now.plus(KEPT_FOR), now).await?;
                }
                Err(e) => {
                    self.remove_files(&job.id).await;
                    tracing::error!(error = %e, export = %job.id, "a copy could not be prepared");
                    exports::update_failed(
                        &mut conn,
                        &job.id,
                        "Something went wrong on our side. Please ask for a new copy.",
                        now.plus(KEPT_FOR),
                        now,
                    )
                    .await?;
                }
            }
        }
    }

    /// Removes copies whose hour is up, with their files.
    pub async fn sweep_exports(&self) -> ServiceResult<()> {
        let ids = {
            let mut conn = self.db().conn().await?;
            exports::delete_expired(&mut conn, self.now()).await?
        };
        for id in ids {
            self.remove_files(&id).await;
        }
        Ok(())
    }

    async fn remove_files(&self, id: &str) {
        for format in [ExportFormat::Fhir, ExportFormat::Readable] {
            for path in [self.export_path(id, format), part_path(&self.export_path(id, format))] {
                if let Err(e) = tokio::fs::remove_file(&path).await {
                    if e.kind() != std::io::ErrorKind::NotFound {
                        tracing::warn!(error = %e, path = %path.display(), "a copy's file could not be removed");
                    }
                }
            }
        }
    }

    /// Writes one copy's two files; their sizes, or why it could not.
    async fn prepare(&self, job: &ExportRow) -> ServiceResult<Result<(i64, i64), Failure>> {
        let mut conn = self.db().conn().await?;
        // Decided again now: access that ended or narrowed since the copy was asked for gives
        // nothing (the refusal is in the patient's log, as every refusal is).
        let what = Touch::item(Category::ExportPrepared, &job.id);
        let Ok(permit) = self.open_for_job(&mut conn, job.patient_id, job.requested_by, Action::Export, what).await? else {
            return Ok(Err("It could not be made: you no longer have access to this record.".to_owned()));
        };
        if job.labels.iter().any(|l| !permit.labels().contains(l)) {
            return Ok(Err("It could not be made: your access no longer covers everything you asked for.".to_owned()));
        }
        let Ok(permit) = permit.narrowed(&job.labels) else {
            return Ok(Err("It could not be made: your access no longer covers everything you asked for.".to_owned()));
        };
        let own = permit.role() == Role::Patient;
        let with_log = job.with_access_log && own;
        let Some(subject) = Subject::load(&mut conn, job.patient_id).await? else {
            return Ok(Err("The record no longer exists.".to_owned()));
        };
        let mut total = entries::count_visible(&mut conn, &permit).await? + synced::count_visible(&mut conn, &permit).await?;
        if with_log {
            total += audit::count_for_patient(&mut conn, &permit).await?;
        }
        exports::update_progress(&mut conn, &job.id, 0, total, self.now()).await?;

        let mut folder = tokio::fs::DirBuilder::new();
        folder.recursive(true);
        #[cfg(unix)]
        folder.mode(0o700);
        folder.create(&self.config().export_dir).await.map_err(io)?;
        let part = |format| part_path(&self.export_path(&job.id, format));
        let (json_part, html_part) = (part(ExportFormat::Fhir), part(ExportFormat::Readable));
        let mut out = Out {
            json: BufWriter::new(private_file(&json_part).await.map_err(io)?),
            html: BufWriter::new(private_file(&html_part).await.map_err(io)?),
            entries: 0,
            done: 0,
        };
        let made_at = self.now();
        let facts = Facts { job, permit: &permit, subject: &subject, nhs_number: subject.nhs_number.clone().unwrap_or_default(), total };
        out.json.write_all(fx::bundle_open(&job.id, made_at).as_bytes()).await.map_err(io)?;
        out.html(&doc::open(&subject.name, made_at, &job.labels, with_log)).await.map_err(io)?;
        out.resource(Some(&fx::urn(&subject.id)), fx::patient(&subject.as_export())).await.map_err(io)?;

        self.write_entries(&mut conn, &facts, &mut out).await?;
        self.write_synced(&mut conn, &facts, &mut out).await?;
        if own {
            self.write_carers(&mut conn, &facts, &mut out).await?;
        }
        if with_log {
            self.write_log(&mut conn, &facts, &mut out).await?;
        }
        out.json.write_all(fx::BUNDLE_CLOSE.as_bytes()).await.map_err(io)?;
        out.html(doc::CLOSE).await.map_err(io)?;
        out.json.flush().await.map_err(io)?;
        out.html.flush().await.map_err(io)?;
        let (json, html) = (out.json.into_inner(), out.html.into_inner());
        json.sync_all().await.map_err(io)?;
        html.sync_all().await.map_err(io)?;
        let sizes = (json.metadata().await.map_err(io)?.len(), html.metadata().await.map_err(io)?.len());
        tokio::fs::rename(&json_part, self.export_path(&job.id, ExportFormat::Fhir)).await.map_err(io)?;
        tokio::fs::rename(&html_part, self.export_path(&job.id, ExportFormat::Readable)).await.map_err(io)?;
        Ok(Ok((i64::try_from(sizes.0).unwrap_or(i64::MAX), i64::try_from(sizes.1).unwrap_or(i64::MAX))))
    }

    /// Notes how far the copy has got.
    async fn progress(&self, conn: &mut store::Conn, facts: &Facts<'_>, out: &Out) -> ServiceResult<()> {
        exports::update_progress(conn, &facts.job.id, out.done, facts.total.max(out.done), self.now()).await?;
        Ok(())
    }

    /// The patient's own entries (and "about me"), each with every version they may see and
    /// its Provenance.
    async fn write_entries(&self, conn: &mut store::Conn, facts: &Facts<'_>, out: &mut Out) -> ServiceResult<()> {
        out.html(&doc::heading("Entries in the record")).await.map_err(io)?;
        let entry_system = self.config().identifier_system("entry");
        let rules = self.security_rules();
        let patient_url = fx::urn(&facts.subject.id);
        let mut filter = TimelineFilter::default();
        let mut any = false;
        loop {
            let page = entries::list_timeline(conn, facts.permit, &filter, PAGE).await?;
            let ids: Vec<_> = page.iter().map(|e| e.id).collect();
            let versions = entries::list_versions_of(conn, facts.permit, &ids).await?;
            for row in &page {
                any = true;
                let mine: Vec<&VersionRow> = versions.iter().filter(|v| v.entry_id == row.id).collect();
                for v in &mine {
                    let author = facts.subject.author(row.entered_by, &row.entered_by_name);
                    let served = ServedEntry {
                        entry_system: &entry_system,
                        entry_id: row.id,
                        version: v.version,
                        entry_version: v.version,
                        body: &v.state.body,
                        occurred_at: v.state.occurred_at,
                        updated_at: v.recorded_at,
                        changed_at: v.recorded_at,
                        author,
                        changed_by: facts.subject.author(v.changed_by, &v.changed_by_name),
                        nhs_number: &facts.nhs_number,
                        patient_url: Some(&patient_url),
                    };
                    let kind = Served::of_kind(v.state.body.kind());
                    if let Some(mut resource) = fhir::api::resource(kind, &served) {
                        resource["meta"]["security"] = Value::Array(fhir::security::security_codings(v.state.label, &rules));
                        out.resource(Some(&self.config().link(&format!("/fhir/{}/{}", kind.name(), row.id))), resource)
                            .await
                            .map_err(io)?;
                    }
                    if let Some(mut provenance) = fhir::api::resource(Served::Provenance, &served) {
                        provenance["target"] =
                            serde_json::json!([{ "reference": format!("{}/{}/_history/{}", kind.name(), row.id, v.version) }]);
                        let id = fhir::api::provenance_id(row.id, v.version);
                        out.resource(Some(&self.config().link(&format!("/fhir/Provenance/{id}"))), provenance).await.map_err(io)?;
                    }
                }
                out.html(&entry_html(row, &mine)).await.map_err(io)?;
                out.done += 1;
            }
            self.progress(conn, facts, out).await?;
            match page.last() {
                Some(last) if page.len() as i64 == PAGE => {
                    filter.after = Some(Cursor { occurred_at: last.current.occurred_at, id: last.id });
                }
                _ => break,
            }
        }
        if !any {
            out.html(&doc::para("There are no entries with these labels.")).await.map_err(io)?;
        }
        Ok(())
    }

    /// Items pulled from the shared care record, as it sent them, at their address there.
    async fn write_synced(&self, conn: &mut store::Conn, facts: &Facts<'_>, out: &mut Out) -> ServiceResult<()> {
        let base = self.config().care_record.as_ref().map(|c| c.base_url.as_str().trim_end_matches('/').to_owned());
        let mut after: Option<(String, String)> = None;
        loop {
            let page = synced::list_resources(conn, facts.permit, after.as_ref().map(|(t, i)| (t.as_str(), i.as_str())), PAGE).await?;
            for item in &page {
                let Ok(resource) = serde_json::from_str::<Value>(&item.resource) else {
                    tracing::warn!(export = %facts.job.id, id = %item.remote_id, "a held resource is not JSON; left out of the copy");
                    continue;
                };
                let url = base.as_ref().map(|b| format!("{b}/{}/{}", item.resource_type, item.remote_id));
                out.resource(url.as_deref(), resource).await.map_err(io)?;
                out.done += 1;
            }
            self.progress(conn, facts, out).await?;
            match page.last() {
                Some(last) if page.len() as i64 == PAGE => after = Some((last.resource_type.clone(), last.remote_id.clone())),
                _ => break,
            }
        }
        // The readable part reads the items as the record's pages show them, by section.
        let own = facts.permit.role() == Role::Patient;
        out.html(&doc::heading("From the NHS record")).await.map_err(io)?;
        let items = synced::list_items(conn, facts.permit).await?;
        if items.is_empty() {
            out.html(&doc::para("Carry holds nothing from the NHS record with these labels.")).await.map_err(io)?;
        }
        for section in sections(items, own).into_iter().filter(|s| !s.items.is_empty()) {
            let mut html = format!("<h3>{}</h3>", doc::escape(section.section.heading()));
            html.push_str(&doc::table(&["What", "Details", "When", "From"]));
            for i in &section.items {
                html.push_str(&doc::row(&[
                    &i.title,
                    i.detail.as_deref().unwrap_or(""),
                    i.date.as_deref().unwrap_or(""),
                    i.source.as_deref().unwrap_or(""),
                ]));
            }
            html.push_str(doc::TABLE_CLOSE);
            out.html(&html).await.map_err(io)?;
        }
        Ok(())
    }

    /// The patient's carers and their access (the patient's own copy only).
    async fn write_carers(&self, conn: &mut store::Conn, facts: &Facts<'_>, out: &mut Out) -> ServiceResult<()> {
        let rules = self.security_rules();
        let now = self.now();
        let patient_ref = fx::patient_reference(&facts.subject.as_export());
        let rows = grants::list_for_patient(conn, facts.permit.patient()).await?;
        out.html(&doc::heading("Carers and their access")).await.map_err(io)?;
        if rows.is_empty() {
            out.html(&doc::para("Nobody has been given access.")).await.map_err(io)?;
            return Ok(());
        }
        let mut html = doc::table(&["Carer", "Related as", "May", "From", "Until", "Now"]);
        for g in &rows {
            let state = match g.status {
                GrantStatus::Invited => GrantState::Proposed,
                GrantStatus::Active if g.starts_at <= now && now < g.ends_at => GrantState::Active,
                GrantStatus::Declined => GrantState::Rejected,
                GrantStatus::Active | GrantStatus::Revoked | GrantStatus::Cancelled => GrantState::Inactive,
            };
            let (id, consent_id) = (g.id.to_string(), uuid::Uuid::new_v4().to_string());
            let export = ExportGrant {
                id: &id,
                consent_id: &consent_id,
                carer_name: g.carer_name(),
                relationship: (g.relationship.code(), g.relationship.label()),
                basis: g.basis.label(),
                state,
                labels: g.labels.iter().map(|l| (*l, fhir::security::security_codings(*l, &rules))).collect(),
                can_add: g.can_add,
                can_export: g.can_export,
                period: (g.starts_at, g.ends_at),
                given_at: g.created_at,
            };
            out.resource(Some(&fx::urn(&id)), fx::related_person(&export, &patient_ref)).await.map_err(io)?;
            out.resource(Some(&fx::urn(&consent_id)), fx::consent(&export, &patient_ref)).await.map_err(io)?;
            let scope = domain::grants::scope_words(&g.labels, g.can_add, g.can_export);
            let last_day = g.ends_at.minus(Span::millis(1)).to_uk_date();
            html.push_str(&doc::row(&[
                g.carer_name(),
                g.relationship.label(),
                &scope,
                &g.starts_at.to_uk_date(),
                &last_day,
                g.status.slug(),
            ]));
        }
        html.push_str(doc::TABLE_CLOSE);
        out.html(&html).await.map_err(io)?;
        Ok(())
    }

    /// Who has looked at the record, newest first (the patient's own copy only).
    async fn write_log(&self, conn: &mut store::Conn, facts: &Facts<'_>, out: &mut Out) -> ServiceResult<()> {
        let patient_ref = fx::patient_reference(&facts.subject.as_export());
        let viewer = facts.permit.user();
        out.html(&doc::heading("Who has looked at the record")).await.map_err(io)?;
        out.html(&doc::table(&["When", "What happened"])).await.map_err(io)?;
        let mut filter = LogFilter::default();
        loop {
            let page = audit::list_for_patient(conn, facts.permit, &filter, PAGE).await?;
            let mut html = String::new();
            for row in &page {
                let ev = row.event()?;
                let words = describe(viewer, ev.actor, &ev.actor_name, ev.role, ev.category, ev.action, ev.refused);
                let id = uuid::Uuid::new_v4().to_string();
                let role_words = ev.role.slug().replace('-', " ");
                let export = ExportLogRow {
                    id: &id,
                    at: ev.at,
                    actor_name: &ev.actor_name,
                    role: &role_words,
                    action: audit_action(ev.action),
                    words: &words,
                    refused: ev.refused.map(|r| r.words()),
                    seq: row.seq,
                    hash: &row.hash,
                };
                out.resource(Some(&fx::urn(&id)), fx::audit_event(&export, &patient_ref)).await.map_err(io)?;
                html.push_str(&doc::row(&[&ev.at.to_uk_string(), &words]));
                out.done += 1;
            }
            out.html(&html).await.map_err(io)?;
            self.progress(conn, facts, out).await?;
            match page.last() {
                Some(last) if page.len() as i64 == PAGE => filter.before = Some(last.seq),
                _ => break,
            }
        }
        out.html(doc::TABLE_CLOSE).await.map_err(io)?;
        Ok(())
    }
}

/// What every part of one copy needs.
struct Facts<'a> {
    job: &'a ExportRow,
    permit: &'a Permit,
    subject: &'a Subject,
    nhs_number: String,
    total: i64,
}

/// An entry in the readable copy: what it is, its label and who entered it, and each version.
fn entry_html(row: &EntryRow, versions: &[&VersionRow]) -> String {
    let body = &row.current.body;
    let mut lines = vec![format!("{} \u{2014} {}", row.current.occurred_at.to_uk_string(), row.current.label.label())];
    match body {
        EntryBody::Note(n) => lines.extend(n.text.lines().map(str::to_owned)),
        EntryBody::AboutMe(a) => lines.extend(a.answers().into_iter().map(|(q, a)| format!("{q}: {a}"))),
        EntryBody::Reading(_) => lines.push(body.summary()),
    }
    let mut before = None;
    let history: Vec<String> = versions
        .iter()
        .map(|v| {
            let what = describe_change(v.change, before, &v.state).join("; ");
            before = Some(&v.state);
            format!("{}: {what}, by {}", v.recorded_at.to_uk_string(), v.changed_by_name)
        })
        .collect();
    doc::entry(&body.title(), &lines, &history)
}

/// An AuditEvent's action code for what the row did.
fn audit_action(action: Action) -> &'static str {
    match action {
        Action::ReadEntries | Action::ReadAccessLog | Action::ReadShared | Action::Export => "R",
        Action::AddEntries | Action::AddCareNote | Action::WriteAboutMe => "C",
        Action::ChangeEntries | Action::ManageAccess | Action::Review | Action::VerifyLink | Action::OfferRecord => "U",
    }
}

/// Where a file is written until it is whole (`{id}.json.part`): a copy is offered only once
/// both of its files are renamed into place.
fn part_path(path: &std::path::Path) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".part");
    name.into()
}

/// A file only Carry's own user may read.
async fn private_file(path: &std::path::Path) -> std::io::Result<File> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path).await
}

fn io(e: std::io::Error) -> crate::error::ServiceError {
    crate::error::ServiceError::internal(&format!("a copy's file: {e}"))
}
