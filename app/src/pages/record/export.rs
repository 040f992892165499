//! "Download my record": choose what goes in a copy, then watch it being prepared and download
//! it. Drawn on the server and refreshed by the page itself while the copy is prepared, so it
//! works without JavaScript.

use super::{load_problem, on_record, patient_param, ActingFor};
use crate::api::{export_status, record_exports, RequestExport};
use crate::components::ErrorSummary;
use domain::exports::{ExportFormat, ExportStatus, ExportView};
use domain::PrivacyLabel;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

/// A size in words ("2.4 MB").
fn size(bytes: i64) -> String {
    match bytes {
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1_000_000.0),
        b if b >= 1_000 => format!("{} KB", (b + 999) / 1_000),
        b => format!("{b} bytes"),
    }
}

/// Where a copy stands, in words.
fn state(e: &ExportView) -> String {
    match e.status {
        ExportStatus::Queued => "Waiting to be prepared".to_owned(),
        ExportStatus::Running if e.total > 0 => format!("Being prepared: {} of {} items", e.done.min(e.total), e.total),
        ExportStatus::Running => "Being prepared".to_owned(),
        ExportStatus::Ready => match e.expires_at {
            Some(at) => format!("Ready to download until {}", at.to_uk_string()),
            None => "Ready to download".to_owned(),
        },
        ExportStatus::Failed => e.failure.clone().unwrap_or_else(|| "It could not be prepared.".to_owned()),
    }
}

/// Choose the labels, and the copies asked for already.
#[component]
pub fn ExportPage() -> impl IntoView {
    let patient = patient_param();
    let data = Resource::new(move || patient.clone(), record_exports);
    let action = ServerAction::<RequestExport>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let labels_error = move || error.get().and_then(|e| e.field("labels"));
    view! {
        <Title text="Download my record"/>
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let p = patient_param();
                let v = match data.await {
                    Ok(v) => v,
                    Err(e) => return load_problem(e, "Download a copy of the record", on_record("/record/export", &p)),
                };
                let whose = if v.own { "your".to_owned() } else { format!("{}\u{2019}s", v.patient_name) };
                let boxes = v.labels.iter().map(|l| {
                    let id = format!("export-label-{}", l.slug());
                    let name = format!("label_{}", l.slug().replace('-', "_"));
                    view! {
                        <div class="checkbox">
                            <input type="checkbox" id=id.clone() name=name value="yes" checked=*l == PrivacyLabel::General/>
                            <label for=id>{l.label()}</label>
                        </div>
                    }
                }).collect_view();
                let copies = v.exports.iter().map(|e| {
                    let href = format!("/record/export/{}", e.id);
                    view! { <li><a href=href>{format!("Asked for on {}", e.created_at.to_uk_string())}</a> ": " {state(e)}</li> }
                }).collect_view();
                let any_copies = !v.exports.is_empty();
                let (back, hidden_patient) = (on_record("/record", &p), p.clone().unwrap_or_default());
                view! {
                    <ActingFor patient=p.clone()/>
                    <h1>{format!("Download a copy of {whose} record")}</h1>
                    <p>"The copy comes in two files: a document to read or print, and the same record as FHIR, the standard health systems use, to give to another service or another Carry."</p>
                    <p>{if v.own {
                        "It holds your entries with every change made to them, what Carry holds from your NHS record, \u{201c}about me\u{201d}, who you have given access to, and who has looked at your record."
                    } else {
                        "It holds what you may see of their record: their entries with every change, what Carry holds from their NHS record, and \u{201c}about me\u{201d}. It does not hold who has looked at their record. They can see that you made it."
                    }}</p>
                    <p>"It is kept for one hour after it is ready, then removed. Keep the files somewhere safe: anyone who has them can read them."</p>
                    <ErrorSummary error=error/>
                    <ActionForm action=action attr:novalidate="">
                        <input type="hidden" name="patient" value=hidden_patient/>
                        <fieldset class="field" class:field-error=move || labels_error().is_some() id="field-labels">
                            <legend>"Which entries to include"</legend>
                            <p class="hint">"Only general entries are ticked for you. Tick a sensitive label only if you mean whoever reads the copy to see it."</p>
                            <p class="error-message" hidden=move || labels_error().is_none()>{move || labels_error().map(|e| format!("Error: {e}"))}</p>
                            {boxes}
                        </fieldset>
                        <button type="submit" class="button">"Prepare the copy"</button>
                    </ActionForm>
                    {any_copies.then(|| view! {
                        <h2>"Copies you asked for"</h2>
                        <ul>{copies}</ul>
                    })}
                    <p><a href=back>"Back to the record"</a></p>
                }.into_any()
            })}
        </Suspense>
    }
}

/// One copy: progress while it is prepared (the page refreshes itself), then the downloads.
#[component]
pub fn ExportStatusPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = Resource::new(id, export_status);
    view! {
        <Title text="Your copy of the record"/>
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let e = match data.await {
                    Ok(e) => e,
                    Err(err) => return load_problem(err, "A copy of the record", format!("/record/export/{}", id())),
                };
                let working = matches!(e.status, ExportStatus::Queued | ExportStatus::Running);
                let (done, total) = (e.done.min(e.total).to_string(), e.total.max(1).to_string());
                let labels: Vec<&str> = e.labels.iter().map(|l| l.label()).collect();
                let downloads = (e.status == ExportStatus::Ready).then(|| {
                    let (fhir_size, readable_size) = e.sizes.unwrap_or_default();
                    let link = |f: ExportFormat| format!("/record/export/{}/{}", e.id, f.slug());
                    view! {
                        <ul class="downloads">
                            <li><a class="button" href=link(ExportFormat::Readable) download="">"Download the document to read or print"</a> {format!(" (HTML, {})", size(readable_size))}</li>
                            <li><a class="button secondary" href=link(ExportFormat::Fhir) download="">"Download the FHIR record"</a> {format!(" (JSON, {})", size(fhir_size))}</li>
                        </ul>
                    }
                });
                view! {
                    {working.then(|| view! { <Meta http_equiv="refresh" content="2"/> })}
                    <h1>{format!("A copy of {}\u{2019}s record", e.patient_name)}</h1>
                    <p role="status">{state(&e)}</p>
                    {working.then(|| view! {
                        <progress max=total value=done aria-label="How much of the copy is prepared"></progress>
                        <p class="hint">"This page refreshes by itself every few seconds."</p>
                    })}
                    {downloads}
                    <p>{format!("It holds entries labelled: {}.", labels.join(", "))}
                       {e.with_access_log.then_some(" It includes who has looked at the record.")}</p>
                    <p><a href=on_record("/record/export", &e.record)>"Back to downloads"</a></p>
                }.into_any()
            })}
        </Suspense>
    }
}
