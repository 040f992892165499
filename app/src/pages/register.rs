//! Creating an account: name and email, then the emailed link, then a passkey or a password.

use super::PasskeyButton;
use crate::api::{registration_link, CompleteRegistration, Register};
use crate::components::{ErrorSummary, Field};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// Name and email.
#[component]
pub fn RegisterPage() -> impl IntoView {
    let action = ServerAction::<Register>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let field = move |f: &'static str| Signal::derive(move || error.get().and_then(|e| e.field(f)));
    view! {
        <Title text="Create an account"/>
        <h1>"Create an account"</h1>
        <p>"We will email you a link to finish. It works for 24 hours."</p>
        <ErrorSummary error=error/>
        <ActionForm action=action attr:novalidate="">
            <Field name="name" label="Your name" autocomplete="name" error=field("name")/>
            <Field name="email" label="Email address" kind="email" autocomplete="email" error=field("email")/>
            <button type="submit" class="button">"Continue"</button>
        </ActionForm>
        <p>"Already have an account? " <a href="/sign-in">"Sign in"</a></p>
    }
}

/// After registering: check your email.
#[component]
pub fn RegisterSentPage() -> impl IntoView {
    view! {
        <Title text="Check your email"/>
        <h1>"Check your email"</h1>
        <p>"We have sent you an email. Open the link in it to finish creating your account."</p>
        <p>"If it has not arrived in a few minutes, check your spam folder, or "<a href="/register">"try again"</a>"."</p>
    }
}

/// Opened from the emailed link: choose a passkey or a password.
#[component]
pub fn WelcomePage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let link = Resource::new(token, registration_link);
    let action = ServerAction::<CompleteRegistration>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Title text="Finish creating your account"/>
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                match link.await {
                    Ok(view) => {
                        let name = view.display_name.unwrap_or_default();
                        view! {
                            <h1>"Finish creating your account"</h1>
                            <p>"Welcome, " {name} ". Your account will use " <strong>{view.email}</strong> "."</p>
                            <h2>"Sign in with a passkey (recommended)"</h2>
                            <p>"A passkey lets you sign in with your fingerprint, face or screen lock. There is nothing to remember or type, and nobody can trick you into giving it away."</p>
                            <PasskeyButton action="register" label="Create a passkey" token=token()/>
                            <h2>"Or choose a password"</h2>
                            <ErrorSummary error=error/>
                            <ActionForm action=action attr:novalidate="">
                                <input type="hidden" name="token" value=token()/>
                                <Field name="password" label="Password" kind="password" autocomplete="new-password"
                                    hint="At least 15 characters. A few unrelated words are strong and easy to remember."
                                    error=Signal::derive(move || error.get().and_then(|e| e.field("password")))/>
                                <button type="submit" class="button">"Create account"</button>
                            </ActionForm>
                        }.into_any()
                    }
                    Err(e) => view! { <LinkProblem error=e retry="/register"/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A link that cannot be used.
#[component]
pub fn LinkProblem(error: AppError, retry: &'static str) -> impl IntoView {
    view! {
        <h1>"This link cannot be used"</h1>
        <p>{error.to_string()}</p>
        <p><a href=retry>"Ask for a new link"</a></p>
    }
}
