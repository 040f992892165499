//! One entry: its content, who may see it, its history, and changing, deleting or restoring it.

use super::add::{NoteFields, ReadingFields, WhenField};
use super::{load_problem, on_record, patient_param, ActingFor, EntryTags, PrivacyFields};
use crate::api::{entry, DeleteEntry, EditNote, EditReading, RestoreEntry, SetEntryPrivacy};
use crate::components::{ErrorSummary, Notice};
use crate::error::AppError;
use domain::entries::{EntryBody, EntryKind, Source};
use domain::views::EntryView;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_params_map, use_query_map};

fn entry_id() -> impl Fn() -> String + Copy {
    let params = use_params_map();
    move || params.read().get("id").unwrap_or_default()
}

/// The browser tab's title. Never the person's own words: leptos_meta writes the title into
/// the page head without escaping, so a note titled `</title><script>` would break out.
fn page_title(kind: EntryKind, reading: Option<domain::ReadingKind>) -> String {
    match (kind, reading) {
        (EntryKind::Reading, Some(k)) => format!("{} reading", k.label()),
        (EntryKind::AboutMe, _) => "About me".to_owned(),
        _ => "Note".to_owned(),
    }
}

/// The entry's content in full.
#[component]
fn Body(body: EntryBody) -> impl IntoView {
    match body {
        EntryBody::Reading(r) => view! { <p class="reading-value">{r.display()}</p> }.into_any(),
        // Shown as text: whatever the note contains is never read as HTML.
        EntryBody::Note(n) => view! {
            <div class="note-text pre">{n.text}</div>
            {(!n.tags.is_empty()).then(|| view! { <p class="meta">"Tags: " {n.tags.join(", ")}</p> })}
        }
        .into_any(),
        EntryBody::AboutMe(a) => {
            let rows = a.answers().into_iter().map(|(q, ans)| view! { <div><dt>{q}</dt><dd class="pre">{ans}</dd></div> }).collect_view();
            view! { <dl class="summary-list">{rows}</dl> }.into_any()
        }
    }
}

/// One entry.
#[component]
pub fn EntryPage() -> impl IntoView {
    let id = entry_id();
    let query = use_query_map();
    let flag = move |k: &str| query.read().get(k).is_some();
    let privacy = ServerAction::<SetEntryPrivacy>::new();
    let delete = ServerAction::<DeleteEntry>::new();
    let restore = ServerAction::<RestoreEntry>::new();
    let patient = patient_param();
    let data = Resource::new(
        {
            let patient = patient.clone();
            move || (id(), privacy.version().get(), restore.version().get(), patient.clone())
        },
        |(id, _, _, patient)| entry(id, patient),
    );
    let error = Signal::derive(move || {
        privacy
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| delete.value().get().and_then(Result::err))
            .or_else(|| restore.value().get().and_then(Result::err))
    });
    view! {
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let v: EntryView = match data.await {
                    Ok(v) => v,
                    Err(e) => return load_problem(e, "Entry", format!("/record/entries/{}", id())),
                };
                let s = v.summary.clone();
                let entry_id = s.id.to_string();
                let deleted = s.deleted_at.is_some();
                let history = v.history.iter().map(|h| {
                    let details = h.details.iter().map(|d| view! { <li>{d.clone()}</li> }).collect_view();
                    view! {
                        <li>
                            <p class="meta"><time datetime=h.recorded_at.to_uk_input()>{h.recorded_at.to_uk_string()}</time> " by " {h.changed_by.clone()}</p>
                            <ul>{details}</ul>
                        </li>
                    }
                }).collect_view();
                let title = s.title.clone();
                let patient = patient_param();
                let own = patient.is_none();
                view! {
                    <Title text=page_title(s.kind, s.reading_kind)/>
                    <ActingFor patient=patient.clone()/>
                    <p><a href=on_record("/record", &patient)>{if own { "Back to your record" } else { "Back to their record" }}</a></p>
                    <h1>{title} " " <EntryTags label=s.label shared=s.shared_with_practice/></h1>
                    {flag("added").then(|| view! { <Notice><p>"Saved to your record."</p></Notice> })}
                    {flag("saved").then(|| view! { <Notice><p>"Your change is saved. The earlier version is kept in the history below."</p></Notice> })}
                    {flag("privacy").then(|| view! { <Notice><p>"Who can see this entry has been updated."</p></Notice> })}
                    {flag("restored").then(|| view! { <Notice><p>"The entry is back in your record."</p></Notice> })}
                    <ErrorSummary error=error/>
                    {s.concern.clone().map(|c| view! {
                        <div class="concern-panel" role="note">
                            <h2>{c.summary}</h2>
                            <p>{c.advice}</p>
                        </div>
                    })}
                    <Body body=v.body.clone()/>
                    {v.bmi.clone().map(|(bmi, from)| view! { <p>"BMI " <strong>{format!("{bmi:.1}")}</strong> " (worked out from this and " {from} ")."</p> })}
                    <p class="meta">
                        {match s.kind { domain::entries::EntryKind::Reading => "Taken ", _ => "Dated " }}
                        <time datetime=s.occurred_at.to_uk_input()>{s.occurred_at.to_uk_string()}</time>
                        ". Entered by " {s.entered_by.clone()}
                        {match s.source { Source::Carry => " in Carry.", Source::Sync => ", from your NHS record." }}
                    </p>
                    <super::practice::ReviewSection steps=v.reviews.clone() question_waiting=v.question_waiting id=s.id patient=patient.clone() care_record=v.care_record.clone()/>
                    {if !own {
                        // Only the patient changes, relabels, deletes or restores entries.
                        ().into_any()
                    } else if deleted {
                        let until = v.restorable_until;
                        let restore_id = entry_id.clone();
                        view! {
                            <div class="inset">
                                {match until {
                                    Some(u) => view! {
                                        <p>"You deleted this entry. You can restore it until " {u.to_uk_date()} "."</p>
                                        <ActionForm action=restore>
                                            <input type="hidden" name="id" value=restore_id.clone()/>
                                            <input type="hidden" name="version" value=s.version.to_string()/>
                                            <button type="submit" class="button">"Restore this entry"</button>
                                        </ActionForm>
                                    }.into_any(),
                                    None => view! { <p>"You deleted this entry more than 30 days ago. It is kept in your record's history but can no longer be restored."</p> }.into_any(),
                                }}
                            </div>
                        }.into_any()
                    } else {
                        let edit_href = match s.kind {
                            domain::entries::EntryKind::AboutMe => "/record/about-me".to_owned(),
                            _ => format!("/record/entries/{entry_id}/edit"),
                        };
                        let (privacy_id, delete_id) = (entry_id.clone(), entry_id.clone());
                        view! {
                            <p><a class="button secondary" href=edit_href>"Change this entry"</a></p>
                            <h2>"Who can see this"</h2>
                            <ActionForm action=privacy attr:novalidate="">
                                <input type="hidden" name="id" value=privacy_id.clone()/>
                                <input type="hidden" name="version" value=s.version.to_string()/>
                                <PrivacyFields label=s.label share=s.shared_with_practice error=Signal::derive(move || error.get().and_then(|e| e.field("label")))/>
                                <button type="submit" class="button secondary">"Save who can see this"</button>
                            </ActionForm>
                            {(s.kind != EntryKind::AboutMe).then(|| view! {
                                <h2>"Delete"</h2>
                                <p>"You can restore a deleted entry for 30 days."</p>
                                <ActionForm action=delete>
                                    <input type="hidden" name="id" value=delete_id.clone()/>
                                    <input type="hidden" name="version" value=s.version.to_string()/>
                                    <button type="submit" class="button warning">"Delete this entry"</button>
                                </ActionForm>
                            })}
                        }.into_any()
                    }}
                    <h2>"History"</h2>
                    <ol class="history">{history}</ol>
                }.into_any()
            })}
        </Suspense>
    }
}

/// Change a reading or a note. The earlier version is kept.
#[component]
pub fn EditEntryPage() -> impl IntoView {
    let id = entry_id();
    let data = Resource::new(id, |id| entry(id, None));
    let reading = ServerAction::<EditReading>::new();
    let note = ServerAction::<EditNote>::new();
    let error = Signal::derive(move || reading.value().get().and_then(Result::err).or_else(|| note.value().get().and_then(Result::err)));
    let field = move |f: &'static str| Signal::derive(move || error.get().and_then(|e: AppError| e.field(f)));
    view! {
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let v = match data.await {
                    Ok(v) => v,
                    Err(e) => return load_problem(e, "Change an entry", format!("/record/entries/{}/edit", id())),
                };
                let s = v.summary.clone();
                let back = format!("/record/entries/{}", s.id);
                let at = s.occurred_at.to_uk_input();
                let form = match v.body {
                    EntryBody::Reading(r) => view! {
                        <ActionForm action=reading attr:novalidate="">
                            <input type="hidden" name="id" value=s.id.to_string()/>
                            <input type="hidden" name="version" value=s.version.to_string()/>
                            <ReadingFields kind=r.kind() current=Some(r) error=error/>
                            <WhenField label="When did you take it?" value=at.clone() error=field("occurred_at")/>
                            <button type="submit" class="button">"Save changes"</button>
                        </ActionForm>
                    }.into_any(),
                    EntryBody::Note(n) => view! {
                        <ActionForm action=note attr:novalidate="">
                            <input type="hidden" name="id" value=s.id.to_string()/>
                            <input type="hidden" name="version" value=s.version.to_string()/>
                            <NoteFields title=n.title text=n.text tags=n.tags.join(", ") error=error/>
                            <WhenField label="Date and time of the note" value=at.clone() error=field("occurred_at")/>
                            <button type="submit" class="button">"Save changes"</button>
                        </ActionForm>
                    }.into_any(),
                    EntryBody::AboutMe(_) => view! { <Redirect path="/record/about-me"/> }.into_any(),
                };
                let heading = format!("Change: {}", s.title);
                view! {
                    <Title text=format!("Change: {}", page_title(s.kind, s.reading_kind))/>
                    <h1>{heading}</h1>
                    <p>"Your earlier version is kept in the entry\u{2019}s history."</p>
                    <ErrorSummary error=error/>
                    {form}
                    <p><a href=back>"Cancel"</a></p>
                }.into_any()
            })}
        </Suspense>
    }
}
