//! The record the NHS holds: pulled from the shared care record, shown by section, each item
//! with where it came from, and the sync's status with "Update now".

use super::{load_problem, on_record, patient_param, ActingFor};
use crate::api::{nhs_record, UpdateNhsRecord};
use crate::components::{ErrorSummary, Notice};
use crate::error::AppError;
use domain::care_record::{display_date, CareRecordView, Section, SectionView, SyncStatus, TrendView};
use domain::PrivacyLabel;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn status_part(status: &SyncStatus, own: bool, patient: &Option<String>, update: ServerAction<UpdateNhsRecord>) -> AnyView {
    let whose = if own { "your" } else { "their" };
    match status {
        SyncStatus::Off => view! {
            <p>"Carry is not connected to a shared care record, so the record the NHS holds cannot be shown here yet."</p>
        }
        .into_any(),
        SyncStatus::NotLinked => {
            let link = own.then(|| view! { <a href="/record/practice">"Link your record to your GP practice"</a> });
            view! {
                <p>"The record the NHS holds appears here once " {whose} " GP practice has linked " {whose} " record in Carry. " {link}</p>
            }
            .into_any()
        }
        SyncStatus::Held => view! {
            <p>"The NHS record found for this NHS number has a different name or date of birth, so Carry is not showing it. "
               "The GP practice has been asked to check it. Nothing from it is shown until they have."</p>
        }
        .into_any(),
        SyncStatus::On { last_success, running, progress, last_error, incomplete } => {
            let when = match last_success {
                Some(t) => format!("Last updated {}.", t.to_uk_string()),
                None => "Not fetched yet.".to_owned(),
            };
            let progress = progress.filter(|_| *running).map(|(done, total)| {
                view! {
                    <div role="status">
                        <label for="sync-progress">"Fetching " {whose} " record from the shared care record: " {done} " of " {total} " parts done"</label>
                        <progress id="sync-progress" max=total value=done>{format!("{done} of {total}")}</progress>
                        <p><a href=on_record("/record/nhs", patient)>"See how it is going"</a></p>
                    </div>
                }
            });
            let error =
                last_error.clone().map(|e| view! { <p class="meta">"The last try did not work (" {e} "). Carry will try again."</p> });
            let incomplete = incomplete.clone().map(|(what, since)| {
                view! {
                    <div class="inset" role="note">
                        <p><strong>"Part of " {whose} " record could not be fetched. "</strong>
                           "The shared care record said it holds more than it gave Carry: " {what} ". "
                           "This has been so since " {since.to_uk_string()} ". What is shown here may be missing items, "
                           "so check anything important with the GP practice. The practice's administrators can see this too."</p>
                    </div>
                }
            });
            let p = patient.clone().unwrap_or_default();
            view! {
                <p>{when}</p>
                {progress}
                {incomplete}
                {error}
                <ActionForm action=update>
                    <input type="hidden" name="patient" value=p/>
                    <button type="submit" class="button secondary">"Update now"</button>
                </ActionForm>
            }
            .into_any()
        }
    }
}

fn trends_table(trends: Vec<TrendView>) -> AnyView {
    if trends.is_empty() {
        return ().into_any();
    }
    let rows = trends
        .into_iter()
        .map(|t| {
            let values = t.points.iter().map(|p| format!("{} ({})", p.text, display_date(&p.date))).collect::<Vec<_>>().join(", ");
            let change = t.direction().unwrap_or_default();
            view! { <tr><th scope="row">{t.title.clone()}</th><td>{values} " " {t.unit.clone()}</td><td>{change}</td></tr> }
        })
        .collect_view();
    view! {
        <table class="trends">
            <caption>"How results changed, oldest first"</caption>
            <thead><tr><th scope="col">"Test"</th><th scope="col">"Values"</th><th scope="col">"Latest change"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

fn section_part(s: SectionView, own: bool) -> impl IntoView {
    let id = s.section.slug();
    let heading = s.section.heading();
    let empty = s.items.is_empty();
    let trends = if s.section == Section::Results { trends_table(s.trends) } else { ().into_any() };
    let items = s
        .items
        .into_iter()
        .map(|i| {
            let label = (i.label != PrivacyLabel::General).then(|| view! { <span class="badge">{i.label.label()}</span> });
            let meta = [i.date.as_deref().map(display_date), i.source.clone()].into_iter().flatten().collect::<Vec<_>>().join(", ");
            view! {
                <li>
                    <p><strong>{i.title.clone()}</strong> " " <span class="badge">{i.origin.badge(own)}</span> {label}</p>
                    {i.detail.clone().map(|d| view! { <p>{d}</p> })}
                    {(!meta.is_empty()).then(|| view! { <p class="meta">{meta}</p> })}
                    {(!i.security.is_empty()).then(|| view! { <p class="meta">"Privacy codes from the source: " {i.security.join(", ")}</p> })}
                </li>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby=id>
            <h2 id=id>{heading}</h2>
            {trends}
            {if empty { view! { <p>"Nothing in this part of the record."</p> }.into_any() } else { view! { <ul class="synced">{items}</ul> }.into_any() }}
        </section>
    }
}

fn page(
    v: CareRecordView,
    patient: Option<String>,
    update: ServerAction<UpdateNhsRecord>,
    error: Signal<Option<AppError>>,
    updating: bool,
) -> AnyView {
    let own = v.own;
    let status = status_part(&v.status, own, &patient, update);
    let sections = v.sections.into_iter().map(|s| section_part(s, own)).collect_view();
    let not_shown = v.not_shown.filter(|n| *n > 0).map(|n| {
        let items = if n == 1 { "1 item".to_owned() } else { format!("{n} items") };
        view! {
            <p class="meta">{items} " from the shared care record could not be shown, because Carry could not be sure "
               "what they mean (they were not written as the standard says, or carry information Carry does not understand). "
               "The GP practice's administrators can see which ones, to ask for them to be corrected."</p>
        }
    });
    view! {
        <ActingFor patient=patient.clone()/>
        <h1>{if own { "Your NHS record" } else { "Their NHS record" }}</h1>
        <p>"What the NHS holds, from the regional shared care record: problems, medicines, allergies, results and more, each with where it came from."</p>
        {updating.then(|| view! { <Notice><p>"Carry is fetching the record now. It can take a minute."</p></Notice> })}
        <ErrorSummary error=error/>
        {status}
        {not_shown}
        {sections}
        <p><a href=on_record("/record", &patient)>"Back to the record"</a></p>
    }
    .into_any()
}

/// The record the NHS holds.
#[component]
pub fn NhsRecordPage() -> impl IntoView {
    let patient = patient_param();
    let update = ServerAction::<UpdateNhsRecord>::new();
    // Made once, outside the Suspend: what it renders is replaced on every refetch.
    let error = Signal::derive(move || update.value().get().and_then(Result::err));
    let query = use_query_map();
    let data = Resource::new(move || (update.version().get(), patient.clone()), |(_, p)| nhs_record(p));
    view! {
        <Title text="NHS record"/>
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let p = patient_param();
                let result = data.await;
                let updating = query.with_untracked(|q| q.get("updating").is_some()) || update.version().get_untracked() > 0;
                match result {
                    Ok(v) => page(v, p, update, error, updating),
                    Err(e) => load_problem(e, "NHS record", on_record("/record/nhs", &p)),
                }
            })}
        </Suspense>
    }
}
