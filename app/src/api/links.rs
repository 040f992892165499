//! Server functions for health links: the links page's facts, and ending a link. A link is
//! made by a plain form post to the server's own route (`/record/links/new`), which answers
//! with the link's card: the only page that ever shows its key.

use crate::error::AppError;
use domain::health_links::HealthLinksView;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, PostUrl};

#[cfg(feature = "ssr")]
use crate::ssr::{respond, services, signed_in};
#[cfg(feature = "ssr")]
use service::RecordRef;

/// The links to a record's summary the caller may see, with their uses.
#[server(prefix = "/api", endpoint = "record/health-links", input = GetUrl)]
pub async fn record_health_links(patient: Option<String>) -> Result<HealthLinksView, AppError> {
    respond(async move { Ok(services()?.health_links(&signed_in()?, RecordRef::parse(patient.as_deref())?).await?) }.await)
}

/// Ends a link at once, then shows the links again.
#[server(prefix = "/api", endpoint = "record/end-link", input = PostUrl)]
pub async fn end_health_link(patient: Option<String>, id: String) -> Result<(), AppError> {
    respond(
        async move {
            services()?.end_health_link(&signed_in()?, &id).await?;
            leptos_axum::redirect(&format!("/record/links{}", super::patient_query(&patient, true)));
            Ok(())
        }
        .await,
    )
}
