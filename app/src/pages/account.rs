//! The account page: details, passkeys, password, and where the person is signed in.

use super::PasskeyButton;
use crate::api::{account, EndSession, RemovePasskey, RemovePassword, RenamePasskey, SetPassword, SignOutEverywhere};
use crate::components::{ErrorSummary, Field, Notice};
use crate::error::AppError;
use domain::views::AccountView;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

/// The account page. Signed-out visitors are sent to sign in and brought back.
#[component]
pub fn AccountPage() -> impl IntoView {
    let rename = ServerAction::<RenamePasskey>::new();
    let remove = ServerAction::<RemovePasskey>::new();
    let set_pw = ServerAction::<SetPassword>::new();
    let remove_pw = ServerAction::<RemovePassword>::new();
    let end = ServerAction::<EndSession>::new();
    let everywhere = ServerAction::<SignOutEverywhere>::new();
    let data = Resource::new(
        move || (rename.version().get(), remove.version().get(), set_pw.version().get(), remove_pw.version().get(), end.version().get()),
        |_| account(),
    );
    let query = use_query_map();
    let flag = move |k: &'static str| query.read().get(k).is_some();

    let passkey_error =
        Signal::derive(move || rename.value().get().and_then(Result::err).or_else(|| remove.value().get().and_then(Result::err)));
    let password_error =
        Signal::derive(move || set_pw.value().get().and_then(Result::err).or_else(|| remove_pw.value().get().and_then(Result::err)));
    let session_error =
        Signal::derive(move || end.value().get().and_then(Result::err).or_else(|| everywhere.value().get().and_then(Result::err)));

    view! {
        <Title text="Your account"/>
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(AppError::NotSignedIn) => view! { <Redirect path="/sign-in?next=/account"/> }.into_any(),
                    Err(e) => view! { <h1>"Your account"</h1><ErrorSummary error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                    Ok(acct) => view! {
                        <h1>"Your account"</h1>
                        {flag("welcome").then(|| view! { <Notice><p>"Your account is ready. Welcome to Carry."</p></Notice> })}
                        {flag("added").then(|| view! { <Notice><p>"Your new passkey is ready to use."</p></Notice> })}
                        {flag("password").then(|| view! { <Notice><p>"Your password is saved. You have been signed out everywhere else."</p></Notice> })}
                        {flag("recovered").then(|| view! { <Notice><p>"You are back in. You have been signed out everywhere else, and we have emailed you about the change."</p></Notice> })}
                        <Details acct=acct.clone()/>
                        <Passkeys acct=acct.clone() rename=rename remove=remove error=passkey_error/>
                        <Password acct=acct.clone() set_pw=set_pw remove_pw=remove_pw error=password_error/>
                        <Sessions acct=acct end=end everywhere=everywhere error=session_error/>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Details(acct: AccountView) -> impl IntoView {
    view! {
        <section aria-labelledby="details-heading">
            <h2 id="details-heading">"Your details"</h2>
            <dl class="summary-list">
                <div><dt>"Name"</dt><dd>{acct.display_name}</dd></div>
                <div><dt>"Email address"</dt><dd>{acct.email}</dd></div>
            </dl>
        </section>
    }
}

#[component]
fn ReauthNote(recent: bool) -> impl IntoView {
    (!recent).then(|| {
        view! {
            <p class="inset">
                "To add or remove a passkey or change your password, "
                <a href="/sign-in?next=/account">"sign in again"</a>
                " first. This protects your account if someone else is using your device."
            </p>
        }
    })
}

#[component]
fn Passkeys(
    acct: AccountView,
    rename: ServerAction<RenamePasskey>,
    remove: ServerAction<RemovePasskey>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let recent = acct.recently_authenticated;
    let rows = acct
        .passkeys
        .into_iter()
        .map(|k| {
            let id = k.id.to_string();
            let remove_id = id.clone();
            let input_id = format!("rename-{id}");
            view! {
                <li class="passkey">
                    <p class="passkey-name"><strong>{k.name.clone()}</strong></p>
                    <p class="meta">
                        "Added " {k.created_at.to_uk_string()} ". "
                        {match k.last_used_at {
                            Some(t) => format!("Last used {}.", t.to_uk_string()),
                            None => "Not used yet.".to_owned(),
                        }}
                    </p>
                    <ActionForm action=rename attr:class="inline-form">
                        <input type="hidden" name="id" value=id/>
                        <label for=input_id.clone()>"New name"</label>
                        <input id=input_id name="name" type="text" autocomplete="off" value=k.name required/>
                        <button type="submit" class="button secondary">"Rename"</button>
                    </ActionForm>
                    <ActionForm action=remove attr:class="inline-form">
                        <input type="hidden" name="id" value=remove_id/>
                        <button type="submit" class="button warning" disabled=!recent>"Remove"</button>
                    </ActionForm>
                </li>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="passkeys-heading">
            <h2 id="passkeys-heading">"Passkeys"</h2>
            <ErrorSummary error=error/>
            <ReauthNote recent=recent/>
            <ul class="plain-list">{rows}</ul>
            {recent.then(|| view! {
                <div class="field">
                    <label for="passkey-name">"Name for a new passkey"</label>
                    <p class="hint" id="passkey-name-hint">"For example, the device it is on: \u{201c}My phone\u{201d}."</p>
                    <input id="passkey-name" name="passkey-name" type="text" autocomplete="off" aria-describedby="passkey-name-hint"/>
                </div>
                <PasskeyButton action="add" label="Add a passkey"/>
            })}
        </section>
    }
}

#[component]
fn Password(
    acct: AccountView,
    set_pw: ServerAction<SetPassword>,
    remove_pw: ServerAction<RemovePassword>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let recent = acct.recently_authenticated;
    let has = acct.password_set_at.is_some();
    // The password can go only when a passkey remains to sign in with.
    let removable = has && !acct.passkeys.is_empty();
    view! {
        <section aria-labelledby="password-heading">
            <h2 id="password-heading">"Password"</h2>
            <p>{match acct.password_set_at {
                Some(t) => format!("You have a password, set on {}.", t.to_uk_string()),
                None => "You have no password. You sign in with a passkey.".to_owned(),
            }}</p>
            <ErrorSummary error=error/>
            {recent.then(|| view! {
                <ActionForm action=set_pw attr:novalidate="">
                    <Field name="password" label=if has { "New password" } else { "Choose a password" } kind="password" autocomplete="new-password"
                        hint="At least 15 characters. A few unrelated words are strong and easy to remember."
                        error=Signal::derive(move || error.get().and_then(|e| e.field("password")))/>
                    <button type="submit" class="button">{if has { "Change password" } else { "Save password" }}</button>
                </ActionForm>
                {removable.then(|| view! {
                    <ActionForm action=remove_pw>
                        <button type="submit" class="button warning">"Remove password"</button>
                    </ActionForm>
                })}
            })}
        </section>
    }
}

#[component]
fn Sessions(
    acct: AccountView,
    end: ServerAction<EndSession>,
    everywhere: ServerAction<SignOutEverywhere>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let rows = acct
        .sessions
        .into_iter()
        .map(|s| {
            let method = match s.method.as_str() {
                "passkey" => "Passkey",
                "password" => "Password",
                _ => "Emailed link",
            };
            view! {
                <tr>
                    <td>{s.device}{s.current.then_some(" (this browser)")}</td>
                    <td>{method}</td>
                    <td>{s.created_at.to_uk_string()}</td>
                    <td>{s.last_seen_at.to_uk_string()}</td>
                    <td>
                        {(!s.current).then(|| view! {
                            <ActionForm action=end attr:class="inline-form">
                                <input type="hidden" name="id" value=s.id.to_string()/>
                                <button type="submit" class="button secondary">"Sign out"</button>
                            </ActionForm>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="sessions-heading">
            <h2 id="sessions-heading">"Where you are signed in"</h2>
            <ErrorSummary error=error/>
            <div class="table-scroll">
                <table>
                    <caption class="visually-hidden">"Your sessions"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Browser"</th>
                            <th scope="col">"Signed in with"</th>
                            <th scope="col">"Signed in"</th>
                            <th scope="col">"Last active"</th>
                            <th scope="col"><span class="visually-hidden">"Action"</span></th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <ActionForm action=everywhere>
                <button type="submit" class="button warning">"Sign out everywhere"</button>
            </ActionForm>
        </section>
    }
}
