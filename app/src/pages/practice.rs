//! The practice staff's pages: their home (link requests, staff and invitations for
//! administrators; the way to the inbox for clinicians; their patients for social care
//! workers), and the page that takes up a staff invitation.

pub mod review;

use super::record::load_problem;
use crate::api::{
    staff_home, staff_invitation, DecideLink, InviteStaff, JoinPractice, RecheckCareRecordMatch, RemoveStaff, RetryCareRecordSend,
};
use crate::components::{ErrorSummary, Field, Notice};
use domain::practice_views::{CareRecordSendsView, LinkRequestView, StaffHomeView};
use domain::practices::StaffRole;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// One request to link, with accept and decline.
#[component]
fn LinkRequest(r: LinkRequestView, decide: ServerAction<DecideLink>) -> impl IntoView {
    let (id1, id2) = (r.patient_id.to_string(), r.patient_id.to_string());
    let (seen1, seen2) = (r.seen.clone(), r.seen.clone());
    let reason_id = format!("reason-{}", r.patient_id);
    let heading_id = format!("request-{}", r.patient_id);
    let labelled_by = heading_id.clone();
    view! {
        <section class="grant" aria-labelledby=labelled_by>
            <h3 id=heading_id>{r.name.clone()}</h3>
            <p>
                "NHS number " <strong>{r.nhs_number.clone()}</strong>
                ". Born " <strong>{r.born_on.clone().unwrap_or_else(|| "(not given)".to_owned())}</strong>
                ". Asked " {r.requested_at.to_uk_string()} "."
            </p>
            <p class="hint">"Check the name, NHS number and date of birth against your clinical system before accepting. If the patient asks again meanwhile, nothing is decided and you see the new request."</p>
            <ActionForm action=decide>
                <input type="hidden" name="patient" value=id1/>
                <input type="hidden" name="seen" value=seen1/>
                <input type="hidden" name="decision" value="accept"/>
                <button type="submit" class="button">"Accept: this is our patient" <span class="visually-hidden">{r.name.clone()}</span></button>
            </ActionForm>
            <details>
                <summary>"Decline"</summary>
                <ActionForm action=decide>
                    <input type="hidden" name="patient" value=id2/>
                    <input type="hidden" name="seen" value=seen2/>
                    <input type="hidden" name="decision" value="decline"/>
                    <div class="field">
                        <label for=reason_id.clone()>"Reason the patient will read"</label>
                        <textarea id=reason_id name="reason" rows="3"></textarea>
                    </div>
                    <button type="submit" class="button warning">"Decline the request"</button>
                </ActionForm>
            </details>
        </section>
    }
}

/// What the practice accepted that has not reached the shared care record, with "Try again"
/// on each one Carry stopped trying.
fn care_record_part(
    v: &CareRecordSendsView,
    retry: ServerAction<RetryCareRecordSend>,
    recheck: ServerAction<RecheckCareRecordMatch>,
) -> AnyView {
    let held = v
        .held
        .iter()
        .map(|h| {
            let id = h.patient_id.to_string();
            let who = h.patient_name.clone();
            view! {
                <tr>
                    <td>{h.patient_name.clone()}</td>
                    <td>{h.reason.clone()}</td>
                    <td>{h.checked_at.to_uk_string()}</td>
                    <td>
                        <ActionForm action=recheck>
                            <input type="hidden" name="patient" value=id/>
                            <button type="submit" class="link-button">"Check again" <span class="visually-hidden">{format!(" for {who}")}</span></button>
                        </ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let held_part = (!v.held.is_empty()).then(|| {
        view! {
            <h3 id="held-matches">"Records held for a person to check"</h3>
            <p>"The shared care record has a patient with each of these NHS numbers, but their details there differ from Carry's, so Carry has not matched them: nothing is pulled or sent for them. Check the patient's name and date of birth with them and with the shared care record, have the wrong one corrected, then choose \u{201c}Check again\u{201d}."</p>
            <table>
                <caption>"Records held for a person to check"</caption>
                <thead><tr><th>"Patient"</th><th>"Why it is held"</th><th>"Last checked"</th><th><span class="visually-hidden">"Action"</span></th></tr></thead>
                <tbody>{held}</tbody>
            </table>
        }
    });
    let incomplete_rows = v
        .incomplete
        .iter()
        .map(|i| view! { <tr><td>{i.patient_name.clone()}</td><td>{i.missing.clone()}</td><td>{i.since.to_uk_string()}</td></tr> })
        .collect_view();
    let incomplete_part = (!v.incomplete.is_empty()).then(|| {
        view! {
            <h3 id="incomplete-pulls">"Records not fetched whole"</h3>
            <p>"The shared care record said it holds more for these patients than it gave Carry, and Carry could not page through the rest. Their record pages say so. Ask the shared care record's team to check their server's paging; Carry keeps trying every six hours."</p>
            <table>
                <caption>"Records not fetched whole"</caption>
                <thead><tr><th>"Patient"</th><th>"What is missing"</th><th>"Since"</th></tr></thead>
                <tbody>{incomplete_rows}</tbody>
            </table>
        }
    });
    let quarantined_rows = v
        .quarantined
        .iter()
        .map(
            |q| view! { <tr><td>{q.resource_type.clone()}</td><td><code>{q.remote_id.clone()}</code></td><td>{q.reason.clone()}</td></tr> },
        )
        .collect_view();
    let quarantined_part = (!v.quarantined.is_empty()).then(|| {
        view! {
            <h3 id="not-shown">"Items Carry could not show"</h3>
            <p>"These items in the shared care record do not follow the FHIR standard in what Carry reads, or carry information Carry does not understand, so Carry keeps them but shows them to nobody. Patients and clinicians are told how many. Ask the team that wrote them to correct them; Carry reads them again when they change."</p>
            <table>
                <caption>"Items Carry could not show"</caption>
                <thead><tr><th>"Type"</th><th>"Id in the shared care record"</th><th>"Why"</th></tr></thead>
                <tbody>{quarantined_rows}</tbody>
            </table>
        }
    });
    let rows = v
        .rows
        .iter()
        .map(|r| {
            let state = if r.failed {
                "Not sent: Carry stopped trying".to_owned()
            } else {
                match r.next_attempt_at {
                    Some(t) if r.attempts > 0 => format!("Waiting: next try {}", t.to_uk_string()),
                    _ => "Waiting to be sent".to_owned(),
                }
            };
            let id = r.id.clone();
            let who = r.patient_name.clone();
            let action = r.failed.then(|| {
                view! {
                    <ActionForm action=retry>
                        <input type="hidden" name="send" value=id/>
                        <button type="submit" class="link-button">"Try again" <span class="visually-hidden">{format!(" for {who}")}</span></button>
                    </ActionForm>
                }
            });
            view! {
                <tr>
                    <td>{r.patient_name.clone()}</td>
                    <td>{r.accepted_by.clone()} ", " {r.accepted_at.to_uk_string()}</td>
                    <td>{state} {r.reason.clone().map(|why| format!(" ({why}; tried {} times)", r.attempts))}</td>
                    <td>{action}</td>
                </tr>
            }
        })
        .collect_view();
    let empty = v.rows.is_empty();
    view! {
        <h2 id="care-record">"Sending to the shared care record"</h2>
        {held_part}
        {incomplete_part}
        {quarantined_part}
        {(!v.connected).then(|| view! {
            <p>"No shared care record is connected to Carry, so accepted entries wait here until one is."</p>
        })}
        {if empty {
            view! { <p>"Everything the practice accepted has reached the shared care record."</p> }.into_any()
        } else {
            view! {
                <table>
                    <caption>"Accepted entries not yet in the shared care record"</caption>
                    <thead><tr><th>"Patient"</th><th>"Accepted by"</th><th>"State"</th><th><span class="visually-hidden">"Action"</span></th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            }.into_any()
        }}
    }
    .into_any()
}

fn admin_part(
    v: &StaffHomeView,
    decide: ServerAction<DecideLink>,
    invite: ServerAction<InviteStaff>,
    remove: ServerAction<RemoveStaff>,
    retry: ServerAction<RetryCareRecordSend>,
    recheck: ServerAction<RecheckCareRecordMatch>,
) -> AnyView {
    let invite_error = Signal::derive(move || invite.value().get().and_then(Result::err));
    let field = move |f: &'static str| Signal::derive(move || invite_error.get().and_then(|e| e.field(f)));
    let requests = v.link_requests.iter().cloned().map(|r| view! { <LinkRequest r=r decide=decide/> }).collect_view();
    let no_requests = v.link_requests.is_empty();
    let staff = v
        .staff
        .iter()
        .map(|s| {
            let id = s.user_id.to_string();
            let name = s.name.clone();
            view! {
                <tr>
                    <td>{s.name.clone()}</td><td>{s.email.clone()}</td><td>{s.job.words()}</td>
                    <td>
                        <ActionForm action=remove>
                            <input type="hidden" name="user" value=id/>
                            <button type="submit" class="link-button">"Remove" <span class="visually-hidden">{name}</span></button>
                        </ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let invitations = v
        .invitations
        .iter()
        .map(|i| view! { <li>{i.name.clone()} " (" {i.email.clone()} "), " {i.job.words()} ", until " {i.expires_at.to_uk_date()}</li> })
        .collect_view();
    let jobs = StaffRole::ALL.into_iter().map(|j| view! { <option value=j.slug()>{j.words()}</option> }).collect_view();
    let care_record = v.care_record.as_ref().map(|c| care_record_part(c, retry, recheck));
    view! {
        <h2>"Requests to link a record"</h2>
        {if no_requests { view! { <p>"No requests are waiting."</p> }.into_any() } else { requests.into_any() }}
        <h2>"Staff"</h2>
        <table><thead><tr><th>"Name"</th><th>"Email"</th><th>"Job"</th><th><span class="visually-hidden">"Remove"</span></th></tr></thead><tbody>{staff}</tbody></table>
        <h3>"Invitations not yet taken up"</h3>
        <ul>{invitations}</ul>
        <h3 id="invite-heading">"Invite someone"</h3>
        <ErrorSummary error=invite_error/>
        <ActionForm action=invite attr:novalidate="" attr:aria-labelledby="invite-heading">
            <Field name="name" label="Their name" error=field("name")/>
            <Field name="email" label="Their work email address" kind="email" error=field("email")/>
            <div class="field">
                <label for="field-job">"Job"</label>
                <select id="field-job" name="job">{jobs}</select>
            </div>
            <button type="submit" class="button">"Send the invitation"</button>
        </ActionForm>
        {care_record}
    }
    .into_any()
}

/// The staff member's home.
#[component]
pub fn PracticePage() -> impl IntoView {
    let decide = ServerAction::<DecideLink>::new();
    let invite = ServerAction::<InviteStaff>::new();
    let remove = ServerAction::<RemoveStaff>::new();
    let retry = ServerAction::<RetryCareRecordSend>::new();
    let recheck = ServerAction::<RecheckCareRecordMatch>::new();
    let data = Resource::new(
        move || (decide.version().get(), invite.version().get(), remove.version().get(), retry.version().get(), recheck.version().get()),
        |_| staff_home(),
    );
    let query = use_query_map();
    let flag = move |k: &str| query.read().get(k).is_some();
    let error = Signal::derive(move || {
        decide
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| remove.value().get().and_then(Result::err))
            .or_else(|| retry.value().get().and_then(Result::err))
            .or_else(|| recheck.value().get().and_then(Result::err))
    });
    view! {
        <Title text="Your practice"/>
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let v = match data.await {
                    Ok(v) => v,
                    Err(e) => return load_problem(e, "Your practice", "/practice".to_owned()),
                };
                let clinical = matches!(v.job, StaffRole::Gp | StaffRole::Nurse);
                let needs_passkey = v.job.needs_passkey() && !v.passkey;
                let care = (v.job == StaffRole::SocialCare && !needs_passkey).then(|| {
                    let rows = v.care_patients.iter().map(|p| {
                        let href = format!("/practice/patients/{}", p.patient_id);
                        view! { <li><a href=href>{p.name.clone()}</a></li> }
                    }).collect_view();
                    view! {
                        <h2>"Your patients"</h2>
                        <p>"Patients linked to the practice who shared something labelled for social care. You see only those items."</p>
                        <ul>{rows}</ul>
                    }
                });
                let admin = (v.job == StaffRole::Admin).then(|| admin_part(&v, decide, invite, remove, retry, recheck));
                view! {
                    <h1>{v.practice.name.clone()}</h1>
                    <p>"You are signed in as " {v.job.words().to_lowercase()} " at " {v.practice.name.clone()} " (" {v.practice.ods_code.clone()} ")."</p>
                    {flag("joined").then(|| view! { <Notice><p>"You have joined the practice."</p></Notice> })}
                    {flag("invited").then(|| view! { <Notice><p>"The invitation is on its way. It works for 7 days."</p></Notice> })}
                    {flag("linked").then(|| view! { <Notice><p>"The record is linked. The patient has been told."</p></Notice> })}
                    {flag("declined").then(|| view! { <Notice><p>"The request was declined. The patient has been told why."</p></Notice> })}
                    {flag("retried").then(|| view! { <Notice><p>"Carry will try to send it again now."</p></Notice> })}
                    {flag("rechecked").then(|| view! { <Notice><p>"Carry will look the record up in the shared care record again now. If the details still differ, it will be held again."</p></Notice> })}
                    <ErrorSummary error=error/>
                    {needs_passkey.then(|| view! {
                        <div class="notice" role="status">
                            <p>"Clinical work in Carry needs a passkey, not a password alone. "
                               <a href="/account">"Add a passkey on your account page"</a>
                               ", then sign out and sign in with it."</p>
                        </div>
                    })}
                    {(clinical && !needs_passkey).then(|| view! { <p><a class="button" href="/practice/inbox">"Open the review inbox"</a></p> })}
                    {care}
                    {admin}
                }.into_any()
            })}
        </Suspense>
    }
}

/// The page a staff invitation link opens.
#[component]
pub fn JoinPracticePage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let join = ServerAction::<JoinPractice>::new();
    let data = Resource::new(token, staff_invitation);
    let error = Signal::derive(move || join.value().get().and_then(Result::err));
    view! {
        <Title text="Join your practice"/>
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let v = match data.await {
                    Ok(v) => v,
                    Err(e) => return load_problem(e, "Join your practice", format!("/practice/join/{}", token())),
                };
                let t = token();
                view! {
                    <h1>"Join " {v.practice_name.clone()}</h1>
                    <p>"You are invited as " {v.job.words().to_lowercase()} ". Sign in (or make an account) with the email address the invitation was sent to, then join."</p>
                    <ErrorSummary error=error/>
                    <ActionForm action=join>
                        <input type="hidden" name="token" value=t/>
                        <button type="submit" class="button">"Join " {v.practice_name.clone()}</button>
                    </ActionForm>
                }.into_any()
            })}
        </Suspense>
    }
}
