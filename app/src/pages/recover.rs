//! Getting back into an account by email.

use super::register::LinkProblem;
use super::PasskeyButton;
use crate::api::{recovery_link, CompleteRecovery, Recover};
use crate::components::{ErrorSummary, Field};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// Ask for a recovery link.
#[component]
pub fn RecoverPage() -> impl IntoView {
    let action = ServerAction::<Recover>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Title text="Can\u{2019}t sign in?"/>
        <h1>"Can\u{2019}t sign in?"</h1>
        <p>"Enter the email address of your account. We will email you a link to set a new password or add a new passkey. The link works for 30 minutes."</p>
        <ErrorSummary error=error/>
        <ActionForm action=action attr:novalidate="">
            <Field name="email" label="Email address" kind="email" autocomplete="email"
                error=Signal::derive(move || error.get().and_then(|e| e.field("email")))/>
            <button type="submit" class="button">"Send the link"</button>
        </ActionForm>
    }
}

/// After asking: check your email.
#[component]
pub fn RecoverSentPage() -> impl IntoView {
    view! {
        <Title text="Check your email"/>
        <h1>"Check your email"</h1>
        <p>"If that address has a Carry account, we have emailed it a link. Open it within 30 minutes."</p>
    }
}

/// Opened from the recovery email: a new passkey or password.
#[component]
pub fn RecoverLinkPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let link = Resource::new(token, recovery_link);
    let action = ServerAction::<CompleteRecovery>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Title text="Get back into your account"/>
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                match link.await {
                    Ok(view) => view! {
                        <h1>"Get back into your account"</h1>
                        <p>"This is for the account of " <strong>{view.email}</strong> ". When you finish, you will be signed out everywhere else."</p>
                        <h2>"Add a new passkey"</h2>
                        <PasskeyButton action="recover" label="Create a passkey" token=token()/>
                        <h2>"Or set a new password"</h2>
                        <ErrorSummary error=error/>
                        <ActionForm action=action attr:novalidate="">
                            <input type="hidden" name="token" value=token()/>
                            <Field name="password" label="New password" kind="password" autocomplete="new-password"
                                hint="At least 15 characters. A few unrelated words are strong and easy to remember."
                                error=Signal::derive(move || error.get().and_then(|e| e.field("password")))/>
                            <button type="submit" class="button">"Save password"</button>
                        </ActionForm>
                    }.into_any(),
                    Err(e) => view! { <LinkProblem error=e retry="/recover"/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
