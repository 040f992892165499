//! The printable summary: on one A4 page where it fits, what a clinician who does not know the
//! patient needs first. Drawn on the server, so it works and prints without JavaScript; the
//! print stylesheet leaves out the site's header, footer and links.

use super::{load_problem, on_record, patient_param, ActingFor};
use crate::api::record_summary;
use domain::care_record::{display_date, SectionView, SyncStatus};
use domain::summary::SummaryView;
use domain::PrivacyLabel;
use leptos::prelude::*;
use leptos_meta::Title;

/// Where the NHS parts come from, and how far they can be trusted.
fn nhs_note(status: &SyncStatus, own: bool) -> String {
    let whose = if own { "your" } else { "their" };
    match status {
        SyncStatus::On { last_success: Some(at), incomplete: None, .. } => {
            format!("From the NHS record held by the regional shared care record, as fetched on {}.", at.to_uk_string())
        }
        SyncStatus::On { last_success: Some(at), incomplete: Some((what, _)), .. } => format!(
            "From the NHS record, as fetched on {}. Part of it could not be fetched ({what}): items may be missing, so check with the GP practice.",
            at.to_uk_string()
        ),
        _ => format!(
            "Carry does not hold {whose} NHS record yet, so problems, medicines, allergies and vaccinations are not known here. Ask the GP practice."
        ),
    }
}

/// One NHS part. Empty, it says "none recorded" only when it is known whole.
fn nhs_section(s: SectionView, whole: bool) -> impl IntoView {
    let id = format!("summary-{}", s.section.slug());
    let heading = s.section.heading();
    let body = if s.items.is_empty() {
        let words = if whole { "None recorded." } else { "Not known." };
        view! { <p>{words}</p> }.into_any()
    } else {
        let items = s
            .items
            .into_iter()
            .map(|i| {
                let meta = [i.detail.clone(), i.date.as_deref().map(display_date)].into_iter().flatten().collect::<Vec<_>>().join(", ");
                let label = (i.label != PrivacyLabel::General).then(|| format!(" ({})", i.label.label()));
                view! { <li><strong>{i.title.clone()}</strong>{label}{(!meta.is_empty()).then(|| format!(": {meta}"))}</li> }
            })
            .collect_view();
        view! { <ul>{items}</ul> }.into_any()
    };
    let heading_id = id.clone();
    view! {
        <section aria-labelledby=id>
            <h2 id=heading_id>{heading}</h2>
            {body}
        </section>
    }
}

fn page(v: SummaryView, patient: Option<String>) -> AnyView {
    let own = v.own;
    let nhs_words = nhs_note(&v.nhs, own);
    let labels = (v.labels.len() < PrivacyLabel::ALL.len()).then(|| {
        let names: Vec<&str> = v.labels.iter().map(|l| l.label()).collect();
        view! { <p>"Only entries labelled " {names.join(", ")} " are included."</p> }
    });
    let about = v.about_me.filter(|a| !a.is_empty()).map(|a| {
        let rows = a.answers().into_iter().map(|(q, answer)| view! { <div><dt>{q}</dt><dd class="pre">{answer}</dd></div> }).collect_view();
        view! {
            <section aria-labelledby="summary-about-me" class="about-me">
                <h2 id="summary-about-me">"About me: what matters to me"</h2>
                <dl class="summary-list">{rows}</dl>
            </section>
        }
    });
    let known_whole = v.known_whole;
    let sections = v
        .sections
        .into_iter()
        .map(|s| {
            let whole = known_whole.contains(&s.section);
            nhs_section(s, whole)
        })
        .collect_view();
    let not_shown = v.not_shown.filter(|n| *n > 0).map(|n| {
        let items = if n == 1 { "1 item".to_owned() } else { format!("{n} items") };
        view! { <p class="meta">{items} " from the NHS record could not be shown, because Carry could not be sure what they mean. Ask the GP practice."</p> }
    });
    let readings = if v.readings.is_empty() {
        view! { <p>"No home readings."</p> }.into_any()
    } else {
        let rows = v
            .readings
            .into_iter()
            .map(|r| {
                let flag = r.concerning.then(|| view! { <strong class="concern">" (outside the usual range)"</strong> });
                view! { <tr><th scope="row">{r.kind}</th><td>{r.value}{flag}</td><td>{r.at.to_uk_string()}</td></tr> }
            })
            .collect_view();
        view! {
            <table>
                <caption class="visually-hidden">"The latest home reading of each kind"</caption>
                <thead><tr><th scope="col">"Reading"</th><th scope="col">"Latest"</th><th scope="col">"Taken"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    let bp = v.home_bp.map(|bp| view! { <p><strong>"Home blood pressure: "</strong>{bp.words()}</p> });
    let contacts = if v.contacts.is_empty() {
        view! { <p>"No one is recorded in Carry."</p> }.into_any()
    } else {
        let rows = v
            .contacts
            .into_iter()
            .map(|c| view! { <li><strong>{c.name}</strong> ", " {c.role}{c.detail.map(|d| format!(" ({d})"))}</li> })
            .collect_view();
        view! { <ul>{rows}</ul> }.into_any()
    };
    let made = v.made_at.to_uk_string();
    let document = v.may_export.then(|| document_form(&v.labels, v.own, &patient));
    view! {
        <div class="no-print"><ActingFor patient=patient.clone()/></div>
        <article class="printable-summary" aria-labelledby="summary-heading">
            <h1 id="summary-heading">"Health summary: " {v.patient_name.clone()}</h1>
            <p class="summary-made">"Made on " {made} " from Carry, held by the patient."</p>
            {labels}
            <p class="no-print">"To print it, use your browser\u{2019}s Print (Ctrl+P, or Share and then Print on a phone). "
                "Only the summary is printed."</p>
            {about}
            <p class="meta">{nhs_words}</p>
            {not_shown}
            {sections}
            <section aria-labelledby="summary-readings">
                <h2 id="summary-readings">"Recent home readings"</h2>
                {readings}
                {bp}
            </section>
            <section aria-labelledby="summary-contacts">
                <h2 id="summary-contacts">"Who to contact"</h2>
                {contacts}
            </section>
        </article>
        {document}
        <p class="no-print"><a href=on_record("/record", &patient)>"Back to the record"</a></p>
    }
    .into_any()
}

/// The same summary as a file for another clinician's computer system (an International Patient
/// Summary), with the labels the person chooses: general only unless they tick more. A plain
/// form, so it works without JavaScript.
fn document_form(labels: &[PrivacyLabel], own: bool, patient: &Option<String>) -> impl IntoView {
    let boxes = labels
        .iter()
        .map(|l| {
            let id = format!("document-label-{}", l.slug());
            view! {
                <div class="checkbox">
                    <input type="checkbox" id=id.clone() name="labels" value=l.slug() checked=*l == PrivacyLabel::General/>
                    <label for=id>{l.label()}</label>
                </div>
            }
        })
        .collect_view();
    let whose = if own { "your" } else { "their" };
    view! {
        <section class="no-print" aria-labelledby="summary-document">
            <h2 id="summary-document">"For another clinician\u{2019}s computer system"</h2>
            <p>{format!("Download this summary as an International Patient Summary: a file in FHIR, the standard health systems read in the UK and abroad. It holds {whose} problems, medicines, allergies, vaccinations, recent results, the latest home readings and \u{201c}about me\u{201d}, with the labels you choose.")}</p>
            <form method="get" action="/record/summary/document">
                {patient.clone().map(|p| view! { <input type="hidden" name="patient" value=p/> })}
                <fieldset>
                    <legend>"What goes in it"</legend>
                    {boxes}
                </fieldset>
                <button type="submit" class="button secondary">"Download the summary file"</button>
            </form>
        </section>
    }
}

/// The printable summary of the record.
#[component]
pub fn SummaryPage() -> impl IntoView {
    let patient = patient_param();
    let data = Resource::new(move || patient.clone(), record_summary);
    view! {
        <Title text="Health summary"/>
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let p = patient_param();
                match data.await {
                    Ok(v) => page(v, p),
                    Err(e) => load_problem(e, "Health summary", on_record("/record/summary", &p)),
                }
            })}
        </Suspense>
    }
}
