//! Entries deleted in the last 30 days, with a way to restore each.

use super::{load_problem, EntryItem};
use crate::api::{deleted_entries, RestoreEntry};
use crate::components::ErrorSummary;
use leptos::prelude::*;
use leptos_meta::Title;

/// Recently deleted entries.
#[component]
pub fn DeletedPage() -> impl IntoView {
    let restore = ServerAction::<RestoreEntry>::new();
    let data = Resource::new(move || restore.version().get(), |_| deleted_entries());
    let error = Signal::derive(move || restore.value().get().and_then(Result::err));
    view! {
        <Title text="Recently deleted entries"/>
        <Suspense fallback=|| view! { <p>"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let list = match data.await {
                    Ok(l) => l,
                    Err(e) => return load_problem(e, "Recently deleted entries", "/record/deleted".to_owned()),
                };
                let empty = list.is_empty();
                let items = list.into_iter().map(|e| {
                    let (id, version, title) = (e.id.to_string(), e.version.to_string(), e.title.clone());
                    let deleted = e.deleted_at.map(|d| d.to_uk_string()).unwrap_or_default();
                    view! {
                        <EntryItem entry=e>
                            <p class="meta">"Deleted " {deleted} "."</p>
                            <ActionForm action=restore>
                                <input type="hidden" name="id" value=id/>
                                <input type="hidden" name="version" value=version/>
                                <button type="submit" class="button secondary">"Restore" <span class="visually-hidden">{title}</span></button>
                            </ActionForm>
                        </EntryItem>
                    }
                }).collect_view();
                view! {
                    <h1>"Recently deleted entries"</h1>
                    <p>"Entries you deleted in the last 30 days. Restore one to put it back in your record."</p>
                    <ErrorSummary error=error/>
                    {if empty { view! { <p>"You have not deleted anything in the last 30 days."</p> }.into_any() } else { view! { <ul class="timeline">{items}</ul> }.into_any() }}
                    <p><a href="/record">"Back to your record"</a></p>
                }.into_any()
            })}
        </Suspense>
    }
}
