//! The patient's own record: the timeline, entries, forms, charts and "about me".

pub mod about_me;
pub mod add;
pub mod charts;
pub mod deleted;
pub mod entry;
pub mod export;
pub mod links;
pub mod nhs;
pub mod practice;
pub mod summary;

use crate::api::{patient_query, record_scope, timeline};
use crate::components::{ErrorSummary, Notice};
use crate::error::AppError;
use domain::entries::TypeFilter;
use domain::views::{AboutMeView, EntrySummaryView};
use domain::PrivacyLabel;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

/// The record a page is about, from its `patient` query parameter: `None` is the caller's own.
pub fn patient_param() -> Option<String> {
    use_query_map().read_untracked().get("patient").filter(|p| !p.trim().is_empty())
}

/// A path on the same record: `/record/charts` becomes `/record/charts?patient=...` for a carer.
pub fn on_record(path: &str, patient: &Option<String>) -> String {
    format!("{path}{}", patient_query(patient, !path.contains('?')))
}

/// "You are acting for Sam Patel", shown on every page of someone else's record, with what
/// the carer may see and a way back to the people they care for.
#[component]
pub fn ActingFor(patient: Option<String>) -> impl IntoView {
    let Some(patient) = patient else { return ().into_any() };
    let ctx = Resource::new(move || patient.clone(), |p| record_scope(Some(p)));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match ctx.await {
                    Ok(c) => {
                        let labels: Vec<&str> = c.labels.iter().map(|l| l.label()).collect();
                        view! {
                            <div class="acting-for" role="region" aria-label="Whose record">
                                <p><strong>"You are acting for " {c.name.clone()} "."</strong>
                                " You can see: " {labels.join(", ")} "."
                                {if c.can_add { " You can add entries for them." } else { " You can view only." }}
                                " " <a href="/caring">"People you care for"</a></p>
                            </div>
                        }.into_any()
                    }
                    Err(_) => ().into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

/// What a page shows when its data failed: sign in first (and come back), or the error.
pub fn load_problem(e: AppError, heading: &'static str, back_to: String) -> AnyView {
    match e {
        AppError::NotSignedIn => {
            let path = format!("/sign-in?next={back_to}");
            view! { <Redirect path=path/> }.into_any()
        }
        e => view! { <h1>{heading}</h1><ErrorSummary error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
    }
}

/// The label and "share with my GP practice" controls of an entry form.
#[component]
pub fn PrivacyFields(
    /// The label chosen so far.
    label: PrivacyLabel,
    /// Whether sharing is ticked.
    share: bool,
    /// The label field's error.
    #[prop(into)]
    error: Signal<Option<String>>,
    /// The labels the person may use (a carer's grant may cover fewer than all).
    #[prop(optional)]
    allowed: Option<Vec<PrivacyLabel>>,
) -> impl IntoView {
    let allowed = allowed.unwrap_or_else(|| PrivacyLabel::ALL.to_vec());
    let options = PrivacyLabel::ALL
        .into_iter()
        .filter(|l| allowed.contains(l))
        .map(|l| {
            let id = format!("field-label-{}", l.slug());
            view! {
                <div class="radio">
                    <input type="radio" id=id.clone() name="label" value=l.slug() checked=l == label/>
                    <label for=id>{l.label()}</label>
                </div>
            }
        })
        .collect_view();
    view! {
        <fieldset class="field" class:field-error=move || error.get().is_some() id="field-label">
            <legend>"Privacy label"</legend>
            <p class="hint">"Carers and organisations only see the labels you choose for them. Sensitive labels are never shared unless you say so."</p>
            <p class="error-message" hidden=move || error.get().is_none()>{move || error.get().map(|e| format!("Error: {e}"))}</p>
            {options}
        </fieldset>
        <div class="field checkbox">
            <input type="checkbox" id="field-share" name="share" value="yes" checked=share aria-describedby="field-share-hint"/>
            <label for="field-share">"Share with my GP practice"</label>
            <p class="hint" id="field-share-hint">"Your practice can then read it and add it to your NHS record."</p>
        </div>
    }
}

/// Small tags after an entry's title: label, sharing, and where it came from.
#[component]
pub fn EntryTags(label: PrivacyLabel, shared: bool) -> impl IntoView {
    view! {
        <span class="tags">
            {(label != PrivacyLabel::General).then(|| view! { <span class="tag">{label.label()}</span> })}
            {shared.then(|| view! { <span class="tag shared">"Shared with GP practice"</span> })}
        </span>
    }
}

/// One entry in a list, with any extra controls after it.
#[component]
pub fn EntryItem(
    entry: EntrySummaryView,
    /// The record, when it is someone else's.
    #[prop(default = None)]
    patient: Option<String>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let href = on_record(&format!("/record/entries/{}", entry.id), &patient);
    view! {
        <li class="entry">
            <p class="entry-title">
                <a href=href>{entry.title}</a>
                " "
                <EntryTags label=entry.label shared=entry.shared_with_practice/>
            </p>
            <p class="entry-summary">{entry.summary}</p>
            {entry.concern.map(|c| view! { <p class="concern"><strong>"Check this: "</strong>{c.summary}</p> })}
            <p class="meta">
                <time datetime=entry.occurred_at.to_uk_input()>{entry.occurred_at.to_uk_string()}</time>
                ". Entered by " {entry.entered_by} "."
            </p>
            {children.map(|c| c())}
        </li>
    }
}

/// "About me", shown first on the record.
#[component]
fn AboutMePanel(about: Option<AboutMeView>, own: bool) -> impl IntoView {
    match about {
        Some(a) => {
            let rows =
                a.about.answers().into_iter().map(|(q, ans)| view! { <div><dt>{q}</dt><dd class="pre">{ans}</dd></div> }).collect_view();
            view! {
                <section class="about-me" aria-labelledby="about-heading">
                    <h2 id="about-heading">"About me"</h2>
                    <dl class="summary-list">{rows}</dl>
                    {own.then(|| view! { <p><a href="/record/about-me">"Change about me"</a></p> })}
                </section>
            }
            .into_any()
        }
        None if !own => ().into_any(),
        None => view! {
            <section class="about-me" aria-labelledby="about-heading">
                <h2 id="about-heading">"About me"</h2>
                <p>"Tell the people looking after you what matters to you: what to call you, how to contact you, and what would help."</p>
                <p><a href="/record/about-me">"Add about me"</a></p>
            </section>
        }
        .into_any(),
    }
}

/// The filter form. A plain GET form, so it works the same with JavaScript off.
#[component]
fn TimelineFilters(
    types: String,
    label: String,
    from: String,
    to: String,
    error: Option<AppError>,
    patient: Option<String>,
    /// The labels the viewer may see: a carer is not even offered the others.
    allowed: Vec<PrivacyLabel>,
) -> impl IntoView {
    let field = move |f: &str| error.as_ref().and_then(|e| e.field(f));
    let type_options = TypeFilter::choices()
        .into_iter()
        .map(|(t, name)| view! { <option value=t.slug() selected=t.slug() == types>{name}</option> })
        .collect_view();
    let label_options = PrivacyLabel::ALL
        .into_iter()
        .filter(|l| allowed.contains(l))
        .map(|l| view! { <option value=l.slug() selected=l.slug() == label>{l.label()}</option> })
        .collect_view();
    let (from_error, to_error) = (field("from"), field("to"));
    let (from_bad, to_bad) = (from_error.is_some(), to_error.is_some());
    view! {
        <form method="get" action="/record" class="filters" aria-label="Filter the timeline">
            {patient.map(|p| view! { <input type="hidden" name="patient" value=p/> })}
            <div class="field">
                <label for="field-type">"Type"</label>
                <select id="field-type" name="type">{type_options}</select>
            </div>
            <div class="field">
                <label for="field-label">"Label"</label>
                <select id="field-label" name="label"><option value="">"Any label"</option>{label_options}</select>
            </div>
            <div class="field" class:field-error=from_bad>
                <label for="field-from">"From"</label>
                {from_error.map(|e| view! { <p class="error-message" id="field-from-error">"Error: " {e}</p> })}
                <input type="date" id="field-from" name="from" value=from
                    aria-invalid=from_bad.then_some("true") aria-describedby=from_bad.then_some("field-from-error")/>
            </div>
            <div class="field" class:field-error=to_bad>
                <label for="field-to">"To"</label>
                {to_error.map(|e| view! { <p class="error-message" id="field-to-error">"Error: " {e}</p> })}
                <input type="date" id="field-to" name="to" value=to
                    aria-invalid=to_bad.then_some("true") aria-describedby=to_bad.then_some("field-to-error")/>
            </div>
            <button type="submit" class="button secondary">"Show entries"</button>
        </form>
    }
}

/// The record: "about me", ways to add, the filters and the timeline, newest first.
#[component]
pub fn RecordPage() -> impl IntoView {
    let query = use_query_map();
    let q = move |k: &str| query.read().get(k).unwrap_or_default();
    let data = Resource::new(
        move || (q("type"), q("label"), q("from"), q("to"), q("after"), q("patient")),
        |(t, l, f, to, a, p)| timeline(Some(t), Some(l), Some(f), Some(to), Some(a), Some(p)),
    );
    let ctx = Resource::new(move || q("patient"), |p| record_scope(Some(p)));
    view! {
        <Title text="Record"/>
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let page = data.await;
                let patient = Some(q("patient")).filter(|p| !p.is_empty());
                let own = patient.is_none();
                let ctx = match ctx.await {
                    Ok(c) => c,
                    Err(e) => return load_problem(e, "Record", "/record".to_owned()),
                };
                let heading = if own { "Your record".to_owned() } else { format!("{}\u{2019}s record", ctx.name) };
                let (types, label, from, to) = (q("type"), q("label"), q("from"), q("to"));
                let filtered = !(types.is_empty() && label.is_empty() && from.is_empty() && to.is_empty());
                let (entries, next, about, error) = match page {
                    Ok(p) => (p.entries, p.next, p.about_me, None),
                    // A filter that does not make sense: say so by the filter, and show nothing.
                    Err(AppError::Invalid(list)) => (Vec::new(), None, None, Some(AppError::Invalid(list))),
                    Err(e) => return load_problem(e, "Record", "/record".to_owned()),
                };
                let p = q("patient");
                let filter_params: Vec<String> = [("type", &types), ("label", &label), ("from", &from), ("to", &to), ("patient", &p)]
                    .into_iter()
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| format!("{k}={}", url_encode(v)))
                    .collect();
                let newest_href = if filter_params.is_empty() { "/record".to_owned() } else { format!("/record?{}", filter_params.join("&")) };
                let clear_href = on_record("/record", &patient);
                let next_href = next.map(|n| {
                    let mut params = filter_params.clone();
                    params.push(format!("after={}", url_encode(&n)));
                    format!("/record?{}", params.join("&"))
                });
                let first_page = q("after").is_empty();
                let empty = entries.is_empty();
                let items = entries.into_iter().map(|e| view! { <EntryItem entry=e patient=patient.clone()/> }).collect_view();
                view! {
                    <ActingFor patient=patient.clone()/>
                    <h1>{heading}</h1>
                    {(!q("welcome").is_empty()).then(|| view! {
                        <Notice><p>"You have accepted the invitation. Everything you see or add here is recorded under your own name."</p></Notice>
                    })}
                    {(!q("deleted").is_empty()).then(|| view! {
                        <Notice><p>"The entry was deleted. You can restore it from " <a href="/record/deleted">"recently deleted entries"</a> " for 30 days."</p></Notice>
                    })}
                    {error.is_none().then(|| view! { <AboutMePanel about=about own=own/> })}
                    <p><a href=on_record("/record/nhs", &patient)>{if own { "Your NHS record" } else { "Their NHS record" }}</a>
                       ": problems, medicines, allergies, results and letters from the shared care record."</p>
                    <p><a href=on_record("/record/summary", &patient)>"A health summary to print"</a>
                       ": what matters, problems, medicines, allergies, recent readings and who to contact, on one page."</p>
                    {ctx.can_export.then(|| view! {
                        <p><a href=on_record("/record/export", &patient)>"Download a copy of the record"</a>
                           ": everything you may see, to read, print or take to another service."</p>
                        <p><a href=on_record("/record/links", &patient)>"Health links and QR codes"</a>
                           ": let a doctor or an ambulance crew read the health summary, for as long as you choose."</p>
                    })}
                    {if ctx.can_add {
                        view! {
                            <h2>{if own { "Add to your record" } else { "Add to their record" }}</h2>
                            <ul class="add-links">
                                <li><a class="button" href=on_record("/record/readings/new", &patient)>"Add a reading"</a></li>
                                <li><a class="button" href=on_record("/record/notes/new", &patient)>"Write a note"</a></li>
                                <li><a class="button secondary" href=on_record("/record/charts", &patient)>"See charts"</a></li>
                            </ul>
                        }.into_any()
                    } else {
                        view! { <p><a class="button secondary" href=on_record("/record/charts", &patient)>"See charts"</a></p> }.into_any()
                    }}
                    <h2 id="timeline-heading">"Timeline"</h2>
                    <ErrorSummary error=Signal::derive({ let error = error.clone(); move || error.clone() })/>
                    <TimelineFilters types=types.clone() label=label.clone() from=from.clone() to=to.clone() error=error patient=patient.clone() allowed=ctx.labels.clone()/>
                    {filtered.then(|| view! { <p><a href=clear_href>"Clear the filters"</a></p> })}
                    {if empty {
                        view! { <p>{if filtered || !first_page { "No entries match." } else { "Nothing here yet. Readings and notes you add will appear here, newest first." }}</p> }.into_any()
                    } else {
                        view! { <ol class="timeline" aria-labelledby="timeline-heading">{items}</ol> }.into_any()
                    }}
                    <nav class="pager" aria-label="Timeline pages">
                        {(!first_page).then(|| view! { <a href=newest_href>"Newest entries"</a> })}
                        {next_href.map(|h| view! { <a href=h rel="next">"Older entries"</a> })}
                    </nav>
                    {own.then(|| view! {
                        <ul class="record-links">
                            <li><a href="/record/deleted">"Recently deleted entries"</a></li>
                            <li><a href="/record/people">"Who can see my record"</a></li>
                            <li><a href="/record/practice">"Your GP practice"</a></li>
                            <li><a href="/record/access-log">"Who has looked at my record"</a></li>
                        </ul>
                    })}
                }
                .into_any()
            })}
        </Suspense>
    }
}

/// Percent-encodes a query value (letters, digits and `-._~` pass through).
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
