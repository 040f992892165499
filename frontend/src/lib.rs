//! Hydrates the server-rendered page so it becomes interactive. Everything else lives in `app`.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // Marks the page live, for people's assistive tools and for the browser tests that wait
    // for it. The <html> element is outside what Leptos hydrates, so this cannot disturb it.
    if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}
