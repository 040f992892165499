//! The home page: what Carry is, in plain words.

use crate::api::demo_mode;
use domain::demo::DEMO_PEOPLE;
use leptos::prelude::*;
use leptos_meta::Title;

/// The home page.
#[component]
pub fn HomePage() -> impl IntoView {
    let demo = Resource::new(|| (), |_| demo_mode());
    view! {
        <Title text=""/>
        <h1>"Your health record, in your hands"</h1>
        <p class="lead">
            "Carry keeps your own copy of your health record. You can see what the NHS holds about you, "
            "add your own notes and home readings, choose who else may see them, and see everyone who has looked."
        </p>
        <ul class="plain-list">
            <li>"You decide what your GP practice and each carer can see."</li>
            <li>"Carers use their own accounts, never yours, and you can stop their access at any time."</li>
            <li>"Every look at your record is listed for you in plain words."</li>
        </ul>
        <p class="actions">
            <a class="button" href="/register">"Create an account"</a>
            <a class="button secondary" href="/sign-in">"Sign in"</a>
        </p>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                demo.await.ok().filter(|d| *d).map(|_| view! {
                    <section class="demo" aria-labelledby="demo-heading">
                        <h2 id="demo-heading">"Demo people"</h2>
                        <p>"This is a demonstration server. These made-up people exist only here:"</p>
                        <div class="table-scroll">
                        <table>
                            <caption class="visually-hidden">"Demo accounts"</caption>
                            <thead><tr><th scope="col">"Who"</th><th scope="col">"Email"</th><th scope="col">"Password"</th></tr></thead>
                            <tbody>
                                {DEMO_PEOPLE.iter().map(|p| view! {
                                    <tr><td>{format!("{}: {}", p.part.words(), p.name)}</td><td>{p.email}</td><td><code>{p.password}</code></td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        </div>
                    </section>
                })
            })}
        </Suspense>
    }
}
