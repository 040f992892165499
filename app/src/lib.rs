//! Carry's user interface: pages, components and the server functions behind them.
//!
//! Built twice: with `ssr` into the server (rendering pages and running server functions) and
//! with `hydrate` into the wasm bundle. The two features exclude each other.

#[cfg(all(feature = "ssr", feature = "hydrate"))]
compile_error!("app: the `ssr` and `hydrate` features exclude each other; build the server and the wasm bundle separately");

pub mod api;
mod components;
pub mod error;
mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

use components::Header;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};
use pages::{account, carers, home, practice, record, recover, register, sign_in};

/// The HTML document around the app (rendered on the server only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en-GB">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <script type="module" src="/passkey.js"></script>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: header, routes, footer.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="carry" href="/pkg/carry.css"/>
        <Title formatter=|text: String| if text.is_empty() { "Carry".to_owned() } else { format!("{text} \u{2013} Carry") }/>
        <Router>
            <a class="skip-link" href="#main">"Skip to main content"</a>
            <Header/>
            <main id="main" tabindex="-1">
                <Routes fallback=pages::NotFound>
                    <Route path=path!("/") view=home::HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/register") view=register::RegisterPage ssr=SsrMode::Async/>
                    <Route path=path!("/register/sent") view=register::RegisterSentPage ssr=SsrMode::Async/>
                    <Route path=path!("/welcome/:token") view=register::WelcomePage ssr=SsrMode::Async/>
                    <Route path=path!("/sign-in") view=sign_in::SignInPage ssr=SsrMode::Async/>
                    <Route path=path!("/signed-out") view=sign_in::SignedOutPage ssr=SsrMode::Async/>
                    <Route path=path!("/account") view=account::AccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/record") view=record::RecordPage ssr=SsrMode::Async/>
                    <Route path=path!("/record/about-me") view=record::about_me::AboutMePage ssr=SsrMode::Async/>
                    <Route path=path!("/record/readings/new") view=record::add::AddReadingPage ssr=SsrMode::Async/>
                    <Route path=path!("/record/notes/new") view=record::add::AddNotePage ssr=SsrMode::Async/>
                    <Route path=path!("/record/entries/:id") view=record::entry::EntryPage ssr=SsrMode::Async/>
                    <Route path=path!("/record/entries/:id/edit") view=record::entry::EditEntryPage ssr=SsrMode::Async/>
                    <Route path=path!("/record/deleted") view=record::deleted::DeletedPage ssr=SsrMode::Async/>
                    <Route path=path!("/record/nhs") view=record::nhs::NhsRecordPage ssr=SsrMode::Async/>
                    <Route path=path!("/record/summary") view=record::summary::SummaryPage ssr=SsrMode::Async/>
                    <Route path=path!("/record/export") view=record::export::ExportPage ssr=SsrMode::Async/>
                    <Route path=path!("/record/export/:id") view=record::export::ExportStatusPage ssr=SsrMode::Async/>
                    <Route path=path!("/record/links") view=record::links::HealthLinksPage ssr=SsrMode::Async/>
                    <Route path=path!("/record/charts") view=record::charts::ChartsPage ssr=SsrMode::Async/>
                    <Route path=path!("/record/charts/:kind") view=record::charts::ChartPage ssr=SsrMode::Async/>
                    <Route path=path!("/record/people") view=carers::PeoplePage ssr=SsrMode::Async/>
                    <Route path=path!("/record/access-log") view=carers::AccessLogPage ssr=SsrMode::Async/>
                    <Route path=path!("/invitations/:token") view=carers::InvitationPage ssr=SsrMode::Async/>
                    <Route path=path!("/records/take/:token") view=carers::TakeRecordPage ssr=SsrMode::Async/>
                    <Route path=path!("/caring") view=carers::CaringPage ssr=SsrMode::Async/>
                    <Route path=path!("/notices") view=carers::NoticesPage ssr=SsrMode::Async/>
                    <Route path=path!("/record/practice") view=record::practice::MyPracticePage ssr=SsrMode::Async/>
                    <Route path=path!("/practice") view=practice::PracticePage ssr=SsrMode::Async/>
                    <Route path=path!("/practice/inbox") view=practice::review::InboxPage ssr=SsrMode::Async/>
                    <Route path=path!("/practice/patients/:id") view=practice::review::PatientSharedPage ssr=SsrMode::Async/>
                    <Route path=path!("/practice/join/:token") view=practice::JoinPracticePage ssr=SsrMode::Async/>
                    <Route path=path!("/recover") view=recover::RecoverPage ssr=SsrMode::Async/>
                    <Route path=path!("/recover/sent") view=recover::RecoverSentPage ssr=SsrMode::Async/>
                    <Route path=path!("/recover/:token") view=recover::RecoverLinkPage ssr=SsrMode::Async/>
                </Routes>
            </main>
            <footer class="site-footer">
                <p>"Carry is open-source software. Your record belongs to you."</p>
            </footer>
        </Router>
    }
}
