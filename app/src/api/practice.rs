//! Server functions for GP practices: the patient's link to their practice and their answers to
//! its questions; the staff's home, invitations, link decisions, review inbox, a patient's
//! shared entries, decisions on them, and social care notes.

use crate::error::AppError;
use domain::practice_views::{InboxPatientView, InboxView, JoinPracticeView, MyPracticeView, StaffHomeView};
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, PostUrl};

#[cfg(feature = "ssr")]
use crate::ssr::{respond, services, signed_in};

#[cfg(feature = "ssr")]
fn patient_id(id: &str) -> Result<domain::PatientId, AppError> {
    id.trim().parse().map_err(|_| AppError::NotFound)
}

/// The patient's "My GP practice" page.
#[server(prefix = "/api", endpoint = "practice/mine", input = GetUrl)]
pub async fn my_practice() -> Result<MyPracticeView, AppError> {
    respond(async move { Ok(services()?.my_practice(&signed_in()?).await?) }.await)
}

/// The patient asks to link their record to a practice, with their NHS number and date of birth.
#[server(prefix = "/api", endpoint = "practice/link", input = PostUrl)]
pub async fn request_practice_link(practice: String, nhs_number: String, born_on: String) -> Result<(), AppError> {
    respond(
        async move {
            services()?.request_link(&signed_in()?, &practice, &nhs_number, &born_on).await?;
            leptos_axum::redirect("/record/practice?asked=1");
            Ok(())
        }
        .await,
    )
}

/// The patient gives the date of birth their verified link lacks (links made before Carry
/// asked for one).
#[server(prefix = "/api", endpoint = "practice/birth-date", input = PostUrl)]
pub async fn give_birth_date(birth_date: String) -> Result<(), AppError> {
    respond(
        async move {
            services()?.give_birth_date(&signed_in()?, &birth_date).await?;
            leptos_axum::redirect("/record/practice?born=1");
            Ok(())
        }
        .await,
    )
}

/// The patient ends their practice's access, or withdraws their request.
#[server(prefix = "/api", endpoint = "practice/unlink", input = PostUrl)]
pub async fn unlink_practice() -> Result<(), AppError> {
    respond(
        async move {
            services()?.unlink_practice(&signed_in()?).await?;
            leptos_axum::redirect("/record/practice?unlinked=1");
            Ok(())
        }
        .await,
    )
}

/// The patient answers the practice's question.
#[server(prefix = "/api", endpoint = "record/answer", input = PostUrl)]
pub async fn answer_question(id: String, answer: String, patient: Option<String>) -> Result<(), AppError> {
    respond(
        async move {
            let record = service::RecordRef::parse(patient.as_deref()).map_err(AppError::from)?;
            let entry = id.trim().parse().map_err(|_| AppError::NotFound)?;
            services()?.answer_question(&signed_in()?, record, entry, &answer).await?;
            let back = match patient.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
                Some(p) => format!("/record/entries/{entry}?patient={p}&answered=1"),
                None => format!("/record/entries/{entry}?answered=1"),
            };
            leptos_axum::redirect(&back);
            Ok(())
        }
        .await,
    )
}

/// The staff member's home page.
#[server(prefix = "/api", endpoint = "practice/home", input = GetUrl)]
pub async fn staff_home() -> Result<StaffHomeView, AppError> {
    respond(async move { Ok(services()?.staff_home(&signed_in()?).await?) }.await)
}

/// An administrator puts an entry the shared care record did not take back in the queue.
#[server(prefix = "/api", endpoint = "practice/retry-send", input = PostUrl)]
pub async fn retry_care_record_send(send: String) -> Result<(), AppError> {
    respond(
        async move {
            services()?.retry_care_record_send(&signed_in()?, send.trim()).await?;
            leptos_axum::redirect("/practice?retried=1#care-record");
            Ok(())
        }
        .await,
    )
}

/// An administrator asks Carry to look a held match in the shared care record up again.
#[server(prefix = "/api", endpoint = "practice/recheck-match", input = PostUrl)]
pub async fn recheck_care_record_match(patient: String) -> Result<(), AppError> {
    respond(
        async move {
            services()?.recheck_care_record_match(&signed_in()?, &patient).await?;
            leptos_axum::redirect("/practice?rechecked=1#care-record");
            Ok(())
        }
        .await,
    )
}

/// An administrator invites someone to the practice's staff.
#[server(prefix = "/api", endpoint = "practice/invite", input = PostUrl)]
pub async fn invite_staff(name: String, email: String, job: String) -> Result<(), AppError> {
    respond(
        async move {
            services()?.invite_staff(&signed_in()?, &service::practices::StaffInviteForm { name, email, job }).await?;
            leptos_axum::redirect("/practice?invited=1");
            Ok(())
        }
        .await,
    )
}

/// An administrator ends someone's job at the practice.
#[server(prefix = "/api", endpoint = "practice/remove-staff", input = PostUrl)]
pub async fn remove_staff(user: String) -> Result<(), AppError> {
    respond(
        async move {
            let user = user.trim().parse().map_err(|_| AppError::NotFound)?;
            services()?.remove_staff(&signed_in()?, user).await?;
            leptos_axum::redirect("/practice?removed=1");
            Ok(())
        }
        .await,
    )
}

/// An administrator accepts or declines a patient's request to link, as they were shown it
/// (`seen`: the request's fingerprint; a request made again since is not decided).
#[server(prefix = "/api", endpoint = "practice/decide-link", input = PostUrl)]
pub async fn decide_link(patient: String, seen: String, decision: String, reason: Option<String>) -> Result<(), AppError> {
    respond(
        async move {
            let accept = match decision.as_str() {
                "accept" => true,
                "decline" => false,
                _ => {
                    return Err(AppError::Invalid(vec![domain::FieldError {
                        field: "decision".into(),
                        message: "Choose accept or decline.".into(),
                    }]))
                }
            };
            let reason = reason.as_deref().unwrap_or("");
            services()?.decide_link(&signed_in()?, patient_id(&patient)?, &seen, accept, reason).await?;
            leptos_axum::redirect(if accept { "/practice?linked=1" } else { "/practice?declined=1" });
            Ok(())
        }
        .await,
    )
}

/// What a staff invitation link offers.
#[server(prefix = "/api", endpoint = "practice/invitation", input = GetUrl)]
pub async fn staff_invitation(token: String) -> Result<JoinPracticeView, AppError> {
    respond(async move { Ok(services()?.staff_invitation(&token).await?) }.await)
}

/// Takes up a staff invitation with the signed-in account.
#[server(prefix = "/api", endpoint = "practice/join", input = PostUrl)]
pub async fn join_practice(token: String) -> Result<(), AppError> {
    respond(
        async move {
            services()?.join_practice(&signed_in()?, &token).await?;
            leptos_axum::redirect("/practice?joined=1");
            Ok(())
        }
        .await,
    )
}

/// A page of the review inbox.
#[server(prefix = "/api", endpoint = "practice/inbox", input = GetUrl)]
pub async fn inbox(after: Option<String>) -> Result<InboxView, AppError> {
    respond(async move { Ok(services()?.inbox(&signed_in()?, after.as_deref().unwrap_or("")).await?) }.await)
}

/// What one patient shared with the practice.
#[server(prefix = "/api", endpoint = "practice/patient", input = GetUrl)]
pub async fn shared_record(patient: String) -> Result<InboxPatientView, AppError> {
    respond(async move { Ok(services()?.shared_record(&signed_in()?, patient_id(&patient)?).await?) }.await)
}

/// A clinician's decision on one or more of a patient's shared entries. Each ticked box is
/// `entries[n]` = `<entry id>:<version seen>`.
#[server(prefix = "/api", endpoint = "practice/review", input = PostUrl)]
pub async fn review_entries(
    patient: String,
    #[server(default)] decision: String,
    message: Option<String>,
    #[server(default)] entries: Vec<String>,
) -> Result<(), AppError> {
    respond(
        async move {
            let patient = patient_id(&patient)?;
            let form = service::review::ReviewForm { entries, decision, message: message.unwrap_or_default() };
            let done = services()?.review_entries(&signed_in()?, patient, &form).await?;
            leptos_axum::redirect(&format!("/practice/patients/{patient}?reviewed={done}"));
            Ok(())
        }
        .await,
    )
}

/// A social care worker adds a note to a linked patient's record.
#[server(prefix = "/api", endpoint = "practice/care-note", input = PostUrl)]
pub async fn add_care_note(patient: String, title: String, text: String, tags: Option<String>) -> Result<(), AppError> {
    respond(
        async move {
            let patient = patient_id(&patient)?;
            let form = service::NoteForm { title, text, tags: tags.unwrap_or_default(), occurred_at: String::new() };
            services()?.add_care_note(&signed_in()?, patient, &form).await?;
            leptos_axum::redirect(&format!("/practice/patients/{patient}?noted=1"));
            Ok(())
        }
        .await,
    )
}
