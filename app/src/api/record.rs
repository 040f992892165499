//! Server functions for a record. The reads and additions take an optional `patient` (a
//! record id, which a carer's links carry); without it they act on the caller's own record.
//! Changing existing entries is for the patient alone, so those act on the caller's own record
//! only. Whatever the id, `service` decides through the policy.

// A server function's arguments are its form's fields, one each, so some forms need many; the
// macro's browser-side stub does not carry an allow on the function itself.
#![allow(clippy::too_many_arguments)]

use crate::error::AppError;
use domain::summary::SummaryView;
use domain::views::{AboutMeView, ChartView, EntrySummaryView, EntryView, TimelineView};
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, PostUrl};

#[cfg(feature = "ssr")]
use crate::ssr::{respond, services, signed_in};
#[cfg(feature = "ssr")]
use service::{NoteForm, PrivacyForm, ReadingForm, RecordRef};

#[cfg(feature = "ssr")]
fn record(patient: &Option<String>) -> Result<RecordRef, AppError> {
    Ok(RecordRef::parse(patient.as_deref())?)
}

/// The query text that keeps a carer's links on the record they act for.
pub fn patient_query(patient: &Option<String>, first: bool) -> String {
    match patient.as_deref().map(str::trim) {
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') => {
            format!("{}patient={p}", if first { '?' } else { '&' })
        }
        _ => String::new(),
    }
}

#[cfg(feature = "ssr")]
fn entry_id(id: &str) -> Result<domain::EntryId, AppError> {
    id.trim().parse().map_err(|_| AppError::NotFound)
}

#[cfg(feature = "ssr")]
fn privacy(label: Option<String>, share: Option<String>) -> PrivacyForm {
    PrivacyForm { label: label.unwrap_or_default(), share: share.is_some_and(|s| !s.is_empty()) }
}

/// One page of the timeline. Every filter may be empty.
#[server(prefix = "/api", endpoint = "record/timeline", input = GetUrl)]
pub async fn timeline(
    types: Option<String>,
    label: Option<String>,
    from: Option<String>,
    to: Option<String>,
    after: Option<String>,
    patient: Option<String>,
) -> Result<TimelineView, AppError> {
    respond(
        async move {
            let q = service::TimelineQuery {
                types: types.unwrap_or_default(),
                label: label.unwrap_or_default(),
                from: from.unwrap_or_default(),
                to: to.unwrap_or_default(),
                after: after.unwrap_or_default(),
            };
            Ok(services()?.timeline(&signed_in()?, record(&patient)?, &q).await?)
        }
        .await,
    )
}

/// One entry with its history.
#[server(prefix = "/api", endpoint = "record/entry", input = GetUrl)]
pub async fn entry(id: String, patient: Option<String>) -> Result<EntryView, AppError> {
    respond(async move { Ok(services()?.entry(&signed_in()?, record(&patient)?, entry_id(&id)?).await?) }.await)
}

/// A chart of one kind of reading over a period.
#[server(prefix = "/api", endpoint = "record/chart", input = GetUrl)]
pub async fn chart(kind: String, period: Option<String>, patient: Option<String>) -> Result<ChartView, AppError> {
    respond(async move { Ok(services()?.chart(&signed_in()?, record(&patient)?, &kind, &period.unwrap_or_default()).await?) }.await)
}

/// Entries deleted in the last 30 days.
#[server(prefix = "/api", endpoint = "record/deleted", input = GetUrl)]
pub async fn deleted_entries() -> Result<Vec<EntrySummaryView>, AppError> {
    respond(async move { Ok(services()?.deleted_entries(&signed_in()?, RecordRef::Own).await?) }.await)
}

/// "About me", if there is one.
#[server(prefix = "/api", endpoint = "record/about-me", input = GetUrl)]
pub async fn about_me(patient: Option<String>) -> Result<Option<AboutMeView>, AppError> {
    respond(async move { Ok(services()?.about_me(&signed_in()?, record(&patient)?).await?) }.await)
}

/// The printable summary of the record.
#[server(prefix = "/api", endpoint = "record/summary", input = GetUrl)]
pub async fn record_summary(patient: Option<String>) -> Result<SummaryView, AppError> {
    respond(async move { Ok(services()?.record_summary(&signed_in()?, record(&patient)?).await?) }.await)
}

/// Adds a home reading, then shows it.
#[server(prefix = "/api", endpoint = "record/add-reading", input = PostUrl)]
pub async fn add_reading(
    kind: String,
    value: String,
    diastolic: Option<String>,
    pulse: Option<String>,
    occurred_at: String,
    label: Option<String>,
    share: Option<String>,
    patient: Option<String>,
) -> Result<(), AppError> {
    respond(
        async move {
            let form = ReadingForm { kind, value, diastolic, pulse, occurred_at };
            let id = services()?.add_reading(&signed_in()?, record(&patient)?, &form, &privacy(label, share)).await?;
            leptos_axum::redirect(&format!("/record/entries/{id}?added=1{}", patient_query(&patient, false)));
            Ok(())
        }
        .await,
    )
}

/// Adds a journal note, then shows it.
#[server(prefix = "/api", endpoint = "record/add-note", input = PostUrl)]
pub async fn add_note(
    title: String,
    text: String,
    tags: Option<String>,
    occurred_at: String,
    label: Option<String>,
    share: Option<String>,
    patient: Option<String>,
) -> Result<(), AppError> {
    respond(
        async move {
            let form = NoteForm { title, text, tags: tags.unwrap_or_default(), occurred_at };
            let id = services()?.add_note(&signed_in()?, record(&patient)?, &form, &privacy(label, share)).await?;
            leptos_axum::redirect(&format!("/record/entries/{id}?added=1{}", patient_query(&patient, false)));
            Ok(())
        }
        .await,
    )
}

/// Changes a reading's value or time.
#[server(prefix = "/api", endpoint = "record/edit-reading", input = PostUrl)]
pub async fn edit_reading(
    id: String,
    version: i64,
    value: String,
    diastolic: Option<String>,
    pulse: Option<String>,
    occurred_at: String,
) -> Result<(), AppError> {
    respond(
        async move {
            let entry = entry_id(&id)?;
            let form = ReadingForm { kind: String::new(), value, diastolic, pulse, occurred_at };
            services()?.edit_reading(&signed_in()?, RecordRef::Own, entry, version, &form).await?;
            leptos_axum::redirect(&format!("/record/entries/{entry}?saved=1"));
            Ok(())
        }
        .await,
    )
}

/// Changes a note.
#[server(prefix = "/api", endpoint = "record/edit-note", input = PostUrl)]
pub async fn edit_note(
    id: String,
    version: i64,
    title: String,
    text: String,
    tags: Option<String>,
    occurred_at: String,
) -> Result<(), AppError> {
    respond(
        async move {
            let entry = entry_id(&id)?;
            let form = NoteForm { title, text, tags: tags.unwrap_or_default(), occurred_at };
            services()?.edit_note(&signed_in()?, RecordRef::Own, entry, version, &form).await?;
            leptos_axum::redirect(&format!("/record/entries/{entry}?saved=1"));
            Ok(())
        }
        .await,
    )
}

/// Changes an entry's label and whether the GP practice may see it.
#[server(prefix = "/api", endpoint = "record/set-privacy", input = PostUrl)]
pub async fn set_entry_privacy(id: String, version: i64, label: Option<String>, share: Option<String>) -> Result<(), AppError> {
    respond(
        async move {
            let entry = entry_id(&id)?;
            services()?.set_entry_privacy(&signed_in()?, RecordRef::Own, entry, version, &privacy(label, share)).await?;
            leptos_axum::redirect(&format!("/record/entries/{entry}?privacy=1"));
            Ok(())
        }
        .await,
    )
}

/// Deletes an entry (restorable for 30 days).
#[server(prefix = "/api", endpoint = "record/delete", input = PostUrl)]
pub async fn delete_entry(id: String, version: i64) -> Result<(), AppError> {
    respond(
        async move {
            services()?.delete_entry(&signed_in()?, RecordRef::Own, entry_id(&id)?, version).await?;
            leptos_axum::redirect("/record?deleted=1");
            Ok(())
        }
        .await,
    )
}

/// Restores a deleted entry.
#[server(prefix = "/api", endpoint = "record/restore", input = PostUrl)]
pub async fn restore_entry(id: String, version: i64) -> Result<(), AppError> {
    respond(
        async move {
            let entry = entry_id(&id)?;
            services()?.restore_entry(&signed_in()?, RecordRef::Own, entry, version).await?;
            leptos_axum::redirect(&format!("/record/entries/{entry}?restored=1"));
            Ok(())
        }
        .await,
    )
}

/// Saves "about me". `version` is empty the first time.
#[server(prefix = "/api", endpoint = "record/save-about-me", input = PostUrl)]
pub async fn save_about_me(
    version: Option<String>,
    preferred_name: Option<String>,
    pronouns: Option<String>,
    languages: Option<String>,
    contact_phone: Option<String>,
    contact_email: Option<String>,
    contact_text: Option<String>,
    contact_letter: Option<String>,
    contact_times: Option<String>,
    accessibility: Option<String>,
    practice_contact: Option<String>,
    goals: Option<String>,
    label: Option<String>,
    share: Option<String>,
) -> Result<(), AppError> {
    respond(
        async move {
            let seen = match version.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(v) => Some(v.parse::<i64>().map_err(|_| AppError::BadRequest)?),
            };
            let ticked = [("phone", contact_phone), ("email", contact_email), ("text", contact_text), ("letter", contact_letter)];
            let input = domain::about_me::AboutMeInput {
                preferred_name: preferred_name.unwrap_or_default(),
                pronouns: pronouns.unwrap_or_default(),
                languages: languages.unwrap_or_default(),
                contact_methods: ticked.into_iter().filter(|(_, v)| v.is_some()).map(|(m, _)| m.to_owned()).collect(),
                contact_times: contact_times.unwrap_or_default(),
                accessibility: accessibility.unwrap_or_default(),
                practice_contact: practice_contact.unwrap_or_default(),
                goals: goals.unwrap_or_default(),
            };
            services()?.save_about_me(&signed_in()?, RecordRef::Own, &input, &privacy(label, share), seen).await?;
            leptos_axum::redirect("/record/about-me?saved=1");
            Ok(())
        }
        .await,
    )
}

/// The server's "now" in UK time, as a `datetime-local` value (forms start at it).
#[server(prefix = "/api", endpoint = "record/now", input = GetUrl)]
pub async fn now_for_forms() -> Result<String, AppError> {
    respond(async move { Ok(services()?.current_time().to_uk_input()) }.await)
}
