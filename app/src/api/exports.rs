//! Server functions for "Download my record": the page's facts, asking for a copy, and where
//! a copy stands. The files themselves are sent by the server's own route
//! (`/record/export/{id}/{format}`), which goes through the same service.

use crate::error::AppError;
use domain::exports::{ExportView, ExportsView};
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, PostUrl};

#[cfg(feature = "ssr")]
use super::ticked_labels;
#[cfg(feature = "ssr")]
use crate::ssr::{respond, services, signed_in};
#[cfg(feature = "ssr")]
use service::RecordRef;

/// What may go in a copy of the record, and the copies asked for.
#[server(prefix = "/api", endpoint = "record/exports", input = GetUrl)]
pub async fn record_exports(patient: Option<String>) -> Result<ExportsView, AppError> {
    respond(async move { Ok(services()?.exports(&signed_in()?, RecordRef::parse(patient.as_deref())?).await?) }.await)
}

/// Asks for a copy with the labels ticked, then shows how it is coming along.
#[server(prefix = "/api", endpoint = "record/request-export", input = PostUrl)]
pub async fn request_export(
    patient: Option<String>,
    label_general: Option<String>,
    label_mental_health: Option<String>,
    label_sexual_health: Option<String>,
    label_social_care: Option<String>,
) -> Result<(), AppError> {
    respond(
        async move {
            let form = service::exports::ExportForm {
                labels: ticked_labels(label_general, label_mental_health, label_sexual_health, label_social_care),
            };
            let id = services()?.request_export(&signed_in()?, RecordRef::parse(patient.as_deref())?, &form).await?;
            leptos_axum::redirect(&format!("/record/export/{id}"));
            Ok(())
        }
        .await,
    )
}

/// Where a copy the caller asked for stands.
#[server(prefix = "/api", endpoint = "record/export-status", input = GetUrl)]
pub async fn export_status(id: String) -> Result<ExportView, AppError> {
    respond(async move { Ok(services()?.export_status(&signed_in()?, &id).await?) }.await)
}
