//! Server functions for carers' access: the patient's "Who can see my record", invitations,
//! the carer's dashboard, children's records, notices, and the access log.

#![allow(clippy::too_many_arguments)]

use crate::error::AppError;
use domain::views::{AccessLogView, CaredForView, GrantView, InvitationView, NoticeView, RecordContext, RecordOfferView};
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, PostUrl};

#[cfg(feature = "ssr")]
use super::ticked_labels;
#[cfg(feature = "ssr")]
use crate::ssr::{respond, services, signed_in};

#[cfg(feature = "ssr")]
fn grant_id(id: &str) -> Result<domain::GrantId, AppError> {
    id.trim().parse().map_err(|_| AppError::NotFound)
}

/// Every grant and invitation on the caller's record.
#[server(prefix = "/api", endpoint = "access/grants", input = GetUrl)]
pub async fn grants() -> Result<Vec<GrantView>, AppError> {
    respond(async move { Ok(services()?.grants(&signed_in()?).await?) }.await)
}

/// Invites a carer.
#[server(prefix = "/api", endpoint = "access/invite", input = PostUrl)]
pub async fn invite_carer(
    name: String,
    email: String,
    relationship: String,
    basis: Option<String>,
    label_general: Option<String>,
    label_mental_health: Option<String>,
    label_sexual_health: Option<String>,
    label_social_care: Option<String>,
    can_add: Option<String>,
    can_export: Option<String>,
    starts_on: Option<String>,
    ends_on: Option<String>,
) -> Result<(), AppError> {
    respond(
        async move {
            let form = service::InviteForm {
                name,
                email,
                relationship,
                basis: basis.unwrap_or_default(),
                scope: service::ScopeForm {
                    labels: ticked_labels(label_general, label_mental_health, label_sexual_health, label_social_care),
                    can_add: can_add.is_some_and(|v| !v.is_empty()),
                    can_export: can_export.is_some_and(|v| !v.is_empty()),
                    starts_on: starts_on.unwrap_or_default(),
                    ends_on: ends_on.unwrap_or_default(),
                },
            };
            services()?.invite_carer(&signed_in()?, &form).await?;
            leptos_axum::redirect("/record/people?invited=1");
            Ok(())
        }
        .await,
    )
}

/// Changes a carer's access.
#[server(prefix = "/api", endpoint = "access/change", input = PostUrl)]
pub async fn change_grant(
    id: String,
    version: i64,
    label_general: Option<String>,
    label_mental_health: Option<String>,
    label_sexual_health: Option<String>,
    label_social_care: Option<String>,
    can_add: Option<String>,
    can_export: Option<String>,
    ends_on: Option<String>,
) -> Result<(), AppError> {
    respond(
        async move {
            let form = service::ScopeForm {
                labels: ticked_labels(label_general, label_mental_health, label_sexual_health, label_social_care),
                can_add: can_add.is_some_and(|v| !v.is_empty()),
                can_export: can_export.is_some_and(|v| !v.is_empty()),
                starts_on: String::new(),
                ends_on: ends_on.unwrap_or_default(),
            };
            services()?.change_grant(&signed_in()?, grant_id(&id)?, version, &form).await?;
            leptos_axum::redirect("/record/people?changed=1");
            Ok(())
        }
        .await,
    )
}

/// Stops a carer's access at once, or withdraws an invitation.
#[server(prefix = "/api", endpoint = "access/revoke", input = PostUrl)]
pub async fn revoke_grant(id: String, version: i64) -> Result<(), AppError> {
    respond(
        async move {
            services()?.revoke_grant(&signed_in()?, grant_id(&id)?, version).await?;
            leptos_axum::redirect("/record/people?stopped=1");
            Ok(())
        }
        .await,
    )
}

/// The young person confirms a parent's access, so that it continues past 16.
#[server(prefix = "/api", endpoint = "access/confirm", input = PostUrl)]
pub async fn confirm_grant(id: String, version: i64) -> Result<(), AppError> {
    respond(
        async move {
            services()?.confirm_grant(&signed_in()?, grant_id(&id)?, version).await?;
            leptos_axum::redirect("/record/people?confirmed=1");
            Ok(())
        }
        .await,
    )
}

/// A parent offers a child's record to the young person.
#[server(prefix = "/api", endpoint = "caring/offer-record", input = PostUrl)]
pub async fn offer_record(patient: String, email: String) -> Result<(), AppError> {
    respond(
        async move {
            let patient = patient.trim().parse().map_err(|_| AppError::NotFound)?;
            services()?.offer_record(&signed_in()?, patient, &email).await?;
            leptos_axum::redirect("/caring?offered=1");
            Ok(())
        }
        .await,
    )
}

/// What a link offering a young person their record says.
#[server(prefix = "/api", endpoint = "records/offer", input = GetUrl)]
pub async fn record_offer(token: String) -> Result<RecordOfferView, AppError> {
    respond(async move { Ok(services()?.record_offer(&token).await?) }.await)
}

/// The young person takes their record with their own account.
#[server(prefix = "/api", endpoint = "records/take", input = PostUrl)]
pub async fn take_record(token: String) -> Result<(), AppError> {
    respond(
        async move {
            services()?.take_record(&signed_in()?, &token).await?;
            leptos_axum::redirect("/record/people?taken=1");
            Ok(())
        }
        .await,
    )
}

/// What an invitation link offers.
#[server(prefix = "/api", endpoint = "access/invitation", input = GetUrl)]
pub async fn invitation(token: String) -> Result<InvitationView, AppError> {
    respond(async move { Ok(services()?.invitation(&token).await?) }.await)
}

/// Accepts or declines an invitation with the caller's own account.
#[server(prefix = "/api", endpoint = "access/answer", input = PostUrl)]
pub async fn answer_invitation(token: String, answer: String) -> Result<(), AppError> {
    respond(
        async move {
            let who = signed_in()?;
            match answer.as_str() {
                "accept" => {
                    let patient = services()?.accept_invitation(&who, &token).await?;
                    leptos_axum::redirect(&format!("/record?patient={patient}&welcome=1"));
                }
                "decline" => {
                    services()?.decline_invitation(&who, &token).await?;
                    leptos_axum::redirect("/caring?declined=1");
                }
                _ => return Err(AppError::BadRequest),
            }
            Ok(())
        }
        .await,
    )
}

/// The people the caller cares for.
#[server(prefix = "/api", endpoint = "caring", input = GetUrl)]
pub async fn caring_for() -> Result<Vec<CaredForView>, AppError> {
    respond(async move { Ok(services()?.caring_for(&signed_in()?).await?) }.await)
}

/// Whose record a page shows, and what the caller may do there.
#[server(prefix = "/api", endpoint = "record/context", input = GetUrl)]
pub async fn record_scope(patient: Option<String>) -> Result<RecordContext, AppError> {
    respond(
        async move {
            let record = service::RecordRef::parse(patient.as_deref())?;
            Ok(services()?.record_context(&signed_in()?, record).await?)
        }
        .await,
    )
}

/// Makes a child's record, held by the caller as parent.
#[server(prefix = "/api", endpoint = "caring/add-child", input = PostUrl)]
pub async fn add_child(name: String, born_on: String) -> Result<(), AppError> {
    respond(
        async move {
            let patient = services()?.add_child_record(&signed_in()?, &name, &born_on).await?;
            leptos_axum::redirect(&format!("/record?patient={patient}"));
            Ok(())
        }
        .await,
    )
}

/// Marks the caller's notices read.
#[server(prefix = "/api", endpoint = "notices/mark-read", input = PostUrl)]
pub async fn mark_notices_read() -> Result<(), AppError> {
    respond(
        async move {
            services()?.mark_notices_read(&signed_in()?).await?;
            leptos_axum::redirect("/notices");
            Ok(())
        }
        .await,
    )
}

/// The caller's notices.
#[server(prefix = "/api", endpoint = "notices", input = GetUrl)]
pub async fn notices() -> Result<Vec<NoticeView>, AppError> {
    respond(async move { Ok(services()?.notices(&signed_in()?).await?) }.await)
}

/// A page of the caller's access log.
#[server(prefix = "/api", endpoint = "access/log", input = GetUrl)]
pub async fn access_log(who: Option<String>, outcome: Option<String>, before: Option<String>) -> Result<AccessLogView, AppError> {
    respond(
        async move {
            let q = service::AccessLogQuery {
                who: who.unwrap_or_default(),
                outcome: outcome.unwrap_or_default(),
                before: before.unwrap_or_default(),
            };
            Ok(services()?.access_log(&signed_in()?, &q).await?)
        }
        .await,
    )
}
