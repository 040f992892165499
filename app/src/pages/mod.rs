//! One module per area of the site.

pub mod account;
pub mod carers;
pub mod home;
pub mod practice;
pub mod record;
pub mod recover;
pub mod register;
pub mod sign_in;

use leptos::prelude::*;
use leptos_meta::Title;

/// Shown for any path that is not a page. The status is 404.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found"/>
        <h1>"Page not found"</h1>
        <p>"If you typed the address, check it is correct. If you followed a link, it may be out of date."</p>
        <p><a href="/">"Go to the home page"</a></p>
    }
}

/// The explanation and controls for passkeys, enhanced by /passkey.js when the browser can
/// make passkeys. With JavaScript off the note says so and the password form is the way on.
#[component]
pub fn PasskeyButton(
    /// What the button does: register, sign-in, add or recover.
    action: &'static str,
    /// The button's words.
    label: &'static str,
    /// The emailed link's token, for register and recover.
    #[prop(optional, into)]
    token: Option<String>,
    /// Where to go after signing in.
    #[prop(optional, into)]
    next: Option<String>,
) -> impl IntoView {
    view! {
        <div class="passkey-section">
            <button type="button" class="button" data-passkey-action=action data-token=token data-next=next>
                {label}
            </button>
        </div>
        <p class="passkey-js-off-note">
            "Passkeys need JavaScript, which is turned off or not available in this browser."
        </p>
        <p class="passkey-status" data-passkey-status role="status" aria-live="polite"></p>
    }
}
