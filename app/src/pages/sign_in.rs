//! Signing in and the page after signing out.

use super::PasskeyButton;
use crate::api::SignIn;
use crate::components::{ErrorSummary, Field, Notice};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Sign in with a passkey, or an address and password.
#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let action = ServerAction::<SignIn>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let field = move |f: &'static str| Signal::derive(move || error.get().and_then(|e| e.field(f)));
    view! {
        <Title text="Sign in"/>
        <h1>"Sign in"</h1>
        {move || (!next().is_empty()).then(|| view! {
            <Notice><p>"Sign in to continue. If you were already signed in, this confirms it is you."</p></Notice>
        })}
        <PasskeyButton action="sign-in" label="Sign in with a passkey" next=next()/>
        <h2>"Or use your email address and password"</h2>
        <ErrorSummary error=error/>
        <ActionForm action=action attr:novalidate="">
            <input type="hidden" name="next" value=next/>
            <Field name="email" label="Email address" kind="email" autocomplete="username webauthn" error=field("email")/>
            <Field name="password" label="Password" kind="password" autocomplete="current-password" error=field("password")/>
            <button type="submit" class="button">"Sign in"</button>
        </ActionForm>
        <p><a href="/recover">"Can\u{2019}t sign in?"</a></p>
        <p>"New to Carry? " <a href="/register">"Create an account"</a></p>
    }
}

/// After signing out.
#[component]
pub fn SignedOutPage() -> impl IntoView {
    let query = use_query_map();
    let everywhere = move || query.read().get("everywhere").is_some();
    view! {
        <Title text="Signed out"/>
        <h1>"You have signed out"</h1>
        <p>{move || if everywhere() {
            "You are signed out on every browser and device."
        } else {
            "You are signed out on this browser."
        }}</p>
        <p><a href="/sign-in">"Sign in again"</a></p>
    }
}
