//! The review inbox and one patient's shared entries, where a clinician accepts, notes, rejects
//! or asks, and a social care worker reads what is labelled for social care and adds notes.

use crate::api::{inbox, shared_record, AddCareNote, ReviewEntries};
use crate::components::{ErrorSummary, Field, Notice, TextArea};
use crate::pages::record::load_problem;
use domain::home_bp::{HomeBpSummary, Verdict};
use domain::practice_views::{InboxPatientView, SharedEntryView};
use domain::practices::ReviewStep;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The home blood pressure summary, with the readings behind it.
#[component]
fn HomeBp(s: HomeBpSummary) -> impl IntoView {
    let class = match s.verdict {
        Verdict::AtOrAboveThreshold => "concern",
        _ => "",
    };
    view! {
        <section class="bp-summary" aria-label="Home blood pressure">
            <h3>"Home blood pressure"</h3>
            <p class=class>{s.words()}</p>
            <p class="hint">"NICE NG136: twice daily for at least 4 days, ideally 7; the first day discarded; home threshold 135/85 mmHg."</p>
        </section>
    }
}

fn step_line(s: &domain::practice_views::ReviewStepView) -> String {
    let what = match s.step {
        ReviewStep::Accepted => "Accepted",
        ReviewStep::Noted => "Noted",
        ReviewStep::Rejected => "Rejected",
        ReviewStep::Asked => "Asked the patient",
        ReviewStep::Answered => "The patient answered",
    };
    let by = if s.step == ReviewStep::Answered { String::new() } else { format!(" by {}", s.by) };
    match &s.message {
        Some(m) => format!("{what}{by}, {}: {m}", s.at.to_uk_string()),
        None => format!("{what}{by}, {}", s.at.to_uk_string()),
    }
}

/// One shared entry; waiting ones can be ticked for a decision.
#[component]
fn SharedEntry(e: SharedEntryView, index: usize, choose: bool) -> impl IntoView {
    let box_id = format!("entry-{}", e.entry.id);
    let value = format!("{}:{}", e.entry.id, e.entry.version);
    let steps = e.steps.iter().map(|s| view! { <li>{step_line(s)}</li> }).collect_view();
    let title = e.entry.title.clone();
    view! {
        <li class="entry">
            <p class="entry-title">
                {(choose && e.waiting).then(|| view! {
                    <input type="checkbox" id=box_id.clone() name=format!("entries[{index}]") value=value/>
                    " "
                })}
                <label for=box_id>{title}</label>
                " " <span class="tag">{e.entry.label.label()}</span>
                {e.waiting.then(|| view! { " " <span class="tag">"Waiting for review"</span> })}
            </p>
            <p class="entry-summary">{e.detail.clone()}</p>
            {e.entry.concern.clone().map(|c| view! { <p class="concern"><strong>"Concerning: "</strong>{c.summary}</p> })}
            <p class="meta">{e.entry.occurred_at.to_uk_string()} ". Entered by " {e.entry.entered_by.clone()} "."</p>
            {(!e.steps.is_empty()).then(|| view! { <ul class="review-steps">{steps}</ul> })}
        </li>
    }
}

fn patient_heading(p: &InboxPatientView) -> String {
    let born = p.born_on.clone().map(|b| format!(", born {b}")).unwrap_or_default();
    format!("{} (NHS {}{born})", p.name, p.nhs_number)
}

/// The practice's review inbox.
#[component]
pub fn InboxPage() -> impl IntoView {
    let query = use_query_map();
    let after = move || query.read().get("after");
    let data = Resource::new(after, inbox);
    view! {
        <Title text="Review inbox"/>
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let v = match data.await {
                    Ok(v) => v,
                    Err(e) => return load_problem(e, "Review inbox", "/practice/inbox".to_owned()),
                };
                let empty = v.patients.is_empty();
                let patients = v.patients.into_iter().map(|p| {
                    let href = format!("/practice/patients/{}", p.patient_id);
                    let heading = patient_heading(&p);
                    let entries = p.entries.into_iter().enumerate().map(|(i, e)| view! { <SharedEntry e=e index=i choose=false/> }).collect_view();
                    view! {
                        <section class="inbox-patient">
                            <h2>
                                {p.flagged.then(|| view! { <span class="tag concern">"Concerning value"</span> " " })}
                                <a href=href>{heading}</a>
                            </h2>
                            {p.home_bp.map(|s| view! { <HomeBp s=s/> })}
                            <ul class="timeline">{entries}</ul>
                        </section>
                    }
                }).collect_view();
                let next = v.next.map(|n| view! { <p><a href=format!("/practice/inbox?after={n}")>"Next patients"</a></p> });
                view! {
                    <h1>"Review inbox"</h1>
                    <p>{v.waiting_entries} " entries from " {v.waiting_patients} " patients are waiting. Patients with a concerning value come first, then those waiting longest."</p>
                    {if empty { view! { <p>"Nothing is waiting for review."</p> }.into_any() } else { patients.into_any() }}
                    {next}
                    <p><a href="/practice">"Back to your practice"</a></p>
                }.into_any()
            })}
        </Suspense>
    }
}

/// One patient's shared entries, with the review form (clinicians) or the social care note
/// form (social care workers).
#[component]
pub fn PatientSharedPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let review = ServerAction::<ReviewEntries>::new();
    let note = ServerAction::<AddCareNote>::new();
    let data = Resource::new(move || (id(), review.version().get(), note.version().get()), |(id, _, _)| shared_record(id));
    let query = use_query_map();
    let flag = move |k: &str| query.read().get(k).is_some();
    let review_error = Signal::derive(move || review.value().get().and_then(Result::err));
    let note_error = Signal::derive(move || note.value().get().and_then(Result::err));
    let note_field = move |f: &'static str| Signal::derive(move || note_error.get().and_then(|e| e.field(f)));
    let message_error = Signal::derive(move || review_error.get().and_then(|e| e.field("message")));
    view! {
        <Title text="Shared with the practice"/>
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let p = match data.await {
                    Ok(p) => p,
                    Err(e) => return load_problem(e, "Shared with the practice", format!("/practice/patients/{}", id())),
                };
                let patient = p.patient_id.to_string();
                let patient2 = patient.clone();
                let heading = patient_heading(&p);
                let waiting = p.may_review && p.entries.iter().any(|e| e.waiting);
                let may_note = p.may_add_care_note;
                let choose = p.may_review;
                let entries = p.entries.into_iter().enumerate().map(|(i, e)| view! { <SharedEntry e=e index=i choose=choose/> }).collect_view();
                let decisions = ReviewStep::DECISIONS.into_iter().map(|s| {
                    let (value, words) = match s {
                        ReviewStep::Accepted => ("accept", "Accept into the record"),
                        ReviewStep::Noted => ("note", "Note only: seen, no further action"),
                        ReviewStep::Rejected => ("reject", "Reject, with a reason the patient will read"),
                        _ => ("ask", "Ask the patient a question"),
                    };
                    let rid = format!("decision-{value}");
                    view! { <div class="radio"><input type="radio" id=rid.clone() name="decision" value=value/><label for=rid>{words}</label></div> }
                }).collect_view();
                view! {
                    <h1>{heading}</h1>
                    {flag("reviewed").then(|| view! { <Notice><p>"Done. The patient has been told there is an update."</p></Notice> })}
                    {flag("noted").then(|| view! { <Notice><p>"Your note is in the patient\u{2019}s record."</p></Notice> })}
                    {p.home_bp.map(|s| view! { <HomeBp s=s/> })}
                    {p.nhs_items_not_shown.filter(|n| *n > 0).map(|n| view! {
                        <p class="meta">{if n == 1 { "1 item".to_owned() } else { format!("{n} items") }}
                           " from the shared care record for this patient could not be shown in Carry: they do not follow the FHIR standard in what Carry reads, or carry information Carry does not understand. Check the patient's record in your clinical system."</p>
                    })}
                    <ErrorSummary error=review_error/>
                    <ActionForm action=review attr:novalidate="" attr:aria-label="Review">
                        <input type="hidden" name="patient" value=patient/>
                        <ul class="timeline">{entries}</ul>
                        {waiting.then(|| view! {
                            <fieldset class="field">
                                <legend>"Decision for the ticked entries"</legend>
                                {decisions}
                            </fieldset>
                            <TextArea name="message" label="Reason or question (the patient reads it)" error=message_error optional=true/>
                            <button type="submit" class="button">"Record the decision"</button>
                        })}
                    </ActionForm>
                    {may_note.then(|| view! {
                    <section aria-labelledby="care-note-heading">
                        <h2 id="care-note-heading">"Add a social care note"</h2>
                        <ErrorSummary error=note_error/>
                        <ActionForm action=note attr:novalidate="">
                            <input type="hidden" name="patient" value=patient2/>
                            <Field name="title" label="Title" error=note_field("title")/>
                            <TextArea name="text" label="Note (the patient can read it)" error=note_field("text")/>
                            <input type="hidden" name="tags" value=""/>
                            <button type="submit" class="button secondary">"Add the note"</button>
                        </ActionForm>
                    </section>
                    })}
                    <p><a href="/practice/inbox">"Back to the inbox"</a></p>
                }.into_any()
            })}
        </Suspense>
    }
}
