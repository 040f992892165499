//! Adding a reading or a note, and the form fields editing shares.

use super::{load_problem, on_record, patient_param, ActingFor, PrivacyFields};
use crate::api::{now_for_forms, record_scope, AddNote, AddReading};
use crate::components::{ErrorSummary, Field, TextArea};
use crate::error::AppError;
use domain::{PrivacyLabel, Reading, ReadingKind};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The date-and-time field every entry has.
#[component]
pub fn WhenField(
    /// Its label.
    label: &'static str,
    /// The starting value (`datetime-local` text).
    value: String,
    /// The latest time allowed (now).
    #[prop(optional, into)]
    max: Option<String>,
    /// Its error.
    #[prop(into)]
    error: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <div class="field" class:field-error=move || error.get().is_some()>
            <label for="field-occurred_at">{label}</label>
            <p class="hint" id="field-occurred_at-hint">"UK time. For example, 22/11/2026 08:30."</p>
            <p class="error-message" id="field-occurred_at-error" hidden=move || error.get().is_none()>
                {move || error.get().map(|e| format!("Error: {e}"))}
            </p>
            <input type="datetime-local" id="field-occurred_at" name="occurred_at" value=value max=max required
                aria-describedby=move || if error.get().is_some() { "field-occurred_at-hint field-occurred_at-error" } else { "field-occurred_at-hint" }
                aria-invalid=move || error.get().is_some().then_some("true")/>
        </div>
    }
}

/// The value fields for one kind of reading, starting from `current` when editing.
#[component]
pub fn ReadingFields(kind: ReadingKind, current: Option<Reading>, #[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    let field = move |f: &'static str| Signal::derive(move || error.get().and_then(|e| e.field(f)));
    let fmt = |v: f64| if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v:.1}") };
    match kind {
        ReadingKind::BloodPressure => {
            let (s, d, p) = match current {
                Some(Reading::BloodPressure { systolic, diastolic, pulse }) => {
                    (Some(systolic.to_string()), Some(diastolic.to_string()), pulse.map(|p| p.to_string()))
                }
                _ => (None, None, None),
            };
            view! {
                <Field name="value" label="Systolic (the top number)" inputmode="numeric" suffix="mmHg" value=s.unwrap_or_default() error=field("value")/>
                <Field name="diastolic" label="Diastolic (the bottom number)" inputmode="numeric" suffix="mmHg" value=d.unwrap_or_default() error=field("diastolic")/>
                <Field name="pulse" label="Pulse (optional)" inputmode="numeric" suffix="beats a minute" value=p.unwrap_or_default() optional=true error=field("pulse")/>
            }
            .into_any()
        }
        k => {
            let v = current.map(|r| fmt(r.primary()));
            let whole = matches!(k, ReadingKind::HeartRate | ReadingKind::OxygenSaturation | ReadingKind::PeakFlow);
            let hint = match k {
                ReadingKind::Height => Some("Your BMI is worked out from your latest weight and height.".to_owned()),
                ReadingKind::BloodGlucose => Some("A finger-prick test, in mmol/L.".to_owned()),
                _ => None,
            };
            let mode = if whole { "numeric" } else { "decimal" };
            let v = v.unwrap_or_default();
            match hint {
                Some(h) => {
                    view! { <Field name="value" label=k.label() inputmode=mode suffix=k.unit() value=v hint=h error=field("value")/> }
                        .into_any()
                }
                None => {
                    view! { <Field name="value" label=k.label() inputmode=mode suffix=k.unit() value=v error=field("value")/> }.into_any()
                }
            }
        }
    }
}

/// Title, text and tags of a note, starting from the given values when editing.
#[component]
pub fn NoteFields(title: String, text: String, tags: String, #[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    let field = move |f: &'static str| Signal::derive(move || error.get().and_then(|e| e.field(f)));
    view! {
        <Field name="title" label="Title" value=title error=field("title")/>
        <TextArea name="text" label="Note" value=text rows=10 hint="Up to about 10,000 words." error=field("text")/>
        <Field name="tags" label="Tags (optional)" value=tags optional=true hint="Separate tags with commas, for example: sleep, mood." error=field("tags")/>
    }
}

/// Choose a kind of reading, then enter it.
#[component]
pub fn AddReadingPage() -> impl IntoView {
    let query = use_query_map();
    let kind = move || query.read().get("kind").and_then(|k| ReadingKind::from_slug(&k));
    let action = ServerAction::<AddReading>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let now = Resource::new(|| (), |_| now_for_forms());
    let patient = patient_param();
    let ctx = Resource::new(
        {
            let p = patient.clone();
            move || p.clone()
        },
        record_scope,
    );
    let field = move |f: &'static str| Signal::derive(move || error.get().and_then(|e| e.field(f)));
    view! {
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let now = match now.await {
                    Ok(n) => n,
                    Err(e) => return load_problem(e, "Add a reading", "/record/readings/new".to_owned()),
                };
                let ctx = match ctx.await {
                    Ok(c) => c,
                    Err(e) => return load_problem(e, "Add a reading", "/record/readings/new".to_owned()),
                };
                let patient = patient_param();
                let back = if patient.is_some() { "Back to their record" } else { "Back to your record" };
                match kind() {
                    None => view! {
                        <Title text="Add a reading"/>
                        <ActingFor patient=patient.clone()/>
                        <h1>"Add a reading"</h1>
                        <p>"What did you measure?"</p>
                        <ul class="kind-list">
                            {ReadingKind::ALL.into_iter().map(|k| {
                                let href = on_record(&format!("/record/readings/new?kind={}", k.slug()), &patient);
                                view! { <li><a href=href>{k.label()}</a></li> }
                            }).collect_view()}
                        </ul>
                        <p><a href=on_record("/record", &patient)>{back}</a></p>
                    }.into_any(),
                    Some(k) => {
                        let heading = format!("Add a {} reading", k.label().to_lowercase());
                        let another = on_record("/record/readings/new", &patient);
                        let hidden = patient.clone().map(|p| view! { <input type="hidden" name="patient" value=p/> });
                        view! {
                            <Title text=heading.clone()/>
                            <ActingFor patient=patient.clone()/>
                            <h1>{heading}</h1>
                            <ErrorSummary error=error/>
                            <ActionForm action=action attr:novalidate="">
                                <input type="hidden" name="kind" value=k.slug()/>
                                {hidden}
                                <ReadingFields kind=k current=None error=error/>
                                <WhenField label="When did you take it?" value=now.clone() max=now error=field("occurred_at")/>
                                <PrivacyFields label=PrivacyLabel::General share=false error=field("label") allowed=ctx.labels.clone()/>
                                <button type="submit" class="button">"Save reading"</button>
                            </ActionForm>
                            <p><a href=another>"Choose another kind of reading"</a></p>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// Write a journal note.
#[component]
pub fn AddNotePage() -> impl IntoView {
    let action = ServerAction::<AddNote>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let now = Resource::new(|| (), |_| now_for_forms());
    let patient = patient_param();
    let ctx = Resource::new(
        {
            let p = patient.clone();
            move || p.clone()
        },
        record_scope,
    );
    let field = move |f: &'static str| Signal::derive(move || error.get().and_then(|e| e.field(f)));
    view! {
        <Title text="Write a note"/>
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let now = match now.await {
                    Ok(n) => n,
                    Err(e) => return load_problem(e, "Write a note", "/record/notes/new".to_owned()),
                };
                let ctx = match ctx.await {
                    Ok(c) => c,
                    Err(e) => return load_problem(e, "Write a note", "/record/notes/new".to_owned()),
                };
                let patient = patient_param();
                view! {
                    <ActingFor patient=patient.clone()/>
                    <h1>"Write a note"</h1>
                    <p>"Notes are kept exactly as you write them. Only the people allowed to see their label see them."</p>
                    <ErrorSummary error=error/>
                    <ActionForm action=action attr:novalidate="">
                        {patient.clone().map(|p| view! { <input type="hidden" name="patient" value=p/> })}
                        <NoteFields title=String::new() text=String::new() tags=String::new() error=error/>
                        <WhenField label="Date and time of the note" value=now.clone() max=now error=field("occurred_at")/>
                        <PrivacyFields label=PrivacyLabel::General share=false error=field("label") allowed=ctx.labels.clone()/>
                        <button type="submit" class="button">"Save note"</button>
                    </ActionForm>
                }.into_any()
            })}
        </Suspense>
    }
}
