//! Server functions for the record the NHS holds (pulled from the shared care record).

use crate::error::AppError;
use domain::care_record::CareRecordView;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, PostUrl};

#[cfg(feature = "ssr")]
use crate::ssr::{respond, services, signed_in};
#[cfg(feature = "ssr")]
use service::RecordRef;

/// The record the NHS holds, by section, with where its sync stands.
#[server(prefix = "/api", endpoint = "record/nhs", input = GetUrl)]
pub async fn nhs_record(patient: Option<String>) -> Result<CareRecordView, AppError> {
    respond(async move { Ok(services()?.nhs_record(&signed_in()?, RecordRef::parse(patient.as_deref())?).await?) }.await)
}

/// Asks Carry to fetch the record from the shared care record now, then shows the page again.
#[server(prefix = "/api", endpoint = "record/nhs/update", input = PostUrl)]
pub async fn update_nhs_record(patient: Option<String>) -> Result<(), AppError> {
    respond(
        async move {
            services()?.update_nhs_record(&signed_in()?, RecordRef::parse(patient.as_deref())?).await?;
            let back = format!("/record/nhs?updating=1{}", crate::api::patient_query(&patient, false));
            leptos_axum::redirect(&back);
            Ok(())
        }
        .await,
    )
}
