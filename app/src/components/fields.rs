//! Form fields whose errors are tied to their inputs, and the summary at the top of a form.

use crate::error::AppError;
use leptos::prelude::*;

/// A labelled input. Its error (if any) is announced with the input and linked by
/// `aria-describedby`, and the input is marked invalid.
#[component]
pub fn Field(
    /// The form field's name (also its id, prefixed with `field-`).
    #[prop(into)]
    name: String,
    /// The visible label.
    #[prop(into)]
    label: String,
    /// The input type.
    #[prop(into, default = "text".to_owned())]
    kind: String,
    /// The autocomplete token.
    #[prop(into, default = "off".to_owned())]
    autocomplete: String,
    /// A hint shown under the label.
    #[prop(into, optional)]
    hint: Option<String>,
    /// The current error message for this field.
    #[prop(into)]
    error: Signal<Option<String>>,
    /// A starting value.
    #[prop(into, optional)]
    value: Option<String>,
    /// Whether the field may be left empty.
    #[prop(optional)]
    optional: bool,
    /// The on-screen keyboard to offer (`decimal`, `numeric`).
    #[prop(into, optional)]
    inputmode: Option<String>,
    /// A unit shown after the input ("mmHg").
    #[prop(into, optional)]
    suffix: Option<String>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let unit_id = format!("{id}-unit");
    let has_hint = hint.is_some();
    let has_unit = suffix.is_some();
    let described_by = {
        let (hint_id, error_id, unit_id) = (hint_id.clone(), error_id.clone(), unit_id.clone());
        move || {
            let mut ids = Vec::new();
            if has_unit {
                ids.push(unit_id.clone());
            }
            if has_hint {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field" class:field-error=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
            <p class="error-message" id=error_id.clone() hidden=move || error.get().is_none()>
                {move || error.get().map(|e| format!("Error: {e}"))}
            </p>
            <div class="input-row">
                <input
                    id=id.clone()
                    name=name
                    type=kind
                    autocomplete=autocomplete
                    value=value
                    inputmode=inputmode
                    class:short=suffix.is_some()
                    aria-invalid=move || error.get().is_some().then_some("true")
                    aria-describedby=described_by
                    required=!optional
                />
                {suffix.map(|s| view! { <span class="suffix" id=unit_id>{s}</span> })}
            </div>
        </div>
    }
}

/// A labelled multi-line text box, with its error tied to it as [`Field`] does.
#[component]
pub fn TextArea(
    /// The form field's name (also its id, prefixed with `field-`).
    #[prop(into)]
    name: String,
    /// The visible label.
    #[prop(into)]
    label: String,
    /// A hint shown under the label.
    #[prop(into, optional)]
    hint: Option<String>,
    /// The current error message for this field.
    #[prop(into)]
    error: Signal<Option<String>>,
    /// A starting value.
    #[prop(into, optional)]
    value: String,
    /// Visible lines.
    #[prop(default = 5)]
    rows: u32,
    /// Whether the field may be left empty.
    #[prop(optional)]
    optional: bool,
) -> impl IntoView {
    let id = format!("field-{name}");
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let has_hint = hint.is_some();
    let described_by = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        move || {
            let ids: Vec<String> =
                [has_hint.then(|| hint_id.clone()), error.get().is_some().then(|| error_id.clone())].into_iter().flatten().collect();
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field" class:field-error=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
            <p class="error-message" id=error_id.clone() hidden=move || error.get().is_none()>
                {move || error.get().map(|e| format!("Error: {e}"))}
            </p>
            <textarea
                id=id
                name=name
                rows=rows
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=described_by
                required=!optional
            >
                // HTML drops one newline straight after <textarea>: this one, never the text's own.
                {format!("\n{value}")}
            </textarea>
        </div>
    }
}

/// The error at the top of a form: a heading, the message, and for field errors a list of
/// links to the fields at fault.
#[component]
pub fn ErrorSummary(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            let items = match &e {
                AppError::Invalid(list) => list
                    .iter()
                    .map(|f| {
                        let href = format!("#field-{}", f.field);
                        view! { <li><a href=href>{f.message.clone()}</a></li> }
                    })
                    .collect_view()
                    .into_any(),
                _ => ().into_any(),
            };
            let reauth = matches!(e, AppError::ReauthRequired).then(|| {
                view! { <p><a href="/sign-in?next=/account">"Sign in again"</a></p> }
            });
            view! {
                <div class="error-summary" role="alert" tabindex="-1">
                    <h2>"There is a problem"</h2>
                    <p>{e.to_string()}</p>
                    <ul>{items}</ul>
                    {reauth}
                </div>
            }
        })
    }
}

/// A success or information panel.
#[component]
pub fn Notice(children: Children) -> impl IntoView {
    view! { <div class="notice" role="status">{children()}</div> }
}
