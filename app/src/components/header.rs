//! The site header: who is signed in, and the way to sign in or out.

use crate::api::me;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

/// The header. It asks who is signed in again on every navigation, so it follows sign-in and
/// sign-out without a reload.
#[component]
pub fn Header() -> impl IntoView {
    let location = use_location();
    let who = Resource::new(move || location.pathname.get(), |_| me());
    view! {
        <header class="site-header">
            <A href="/" attr:class="brand">"Carry"</A>
            <nav aria-label="Account">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match who.await {
                            Ok(Some(person)) => view! {
                                <span class="signed-in-as">"Signed in as " {person.display_name}</span>
                                {person.practice.map(|p| view! { <A href="/practice">{p}</A> })}
                                <A href="/record">"Your record"</A>
                                <A href="/caring">"People you care for"</A>
                                <A href="/notices">"Notices"</A>
                                <A href="/account">"Your account"</A>
                                <form method="post" action="/api/sign-out" class="inline-form">
                                    <button type="submit" class="link-button">"Sign out"</button>
                                </form>
                            }.into_any(),
                            _ => view! {
                                <A href="/sign-in">"Sign in"</A>
                                <A href="/register">"Create an account"</A>
                            }.into_any(),
                        }
                    })}
                </Suspense>
            </nav>
        </header>
    }
}
