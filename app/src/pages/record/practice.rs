//! The patient's side of their GP practice: "Your GP practice" (asking to link the record) and,
//! on each shared entry, what the practice did with it, with a way to answer its question.

use super::load_problem;
use crate::api::{my_practice, AnswerQuestion, GiveBirthDate, RequestPracticeLink, UnlinkPractice};
use crate::components::{ErrorSummary, Field, Notice, TextArea};
use domain::practice_views::ReviewStepView;
use domain::practices::{LinkStatus, ReviewStep};
use domain::EntryId;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// What the practice did with an entry, and the answer form when it asked a question.
#[component]
pub fn ReviewSection(
    steps: Vec<ReviewStepView>,
    question_waiting: bool,
    id: EntryId,
    patient: Option<String>,
    /// Where each accepted version stands with the shared care record.
    #[prop(optional)]
    care_record: Vec<String>,
) -> impl IntoView {
    let answer = ServerAction::<AnswerQuestion>::new();
    let error = Signal::derive(move || answer.value().get().and_then(Result::err));
    let answer_error = Signal::derive(move || error.get().and_then(|e| e.field("answer")));
    let query = use_query_map();
    let answered = move || query.read().get("answered").is_some();
    if steps.is_empty() {
        return ().into_any();
    }
    let (id_text, patient_text) = (id.to_string(), patient.unwrap_or_default());
    let lines = steps
        .into_iter()
        .map(|s| {
            let words = s.message.clone().map(|m| match s.step {
                ReviewStep::Rejected => format!("Reason: {m}"),
                ReviewStep::Asked => format!("Question: {m}"),
                _ => format!("\u{201c}{m}\u{201d}"),
            });
            view! { <li><p>{s.patient_line()}</p>{words.map(|w| view! { <p class="pre">{w}</p> })}</li> }
        })
        .collect_view();
    let sent = care_record.into_iter().map(|line| view! { <li><p>{line}</p></li> }).collect_view();
    view! {
        <section class="review" aria-labelledby="review-heading">
            <h2 id="review-heading">"Your GP practice"</h2>
            {move || answered().then(|| view! { <Notice><p>"Your answer has gone to your GP practice."</p></Notice> })}
            <ul class="review-steps">{lines}{sent}</ul>
            {move || {
                let (id_value, patient_value) = (id_text.clone(), patient_text.clone());
                (question_waiting && !answered() && answer.version().get() == 0).then(move || view! {
                <ErrorSummary error=error/>
                <ActionForm action=answer attr:novalidate="">
                    <input type="hidden" name="id" value=id_value/>
                    <input type="hidden" name="patient" value=patient_value/>
                    <TextArea name="answer" label="Your answer" error=answer_error/>
                    <button type="submit" class="button">"Send your answer"</button>
                </ActionForm>
            })}}
        </section>
    }
    .into_any()
}

/// "Your GP practice": the link's state, and the form to ask for one.
#[component]
pub fn MyPracticePage() -> impl IntoView {
    let ask = ServerAction::<RequestPracticeLink>::new();
    let unlink = ServerAction::<UnlinkPractice>::new();
    let born = ServerAction::<GiveBirthDate>::new();
    let data = Resource::new(move || (ask.version().get(), unlink.version().get(), born.version().get()), |_| my_practice());
    let error = Signal::derive(move || {
        ask.value()
            .get()
            .and_then(Result::err)
            .or_else(|| unlink.value().get().and_then(Result::err))
            .or_else(|| born.value().get().and_then(Result::err))
    });
    let field = move |f: &'static str| Signal::derive(move || error.get().and_then(|e| e.field(f)));
    let query = use_query_map();
    let asked = move || query.read().get("asked").is_some();
    let unlinked = move || query.read().get("unlinked").is_some();
    let born_given = move || query.read().get("born").is_some();
    view! {
        <Title text="Your GP practice"/>
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let v = match data.await {
                    Ok(v) => v,
                    Err(e) => return load_problem(e, "Your GP practice", "/record/practice".to_owned()),
                };
                let state = v.link.clone().map(|l| {
                    let text = match l.status {
                        LinkStatus::Requested => format!(
                            "You asked {} to link your record on {}, with NHS number {} and date of birth {}. They will check them and let you know. Until then they see nothing.",
                            l.practice.name, l.requested_at.to_uk_date(), l.nhs_number, l.born_on.clone().unwrap_or_default()
                        ),
                        LinkStatus::Linked => format!(
                            "Your record is linked to {} (NHS number {}). They see the entries you choose to share with them, and nothing else.",
                            l.practice.name, l.nhs_number
                        ),
                        LinkStatus::Declined => format!(
                            "{} could not link your record: {}",
                            l.practice.name, l.decline_reason.clone().unwrap_or_default()
                        ),
                    };
                    let stop = match l.status {
                        LinkStatus::Linked => format!("Stop sharing with {}", l.practice.name),
                        _ => "Withdraw the request".to_owned(),
                    };
                    // A link verified before Carry asked for a date of birth: nothing is pulled or
                    // sent until the patient gives it (the match needs all three details).
                    let ask_born = (l.status == LinkStatus::Linked && l.born_on.is_none()).then(|| view! {
                        <section class="notice" aria-labelledby="born-heading">
                            <h2 id="born-heading">"Your date of birth is needed"</h2>
                            <p>"To find your record in the NHS shared care record, Carry needs your date of birth as well as your NHS number and name. Until you give it, nothing new comes from that record and nothing your practice accepts is sent to it."</p>
                            <ActionForm action=born attr:novalidate="" attr:aria-labelledby="born-heading">
                                <Field name="birth_date" label="Your date of birth" kind="date" autocomplete="bday" error=field("birth_date")/>
                                <button type="submit" class="button">"Give my date of birth"</button>
                            </ActionForm>
                        </section>
                    });
                    view! {
                        <p class="link-state"><strong>{text}</strong></p>
                        {ask_born}
                        {(l.status != LinkStatus::Declined).then(|| view! {
                            <ActionForm action=unlink>
                                <button type="submit" class="button warning">{stop}</button>
                            </ActionForm>
                        })}
                    }
                });
                let options = v.practices.iter().map(|p| {
                    let selected = v.link.as_ref().is_some_and(|l| l.practice.id == p.id);
                    view! { <option value=p.id.to_string() selected=selected>{format!("{} ({})", p.name, p.ods_code)}</option> }
                }).collect_view();
                let practice_error = field("practice");
                view! {
                    <h1>"Your GP practice"</h1>
                    {move || asked().then(|| view! { <Notice><p>"Your request has gone to the practice."</p></Notice> })}
                    {move || unlinked().then(|| view! { <Notice><p>"Done. The practice no longer sees anything in your record."</p></Notice> })}
                    {move || born_given().then(|| view! { <Notice><p>"Thank you. Your record in the shared care record will be found again with your date of birth."</p></Notice> })}
                    {state}
                    <ErrorSummary error=error/>
                    <h2 id="link-heading">{if v.link.is_some() { "Link to a practice again" } else { "Link your record to your GP practice" }}</h2>
                    <p>"Your practice checks your NHS number and date of birth against its records before it sees anything. It only ever sees entries you choose to share."</p>
                    <ActionForm action=ask attr:novalidate="" attr:aria-labelledby="link-heading">
                        <div class="field" class:field-error=move || practice_error.get().is_some()>
                            <label for="field-practice">"Your GP practice"</label>
                            <p class="error-message" hidden=move || practice_error.get().is_none()>{move || practice_error.get().map(|e| format!("Error: {e}"))}</p>
                            <select id="field-practice" name="practice"><option value="">"Choose your practice"</option>{options}</select>
                        </div>
                        <Field name="nhs_number" label="Your NHS number" hint="10 digits, on letters from your GP or in the NHS App, for example 943 476 5919." error=field("nhs_number")/>
                        <Field name="born_on" label="Your date of birth" kind="date" autocomplete="bday" error=field("born_on")/>
                        <button type="submit" class="button">"Ask to link"</button>
                    </ActionForm>
                    <p><a href="/record">"Back to your record"</a></p>
                }.into_any()
            })}
        </Suspense>
    }
}
