//! "About me / what matters to me": the form, with its history on the entry page.

use super::{load_problem, PrivacyFields};
use crate::api::{about_me, SaveAboutMe};
use crate::components::{ErrorSummary, Field, Notice, TextArea};
use domain::about_me::{AboutMe, ContactMethod};
use domain::PrivacyLabel;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// View and change "about me".
#[component]
pub fn AboutMePage() -> impl IntoView {
    let action = ServerAction::<SaveAboutMe>::new();
    // Reload the stored answers only after a save that worked: after a refusal the form keeps
    // what the person typed, next to the message.
    let saves = Memo::new(move |prev: Option<&usize>| {
        let v = action.version().get();
        if action.value().get().is_some_and(|r| r.is_ok()) {
            v
        } else {
            prev.copied().unwrap_or(v)
        }
    });
    let data = Resource::new(move || saves.get(), |_| about_me(None));
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let field = move |f: &'static str| Signal::derive(move || error.get().and_then(|e| e.field(f)));
    let query = use_query_map();
    let saved = move || query.read().get("saved").is_some();
    view! {
        <Title text="About me"/>
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let current = match data.await {
                    Ok(c) => c,
                    Err(e) => return load_problem(e, "About me", "/record/about-me".to_owned()),
                };
                let (a, version, label, share, history) = match &current {
                    Some(v) => (v.about.clone(), v.version.to_string(), v.label, v.shared_with_practice, Some(format!("/record/entries/{}", v.id))),
                    None => (AboutMe::default(), String::new(), PrivacyLabel::General, false, None),
                };
                let methods = ContactMethod::ALL.into_iter().map(|m| {
                    let id = format!("field-contact_{}", m.slug());
                    let name = format!("contact_{}", m.slug());
                    view! {
                        <div class="checkbox">
                            <input type="checkbox" id=id.clone() name=name value="yes" checked=a.contact_methods.contains(&m)/>
                            <label for=id>{m.label()}</label>
                        </div>
                    }
                }).collect_view();
                view! {
                    <h1>"About me"</h1>
                    {saved().then(|| view! { <Notice><p>"Saved. Anyone you let see your record will see this first."</p></Notice> })}
                    <p>"What matters to you, in your own words. Everything here is optional. People you let see your record see this first."</p>
                    <ErrorSummary error=error/>
                    <ActionForm action=action attr:novalidate="">
                        <input type="hidden" name="version" value=version/>
                        <Field name="preferred_name" label="What would you like to be called?" autocomplete="nickname" value=a.preferred_name.clone() optional=true error=field("preferred_name")/>
                        <Field name="pronouns" label="Pronouns" hint="For example, she/her, he/him or they/them." value=a.pronouns.clone() optional=true error=field("pronouns")/>
                        <Field name="languages" label="Languages you speak" hint="Say if you would like an interpreter." value=a.languages.clone() optional=true error=field("languages")/>
                        <fieldset class="field" id="field-contact_methods" class:field-error=move || field("contact_methods").get().is_some()>
                            <legend>"How would you like to be contacted?"</legend>
                            <p class="hint">"Tick all that suit you."</p>
                            {methods}
                        </fieldset>
                        <Field name="contact_times" label="Times that suit you" hint="For example, weekday mornings." value=a.contact_times.clone() optional=true error=field("contact_times")/>
                        <TextArea name="accessibility" label="Accessibility and communication needs" hint="For example, large print, British Sign Language, or extra time at appointments." value=a.accessibility.clone() optional=true error=field("accessibility")/>
                        <Field name="practice_contact" label="Your main contact at the GP practice, if you have one" value=a.practice_contact.clone() optional=true error=field("practice_contact")/>
                        <TextArea name="goals" label="What matters to you" hint="Your goals, in your own words. For example, being well enough to walk the dog." value=a.goals.clone() optional=true error=field("goals")/>
                        <PrivacyFields label=label share=share error=field("label")/>
                        <button type="submit" class="button">"Save about me"</button>
                    </ActionForm>
                    {history.map(|h| view! { <p><a href=h>"See the history of changes"</a></p> })}
                    <p><a href="/record">"Back to your record"</a></p>
                }.into_any()
            })}
        </Suspense>
    }
}
