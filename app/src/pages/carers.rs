//! Carers' access: "Who can see my record" (invite, change, stop), the invitation link, the
//! carer's "People you care for", notices, and "Who has looked at my record".

use super::record::{load_problem, url_encode};
use crate::api::{
    access_log, caring_for, grants, invitation, notices, record_offer, AddChild, AnswerInvitation, ChangeGrant, ConfirmGrant, InviteCarer,
    MarkNoticesRead, OfferRecord, RevokeGrant, TakeRecord,
};
use crate::components::{ErrorSummary, Field, Notice};
use crate::error::AppError;
use domain::grants::{scope_words, CarerRelationship, GrantBasis};
use domain::views::GrantView;
use domain::{PrivacyLabel, Span};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The labels, "may add", "may take it out" and end date of a grant, as form fields. `prefix` keeps the ids of
/// several forms on one page apart.
#[component]
fn ScopeFields(
    prefix: String,
    labels: Vec<PrivacyLabel>,
    can_add: bool,
    can_export: bool,
    ends_on: String,
    #[prop(into)] error: Signal<Option<AppError>>,
) -> impl IntoView {
    let labels_error = move || error.get().and_then(|e| e.field("labels"));
    let ends_error = move || error.get().and_then(|e| e.field("ends_on"));
    let boxes = PrivacyLabel::ALL
        .into_iter()
        .map(|l| {
            let id = format!("{prefix}-label-{}", l.slug());
            let name = format!("label_{}", l.slug().replace('-', "_"));
            view! {
                <div class="checkbox">
                    <input type="checkbox" id=id.clone() name=name value="yes" checked=labels.contains(&l)/>
                    <label for=id>{l.label()}</label>
                </div>
            }
        })
        .collect_view();
    let add_id = format!("{prefix}-can-add");
    let export_id = format!("{prefix}-can-export");
    let export_hint = format!("{prefix}-can-export-hint");
    let ends_id = format!("{prefix}-ends-on");
    view! {
        <fieldset class="field" class:field-error=move || labels_error().is_some() id=format!("{prefix}-labels")>
            <legend>"What they may see"</legend>
            <p class="hint">"Entries with other labels are hidden from them completely. Sensitive labels are never ticked for you."</p>
            <p class="error-message" hidden=move || labels_error().is_none()>{move || labels_error().map(|e| format!("Error: {e}"))}</p>
            {boxes}
        </fieldset>
        <div class="field checkbox">
            <input type="checkbox" id=add_id.clone() name="can_add" value="yes" checked=can_add/>
            <label for=add_id>"They may add readings and notes for me"</label>
        </div>
        <div class="field checkbox">
            <input type="checkbox" id=export_id.clone() name="can_export" value="yes" checked=can_export aria-describedby=export_hint.clone()/>
            <label for=export_id>"They may download my record and make health links to my summary"</label>
            <p class="hint" id=export_hint>"Only what they may see. You are told whenever they make a link, and can end it."</p>
        </div>
        <div class="field" class:field-error=move || ends_error().is_some()>
            <label for=ends_id.clone()>"Last day of access"</label>
            <p class="hint">"Access ends after this day. You can stop it sooner at any time."</p>
            <p class="error-message" hidden=move || ends_error().is_none()>{move || ends_error().map(|e| format!("Error: {e}"))}</p>
            <input type="date" id=ends_id name="ends_on" value=ends_on/>
        </div>
    }
}

/// One grant on "Who can see my record", with its change and stop controls.
#[component]
fn GrantCard(
    g: GrantView,
    change: ServerAction<ChangeGrant>,
    revoke: ServerAction<RevokeGrant>,
    confirm: ServerAction<ConfirmGrant>,
) -> impl IntoView {
    let error = Signal::derive(move || change.value().get().and_then(Result::err));
    let last_day = g.ends_at.minus(Span::millis(1)).to_uk_date_input();
    let history = g.history.iter().map(|h| view! { <li>{h.clone()}</li> }).collect_view();
    let prefix = format!("grant-{}", g.id);
    let heading_id = format!("{prefix}-heading");
    let labelled_by = heading_id.clone();
    let stop_label = if g.invited { "Withdraw the invitation" } else { "Stop access now" };
    view! {
        <section class="grant" aria-labelledby=labelled_by>
            <h3 id=heading_id>{g.carer_name.clone()} " (" {g.relationship.label()} ")"</h3>
            <p><strong>{g.state.clone()}</strong></p>
            <p>
                {scope_words(&g.labels, g.can_add, g.can_export)} ". Basis: " {g.basis.label()} "."
                {(!g.email.is_empty()).then(|| format!(" Invitation sent to {}.", g.email))}
            </p>
            {g.open.then(|| {
                let (id1, id2) = (g.id.to_string(), g.id.to_string());
                let (version, version2) = (g.version.to_string(), g.version.to_string());
                view! {
                    <details>
                        <summary>"Change their access"</summary>
                        <ActionForm action=change attr:novalidate="">
                            <input type="hidden" name="id" value=id1/>
                            <input type="hidden" name="version" value=version/>
                            <ScopeFields prefix=prefix.clone() labels=g.labels.clone() can_add=g.can_add can_export=g.can_export ends_on=last_day.clone() error=error/>
                            <button type="submit" class="button secondary">"Save changes"</button>
                        </ActionForm>
                    </details>
                    <ActionForm action=revoke>
                        <input type="hidden" name="id" value=id2/>
                        <input type="hidden" name="version" value=version2/>
                        <button type="submit" class="button warning">{stop_label}</button>
                    </ActionForm>
                }
            })}
            {g.can_confirm.then(|| {
                let (id, version) = (g.id.to_string(), g.version.to_string());
                view! {
                    <p>"This is a parent\u{2019}s access. It pauses when you turn 16 unless you confirm that it should continue. You can stop it at any time."</p>
                    <ActionForm action=confirm>
                        <input type="hidden" name="id" value=id/>
                        <input type="hidden" name="version" value=version/>
                        <button type="submit" class="button secondary">"Keep this access after I turn 16"</button>
                    </ActionForm>
                }
            })}
            <details>
                <summary>"History"</summary>
                <ul>{history}</ul>
            </details>
        </section>
    }
}

/// "Who can see my record": every carer and invitation, and the invitation form.
#[component]
pub fn PeoplePage() -> impl IntoView {
    let invite = ServerAction::<InviteCarer>::new();
    let change = ServerAction::<ChangeGrant>::new();
    let revoke = ServerAction::<RevokeGrant>::new();
    let confirm = ServerAction::<ConfirmGrant>::new();
    let data = Resource::new(
        move || (change.version().get(), revoke.version().get(), invite.version().get(), confirm.version().get()),
        |_| grants(),
    );
    let query = use_query_map();
    let flag = move |k: &str| query.read().get(k).is_some();
    let invite_error = Signal::derive(move || invite.value().get().and_then(Result::err));
    let field = move |f: &'static str| Signal::derive(move || invite_error.get().and_then(|e| e.field(f)));
    let other_error = Signal::derive(move || {
        revoke
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| change.value().get().and_then(Result::err))
            .or_else(|| confirm.value().get().and_then(Result::err))
    });
    view! {
        <Title text="Who can see my record"/>
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let list = match data.await {
                    Ok(l) => l,
                    Err(e) => return load_problem(e, "Who can see my record", "/record/people".to_owned()),
                };
                let empty = list.is_empty();
                let cards = list.into_iter().map(|g| view! { <GrantCard g=g change=change revoke=revoke confirm=confirm/> }).collect_view();
                let relationships = CarerRelationship::ALL
                    .into_iter()
                    .map(|r| view! { <option value=r.code()>{r.label()}</option> })
                    .collect_view();
                let bases = [GrantBasis::PatientConsent, GrantBasis::LastingPowerOfAttorney, GrantBasis::CourtAppointedDeputy]
                    .into_iter()
                    .map(|b| view! { <option value=b.slug()>{b.label()}</option> })
                    .collect_view();
                view! {
                    <p><a href="/record">"Back to your record"</a></p>
                    <h1>"Who can see my record"</h1>
                    {flag("invited").then(|| view! { <Notice><p>"Invitation sent. It works for 7 days."</p></Notice> })}
                    {flag("changed").then(|| view! { <Notice><p>"Their access has been changed. They have been told."</p></Notice> })}
                    {flag("stopped").then(|| view! { <Notice><p>"Done. They can no longer see your record, from their very next click."</p></Notice> })}
                    {flag("confirmed").then(|| view! { <Notice><p>"Confirmed. Their access continues after you turn 16. You can still stop it at any time."</p></Notice> })}
                    {flag("taken").then(|| view! { <Notice><p>"Your record is now yours. Below is everyone who can see it: you can stop anyone\u{2019}s access."</p></Notice> })}
                    <ErrorSummary error=other_error/>
                    <p>"You and only you decide who else can see your record. Carers use their own account, and everything they do is shown in "
                        <a href="/record/access-log">"who has looked at your record"</a> "."</p>
                    <h2>"Carers"</h2>
                    {if empty { view! { <p>"Nobody else can see your record."</p> }.into_any() } else { view! { <div class="grants">{cards}</div> }.into_any() }}
                    <h2 id="invite-heading">"Invite a carer"</h2>
                    <p>"We will email them a link that works for 7 days. They will need an account of their own."</p>
                    <ErrorSummary error=invite_error/>
                    <ActionForm action=invite attr:novalidate="" attr:aria-labelledby="invite-heading">
                        <Field name="name" label="Their name" autocomplete="off" error=field("name")/>
                        <Field name="email" label="Their email address" kind="email" autocomplete="off" error=field("email")/>
                        <div class="field" class:field-error=move || field("relationship").get().is_some()>
                            <label for="field-relationship">"How are they related to you?"</label>
                            <p class="error-message" hidden=move || field("relationship").get().is_none()>{move || field("relationship").get().map(|e| format!("Error: {e}"))}</p>
                            <select id="field-relationship" name="relationship">{relationships}</select>
                        </div>
                        <div class="field">
                            <label for="field-basis">"On what basis?"</label>
                            <select id="field-basis" name="basis">{bases}</select>
                        </div>
                        <ScopeFields prefix="invite".to_owned() labels=vec![PrivacyLabel::General] can_add=false can_export=false ends_on=String::new() error=invite_error/>
                        <button type="submit" class="button">"Send the invitation"</button>
                    </ActionForm>
                }.into_any()
            })}
        </Suspense>
    }
}

/// Opened from the invitation email: what is offered, and accept or decline.
#[component]
pub fn InvitationPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let data = Resource::new(token, invitation);
    let who = Resource::new(|| (), |_| crate::api::me());
    let answer = ServerAction::<AnswerInvitation>::new();
    let error = Signal::derive(move || answer.value().get().and_then(Result::err));
    view! {
        <Title text="An invitation to help"/>
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let inv = match data.await {
                    Ok(i) => i,
                    Err(e) => return view! { <h1>"An invitation to help"</h1><ErrorSummary error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                };
                let signed_in = matches!(who.await, Ok(Some(_)));
                let back = format!("/invitations/{}", token());
                let sign_in = format!("/sign-in?next={}", url_encode(&back));
                view! {
                    <h1>{inv.patient_name.clone()} " has invited you to help with their record"</h1>
                    <p>"Hello " {inv.invited_name.clone()} ". " {inv.patient_name.clone()} " would like you to have access as their " {inv.relationship.label().to_lowercase()} "."</p>
                    <dl class="summary-list">
                        <div><dt>"You may see"</dt><dd>{inv.labels.iter().map(|l| l.label()).collect::<Vec<_>>().join(", ")}</dd></div>
                        <div><dt>"You may"</dt><dd>{match (inv.can_add, inv.can_export) {
                            (false, false) => "view their record",
                            (true, false) => "view their record and add readings and notes for them",
                            (false, true) => "view their record, download it and make health links to their summary",
                            (true, true) => "view their record, add readings and notes for them, download it and make health links to their summary",
                        }}</dd></div>
                        <div><dt>"From"</dt><dd>{inv.starts_at.to_uk_date()}</dd></div>
                        <div><dt>"Until"</dt><dd>{inv.ends_at.minus(Span::millis(1)).to_uk_date()}</dd></div>
                    </dl>
                    <p>"Everything you see or add is recorded under your own name, and " {inv.patient_name.clone()} " can stop your access at any time."</p>
                    <ErrorSummary error=error/>
                    {if signed_in {
                        let (t1, t2) = (token(), token());
                        view! {
                            <ActionForm action=answer>
                                <input type="hidden" name="token" value=t1/>
                                <input type="hidden" name="answer" value="accept"/>
                                <button type="submit" class="button">"Accept"</button>
                            </ActionForm>
                            <ActionForm action=answer>
                                <input type="hidden" name="token" value=t2/>
                                <input type="hidden" name="answer" value="decline"/>
                                <button type="submit" class="button secondary">"Decline"</button>
                            </ActionForm>
                        }.into_any()
                    } else {
                        view! {
                            <p>"To accept, sign in with your own account, or create one and then open this link again."</p>
                            <p><a class="button" href=sign_in>"Sign in to accept"</a> " " <a class="button secondary" href="/register">"Create an account"</a></p>
                        }.into_any()
                    }}
                }.into_any()
            })}
        </Suspense>
    }
}

/// "People you care for": the carer's dashboard, and making a child's record.
#[component]
pub fn CaringPage() -> impl IntoView {
    let add_child = ServerAction::<AddChild>::new();
    let offer = ServerAction::<OfferRecord>::new();
    let data = Resource::new(move || offer.version().get(), |_| caring_for());
    let offer_error = Signal::derive(move || offer.value().get().and_then(Result::err));
    let offer_field = move |f: &'static str| Signal::derive(move || offer_error.get().and_then(|e| e.field(f)));
    let query = use_query_map();
    let offered = move || query.read().get("offered").is_some();
    let error = Signal::derive(move || add_child.value().get().and_then(Result::err));
    let field = move |f: &'static str| Signal::derive(move || error.get().and_then(|e| e.field(f)));
    view! {
        <Title text="People you care for"/>
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let people = match data.await {
                    Ok(p) => p,
                    Err(e) => return load_problem(e, "People you care for", "/caring".to_owned()),
                };
                let empty = people.is_empty();
                let offerable: Vec<(String, String)> =
                    people.iter().filter(|p| p.can_hand_over).map(|p| (p.patient_id.to_string(), p.name.clone())).collect();
                let items = people.into_iter().map(|p| {
                    let href = format!("/record?patient={}", p.patient_id);
                    let labels: Vec<&str> = p.labels.iter().map(|l| l.label()).collect();
                    view! {
                        <li class="cared-for">
                            <h2>{if p.in_force {
                                view! { <a href=href>{p.name.clone()}</a> }.into_any()
                            } else {
                                view! { <span>{p.name.clone()}</span> }.into_any()
                            }}</h2>
                            <p>{p.state.clone()}</p>
                            {p.in_force.then(|| view! { <p>"You can see: " {labels.join(", ")} ". " {if p.can_add { "You can add entries." } else { "You can view only." }}
                                {p.can_export.then_some(" You can download their record and make health links to their summary.")}</p> })}
                            {p.offered_to.clone().map(|to| view! { <p>"You offered " {p.name.clone()} " their own record at " {to} ". The link works for 7 days."</p> })}
                        </li>
                    }
                }).collect_view();
                view! {
                    <h1>"People you care for"</h1>
                    {offered().then(|| view! { <Notice><p>"The link is on its way. It works for 7 days."</p></Notice> })}
                    <ErrorSummary error=offer_error/>
                    {if empty {
                        view! { <p>"Nobody has given you access to their record yet. When someone invites you, open the link in their email."</p> }.into_any()
                    } else {
                        view! { <ul class="cared-for-list">{items}</ul> }.into_any()
                    }}
                    {(!offerable.is_empty()).then(|| {
                        let options = offerable
                            .into_iter()
                            .map(|(id, name)| view! { <option value=id>{name}</option> })
                            .collect_view();
                        view! {
                            <h2 id="offer-heading">"Give a young person their own record"</h2>
                            <p>"From 13 a young person can hold their own record. We will email them a link that works for 7 days; they take the record with their own account and then decide who else can see it, you included."</p>
                            <ActionForm action=offer attr:novalidate="" attr:aria-labelledby="offer-heading">
                                <div class="field">
                                    <label for="field-patient">"Whose record"</label>
                                    <select id="field-patient" name="patient">{options}</select>
                                </div>
                                <Field name="email" label="Their email address" kind="email" error=offer_field("email")/>
                                <button type="submit" class="button secondary">"Send them the link"</button>
                            </ActionForm>
                        }
                    })}
                    <h2>"A child\u{2019}s record"</h2>
                    <p>"If you have parental responsibility for a child, you can keep a record for them. Your access narrows to general entries when they turn 11 and pauses at 16 unless they confirm it."</p>
                    <ErrorSummary error=error/>
                    <ActionForm action=add_child attr:novalidate="">
                        <Field name="name" label="The child\u{2019}s name" error=field("name")/>
                        <Field name="born_on" label="Date of birth" kind="date" error=field("born_on")/>
                        <button type="submit" class="button secondary">"Make the record"</button>
                    </ActionForm>
                }.into_any()
            })}
        </Suspense>
    }
}

/// Opened from the email offering a young person their own record.
#[component]
pub fn TakeRecordPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let data = Resource::new(token, record_offer);
    let who = Resource::new(|| (), |_| crate::api::me());
    let take = ServerAction::<TakeRecord>::new();
    let error = Signal::derive(move || take.value().get().and_then(Result::err));
    view! {
        <Title text="Your own record"/>
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let offer = match data.await {
                    Ok(o) => o,
                    Err(e) => return view! { <h1>"Your own record"</h1><ErrorSummary error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                };
                let signed_in = matches!(who.await, Ok(Some(_)));
                let back = format!("/records/take/{}", token());
                let sign_in = format!("/sign-in?next={}", url_encode(&back));
                view! {
                    <h1>"Your own record, " {offer.patient_name.clone()}</h1>
                    <p>{offer.offered_by.clone()} " has kept your health record in Carry for you, and now offers it to you to hold with your own account."</p>
                    <p>"Once it is yours, you decide who else can see it. " {offer.offered_by.clone()} " keeps the access they have now until you change it; you can stop it at any time, and it pauses when you turn 16 unless you confirm it."</p>
                    <p>"Take it with the account for " <strong>{offer.email.clone()}</strong> ". This link works until " {offer.expires_at.to_uk_date()} "."</p>
                    <ErrorSummary error=error/>
                    {if signed_in {
                        let t = token();
                        view! {
                            <ActionForm action=take>
                                <input type="hidden" name="token" value=t/>
                                <button type="submit" class="button">"Take my record"</button>
                            </ActionForm>
                        }.into_any()
                    } else {
                        view! {
                            <p>"Sign in with your own account, or create one with that address and then open this link again."</p>
                            <p><a class="button" href=sign_in>"Sign in to take it"</a> " " <a class="button secondary" href="/register">"Create an account"</a></p>
                        }.into_any()
                    }}
                }.into_any()
            })}
        </Suspense>
    }
}

/// Notices about access: given, changed, ending, stopped.
#[component]
pub fn NoticesPage() -> impl IntoView {
    let mark = ServerAction::<MarkNoticesRead>::new();
    let data = Resource::new(move || mark.version().get(), |_| notices());
    view! {
        <Title text="Notices"/>
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let list = match data.await {
                    Ok(l) => l,
                    Err(e) => return load_problem(e, "Notices", "/notices".to_owned()),
                };
                let empty = list.is_empty();
                let any_unread = list.iter().any(|n| n.unread);
                let items = list.into_iter().map(|n| view! {
                    <li class:unread=n.unread>
                        <p><a href=n.link.clone()>{n.text.clone()}</a></p>
                        <p class="meta"><time datetime=n.at.to_uk_input()>{n.at.to_uk_string()}</time>{n.unread.then_some(" (new)")}</p>
                    </li>
                }).collect_view();
                view! {
                    <h1>"Notices"</h1>
                    {if empty { view! { <p>"No notices."</p> }.into_any() } else { view! { <ul class="notices">{items}</ul> }.into_any() }}
                    {any_unread.then(|| view! {
                        <ActionForm action=mark>
                            <button type="submit" class="button secondary">"Mark all as read"</button>
                        </ActionForm>
                    })}
                }.into_any()
            })}
        </Suspense>
    }
}

/// "Who has looked at my record", newest first, with filters and pages.
#[component]
pub fn AccessLogPage() -> impl IntoView {
    let query = use_query_map();
    let q = move |k: &str| query.read().get(k).unwrap_or_default();
    let data = Resource::new(move || (q("who"), q("outcome"), q("before")), |(w, o, b)| access_log(Some(w), Some(o), Some(b)));
    view! {
        <Title text="Who has looked at my record"/>
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let (who, outcome) = (q("who"), q("outcome"));
                let (view_, error) = match data.await {
                    Ok(v) => (Some(v), None),
                    Err(AppError::Invalid(list)) => (None, Some(AppError::Invalid(list))),
                    Err(e) => return load_problem(e, "Who has looked at my record", "/record/access-log".to_owned()),
                };
                let people = view_.as_ref().map(|v| v.people.clone()).unwrap_or_default();
                let person_options = people.into_iter().map(|(id, name)| {
                    let selected = id == who;
                    view! { <option value=id selected=selected>{name}</option> }
                }).collect_view();
                let (rows, next) = view_.map(|v| (v.rows, v.next)).unwrap_or_default();
                let empty = rows.is_empty();
                let items = rows.into_iter().map(|r| view! {
                    <li class:refused=r.refused>
                        <p>{r.words.clone()} ", " <time datetime=r.at.to_uk_input()>{r.at.to_uk_string()}</time></p>
                    </li>
                }).collect_view();
                let next_href = next.map(|n| format!("/record/access-log?who={}&outcome={}&before={}", url_encode(&who), url_encode(&outcome), url_encode(&n)));
                let first_page = q("before").is_empty();
                view! {
                    <p><a href="/record">"Back to your record"</a></p>
                    <h1>"Who has looked at my record"</h1>
                    <p>"Every time anyone opens or changes your record in Carry, or is refused, it is listed here. Nobody can remove a line."</p>
                    <ErrorSummary error=Signal::derive({ let e = error.clone(); move || e.clone() })/>
                    <form method="get" action="/record/access-log" class="filters" aria-label="Filter the list">
                        <div class="field">
                            <label for="field-who">"Who"</label>
                            <select id="field-who" name="who">
                                <option value="" selected=who.is_empty()>"Other people"</option>
                                <option value="all" selected=who == "all">"Everyone, you included"</option>
                                {person_options}
                            </select>
                        </div>
                        <div class="field">
                            <label for="field-outcome">"Show"</label>
                            <select id="field-outcome" name="outcome">
                                <option value="" selected=outcome != "refused">"Everything"</option>
                                <option value="refused" selected=outcome == "refused">"Only refused attempts"</option>
                            </select>
                        </div>
                        <button type="submit" class="button secondary">"Show"</button>
                    </form>
                    {if empty {
                        view! { <p>{if first_page { "Nobody else has looked at your record." } else { "No more." }}</p> }.into_any()
                    } else {
                        view! { <ol class="access-log">{items}</ol> }.into_any()
                    }}
                    <nav class="pager" aria-label="Pages">
                        {(!first_page).then(|| view! { <a href="/record/access-log">"Newest"</a> })}
                        {next_href.map(|h| view! { <a href=h rel="next">"Older"</a> })}
                    </nav>
                }.into_any()
            })}
        </Suspense>
    }
}
