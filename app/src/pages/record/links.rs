//! Health links and QR codes (`/record/links`): make a SMART Health Link to the health summary
//! with the labels chosen, and see every link, who used it and when, and end any of them.
//! Drawn on the server; making a link is a plain form post whose answer is the link's card.

use super::{load_problem, on_record, patient_param, ActingFor};
use crate::api::{record_health_links, EndHealthLink};
use domain::health_links::{HealthLinkView, Lasts, LinkState};
use domain::PrivacyLabel;
use leptos::prelude::*;
use leptos_meta::Title;

/// One link: what it holds, where it stands, its uses, and a way to end it.
fn link_item(l: HealthLinkView, patient: Option<String>, end: ServerAction<EndHealthLink>) -> impl IntoView {
    let labels: Vec<&str> = l.labels.iter().map(|x| x.label()).collect();
    let mut facts = vec![format!("Holds: {}", labels.join(", ")), format!("Made by {} on {}", l.made_by, l.made_at.to_uk_string())];
    facts.push(match l.state {
        LinkState::Active => format!("Works until {}", l.expires_at.to_uk_string()),
        other => other.words().to_owned(),
    });
    if l.passcode {
        facts.push(format!("Needs a passcode ({} wrong tries left)", l.attempts_left.max(0)));
    }
    if l.long_term {
        facts.push("Always shows the summary as it is now".to_owned());
    }
    let uses = if l.uses.is_empty() {
        view! { <p>"Not used yet."</p> }.into_any()
    } else {
        let rows = l.uses.iter().map(|u| view! { <li>{format!("{}: {}", u.at.to_uk_string(), u.words)}</li> }).collect_view();
        view! { <ul>{rows}</ul> }.into_any()
    };
    let active = l.state == LinkState::Active;
    let heading_id = format!("link-{}", l.id);
    let labelled_by = heading_id.clone();
    let button = format!("End \u{201c}{}\u{201d} now", l.label);
    view! {
        <li aria-labelledby=labelled_by>
            <h3 id=heading_id>{l.label.clone()} <span class="badge">{l.state.words()}</span></h3>
            <p>{facts.join(". ")} "."</p>
            <h4>"Uses"</h4>
            {uses}
            {active.then(|| view! {
                <ActionForm action=end>
                    <input type="hidden" name="patient" value=patient.clone().unwrap_or_default()/>
                    <input type="hidden" name="id" value=l.id.clone()/>
                    <button type="submit" class="button warning">{button}</button>
                </ActionForm>
            })}
        </li>
    }
}

/// The links page.
#[component]
pub fn HealthLinksPage() -> impl IntoView {
    let patient = patient_param();
    let end = ServerAction::<EndHealthLink>::new();
    // Read again once a link is ended, so the page shows it ended.
    let data = Resource::new(move || (patient.clone(), end.version().get()), |(p, _)| record_health_links(p));
    view! {
        <Title text="Health links and QR codes"/>
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let p = patient_param();
                let v = match data.await {
                    Ok(v) => v,
                    Err(e) => return load_problem(e, "Health links and QR codes", on_record("/record/links", &p)),
                };
                let whose = if v.own { "your".to_owned() } else { format!("{}\u{2019}s", v.patient_name) };
                let boxes = v.labels.iter().map(|l| {
                    let id = format!("link-label-{}", l.slug());
                    view! {
                        <div class="checkbox">
                            <input type="checkbox" id=id.clone() name="labels" value=l.slug() checked=*l == PrivacyLabel::General/>
                            <label for=id>{l.label()}</label>
                        </div>
                    }
                }).collect_view();
                let lasts = Lasts::ALL.into_iter().map(|d| {
                    let id = format!("link-expires-{}", d.slug());
                    view! {
                        <div class="radio">
                            <input type="radio" id=id.clone() name="expires" value=d.slug() checked=d == Lasts::Day/>
                            <label for=id>{d.words()}</label>
                        </div>
                    }
                }).collect_view();
                let long_term = v.long_term_offered.then(|| view! {
                    <div class="checkbox field">
                        <input type="checkbox" id="link-long-term" name="long_term" value="yes"/>
                        <label for="link-long-term">"Always show the summary as it is when the link is opened"</label>
                        <p class="hint">"Otherwise the link shows the summary as it is now. For this, Carry keeps the link\u{2019}s key, locked with the server\u{2019}s own key."</p>
                    </div>
                });
                let none = v.links.is_empty();
                let links = v.links.into_iter().map(|l| link_item(l, p.clone(), end)).collect_view();
                let hidden_patient = p.clone().unwrap_or_default();
                view! {
                    <ActingFor patient=p.clone()/>
                    <h1>"Health links and QR codes"</h1>
                    <p>{format!("A health link lets someone who is not at the GP practice, such as an ambulance crew or a doctor in another country, read {whose} health summary: problems, medicines, allergies, vaccinations, recent results, the latest home readings and \u{201c}about me\u{201d}. It follows the international SMART Health Links standard, so other health apps can open it too.")}</p>
                    <p>"Anyone who has the link (or scans its QR code) can read the summary until it ends, so choose carefully what it holds. Every look is in the access log, and you can end a link at any time."</p>
                    <h2>"Make a new link"</h2>
                    <form method="post" action="/record/links/new" novalidate="">
                        <input type="hidden" name="patient" value=hidden_patient/>
                        <div class="field" id="field-label">
                            <label for="link-label">"Name of the link"</label>
                            <p class="hint">"For you to recognise it, such as \u{201c}A&E card\u{201d}. Whoever opens it sees this name too."</p>
                            <input type="text" id="link-label" name="label" maxlength="80" autocomplete="off" required=""/>
                        </div>
                        <fieldset class="field" id="field-labels">
                            <legend>"What it holds"</legend>
                            <p class="hint">"Only general entries are ticked for you. Tick a sensitive label only if you mean whoever opens the link to see it."</p>
                            {boxes}
                        </fieldset>
                        <fieldset class="field" id="field-expires">
                            <legend>"How long it works"</legend>
                            {lasts}
                        </fieldset>
                        <div class="field" id="field-passcode">
                            <label for="link-passcode">"Passcode (optional)"</label>
                            <p class="hint">"At least 6 characters. Whoever uses the link must type it; after 5 wrong tries the link stops working. Tell it to them: it is not on the card."</p>
                            <input type="text" id="link-passcode" name="passcode" maxlength="64" autocomplete="off"/>
                        </div>
                        {long_term}
                        <button type="submit" class="button">"Make the link and its QR code"</button>
                    </form>
                    <h2>{if v.own { "Your links".to_owned() } else { "Links you made".to_owned() }}</h2>
                    {none.then(|| view! { <p>"No links yet."</p> })}
                    <ul class="health-links">{links}</ul>
                    <p><a href=on_record("/record", &p)>"Back to the record"</a></p>
                }.into_any()
            })}
        </Suspense>
    }
}
