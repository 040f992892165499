//! Server functions: Carry's browser door. Each one names a stable endpoint, gets the services
//! and the caller, calls exactly one service function, and returns a view or an [`AppError`].
//! Reads use GET; every state change is a POST (checked for same origin by the server).

mod carers;
mod exports;
mod links;
mod nhs_record;
mod practice;
mod record;

pub use carers::*;
pub use exports::*;
pub use links::*;
pub use nhs_record::*;
pub use practice::*;
pub use record::*;

/// The label slugs a form's checkboxes ticked (`label_general`, `label_mental_health`...).
#[cfg(feature = "ssr")]
fn ticked_labels(general: Option<String>, mental: Option<String>, sexual: Option<String>, social: Option<String>) -> Vec<String> {
    [("general", general), ("mental-health", mental), ("sexual-health", sexual), ("social-care", social)]
        .into_iter()
        .filter(|(_, v)| v.as_deref().is_some_and(|v| !v.is_empty()))
        .map(|(slug, _)| slug.to_owned())
        .collect()
}

/// Every server function's path and the fields it takes. The server refuses any other field
/// before the function runs (security.md T5); a test fails if a server function is missing.
#[cfg(feature = "ssr")]
pub fn accepted_fields() -> Vec<(&'static str, &'static [&'static str])> {
    use leptos::server_fn::ServerFn;
    macro_rules! fields {
        ($($t:ty),* $(,)?) => { vec![$((<$t as ServerFn>::PATH, crate::ssr::field_names::<$t>())),*] };
    }
    fields![
        MyPractice,
        RequestPracticeLink,
        GiveBirthDate,
        UnlinkPractice,
        AnswerQuestion,
        StaffHome,
        InviteStaff,
        RemoveStaff,
        RetryCareRecordSend,
        RecheckCareRecordMatch,
        DecideLink,
        StaffInvitation,
        JoinPractice,
        Inbox,
        SharedRecord,
        ReviewEntries,
        AddCareNote,
        Grants,
        InviteCarer,
        ChangeGrant,
        RevokeGrant,
        ConfirmGrant,
        OfferRecord,
        RecordOffer,
        TakeRecord,
        Invitation,
        AnswerInvitation,
        CaringFor,
        RecordScope,
        RecordExports,
        RequestExport,
        ExportStatus,
        RecordHealthLinks,
        EndHealthLink,
        AddChild,
        MarkNoticesRead,
        Notices,
        AccessLog,
        Me,
        DemoMode,
        Register,
        RegistrationLink,
        CompleteRegistration,
        PasskeyRegisterStart,
        PasskeyRegisterFinish,
        SignIn,
        PasskeySignInStart,
        PasskeySignInFinish,
        SignOut,
        SignOutEverywhere,
        EndSession,
        Account,
        PasskeyAddStart,
        PasskeyAddFinish,
        RenamePasskey,
        RemovePasskey,
        SetPassword,
        RemovePassword,
        Recover,
        RecoveryLink,
        CompleteRecovery,
        PasskeyRecoverStart,
        PasskeyRecoverFinish,
        Timeline,
        Entry,
        Chart,
        DeletedEntries,
        AboutMe,
        RecordSummary,
        AddReading,
        AddNote,
        EditReading,
        EditNote,
        SetEntryPrivacy,
        DeleteEntry,
        RestoreEntry,
        SaveAboutMe,
        NhsRecord,
        UpdateNhsRecord,
        NowForForms,
    ]
}

use crate::error::AppError;
use domain::views::{AccountView, LinkView, MeView, PasskeyChallenge};
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, PostUrl};

#[cfg(feature = "ssr")]
use crate::ssr::{caller, clear_session_cookie, respond, safe_next, services, set_session_cookie, signed_in};

/// The signed-in person, for the header (or `None`).
#[server(prefix = "/api", endpoint = "me", input = GetUrl)]
pub async fn me() -> Result<Option<MeView>, AppError> {
    respond(
        async move {
            crate::ssr::reject_unknown_fields()?;
            Ok(caller().signed_in.map(|s| MeView { display_name: s.display_name, practice: s.staff.map(|j| j.practice_name) }))
        }
        .await,
    )
}

/// Whether the home page should list the demo people.
#[server(prefix = "/api", endpoint = "demo-mode", input = GetUrl)]
pub async fn demo_mode() -> Result<bool, AppError> {
    respond(
        async move {
            crate::ssr::reject_unknown_fields()?;
            Ok(use_context::<crate::ssr::UiSettings>().is_some_and(|s| s.demo))
        }
        .await,
    )
}

/// Starts registration; the person continues from the emailed link.
#[server(prefix = "/api", endpoint = "register", input = PostUrl)]
pub async fn register(name: String, email: String) -> Result<(), AppError> {
    respond(
        async move {
            services()?.start_registration(&name, &email, &caller().client).await?;
            leptos_axum::redirect("/register/sent");
            Ok(())
        }
        .await,
    )
}

/// What a registration link is for.
#[server(prefix = "/api", endpoint = "registration-link", input = GetUrl)]
pub async fn registration_link(token: String) -> Result<LinkView, AppError> {
    respond(async move { Ok(services()?.check_registration_link(&token).await?) }.await)
}

/// Finishes registration with a password.
#[server(prefix = "/api", endpoint = "complete-registration", input = PostUrl)]
pub async fn complete_registration(token: String, password: String) -> Result<(), AppError> {
    respond(
        async move {
            let session = services()?.complete_registration_with_password(&token, &password, &caller().client).await?;
            set_session_cookie(&session);
            leptos_axum::redirect("/account?welcome=1");
            Ok(())
        }
        .await,
    )
}

/// Starts making a passkey from a registration link (called by /passkey.js).
#[server(prefix = "/api", endpoint = "passkey/register/start", input = PostUrl)]
pub async fn passkey_register_start(token: String) -> Result<PasskeyChallenge, AppError> {
    respond(async move { Ok(services()?.start_registration_passkey(&token).await?) }.await)
}

/// Finishes registration with the passkey the browser made. Returns where to go next.
#[server(prefix = "/api", endpoint = "passkey/register/finish", input = PostUrl)]
pub async fn passkey_register_finish(ceremony_id: String, credential: String) -> Result<String, AppError> {
    respond(
        async move {
            let session = services()?.finish_registration_passkey(&ceremony_id, &credential, &caller().client).await?;
            set_session_cookie(&session);
            Ok("/account?welcome=1".to_owned())
        }
        .await,
    )
}

/// Signs in with an address and password.
#[server(prefix = "/api", endpoint = "sign-in", input = PostUrl)]
pub async fn sign_in(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    respond(
        async move {
            let c = caller();
            let session = services()?.sign_in_with_password(&email, &password, &c.client, c.signed_in.as_ref()).await?;
            set_session_cookie(&session);
            leptos_axum::redirect(&safe_next(next.as_deref()));
            Ok(())
        }
        .await,
    )
}

/// Starts a passkey sign-in (called by /passkey.js).
#[server(prefix = "/api", endpoint = "passkey/sign-in/start", input = PostUrl)]
pub async fn passkey_sign_in_start() -> Result<PasskeyChallenge, AppError> {
    respond(async move { Ok(services()?.start_passkey_sign_in(&caller().client).await?) }.await)
}

/// Finishes a passkey sign-in. Returns where to go next.
#[server(prefix = "/api", endpoint = "passkey/sign-in/finish", input = PostUrl)]
pub async fn passkey_sign_in_finish(ceremony_id: String, credential: String, next: Option<String>) -> Result<String, AppError> {
    respond(
        async move {
            let c = caller();
            let session = services()?.finish_passkey_sign_in(&ceremony_id, &credential, &c.client, c.signed_in.as_ref()).await?;
            set_session_cookie(&session);
            Ok(safe_next(next.as_deref()))
        }
        .await,
    )
}

/// Signs out of this browser.
#[server(prefix = "/api", endpoint = "sign-out", input = PostUrl)]
pub async fn sign_out() -> Result<(), AppError> {
    respond(
        async move {
            crate::ssr::reject_unknown_fields()?;
            if let Some(who) = caller().signed_in {
                services()?.sign_out(&who).await?;
            }
            clear_session_cookie();
            leptos_axum::redirect("/signed-out");
            Ok(())
        }
        .await,
    )
}

/// Signs out of every browser and device.
#[server(prefix = "/api", endpoint = "sign-out-everywhere", input = PostUrl)]
pub async fn sign_out_everywhere() -> Result<(), AppError> {
    respond(
        async move {
            services()?.sign_out_everywhere(&signed_in()?).await?;
            clear_session_cookie();
            leptos_axum::redirect("/signed-out?everywhere=1");
            Ok(())
        }
        .await,
    )
}

/// Ends one of the person's other sessions.
#[server(prefix = "/api", endpoint = "end-session", input = PostUrl)]
pub async fn end_session(id: String) -> Result<(), AppError> {
    respond(
        async move {
            let id = id.parse().map_err(|_| AppError::NotFound)?;
            services()?.end_session(&signed_in()?, id).await?;
            Ok(())
        }
        .await,
    )
}

/// Everything on the account page.
#[server(prefix = "/api", endpoint = "account", input = GetUrl)]
pub async fn account() -> Result<AccountView, AppError> {
    respond(async move { Ok(services()?.account_overview(&signed_in()?).await?) }.await)
}

/// Starts adding a passkey (called by /passkey.js).
#[server(prefix = "/api", endpoint = "passkey/add/start", input = PostUrl)]
pub async fn passkey_add_start() -> Result<PasskeyChallenge, AppError> {
    respond(async move { Ok(services()?.start_add_passkey(&signed_in()?).await?) }.await)
}

/// Finishes adding a passkey. Returns where to go next.
#[server(prefix = "/api", endpoint = "passkey/add/finish", input = PostUrl)]
pub async fn passkey_add_finish(ceremony_id: String, credential: String, name: String) -> Result<String, AppError> {
    respond(
        async move {
            services()?.finish_add_passkey(&signed_in()?, &ceremony_id, &credential, &name).await?;
            Ok("/account?added=1".to_owned())
        }
        .await,
    )
}

/// Renames a passkey.
#[server(prefix = "/api", endpoint = "rename-passkey", input = PostUrl)]
pub async fn rename_passkey(id: String, name: String) -> Result<(), AppError> {
    respond(
        async move {
            let id = id.parse().map_err(|_| AppError::NotFound)?;
            services()?.rename_passkey(&signed_in()?, id, &name).await?;
            Ok(())
        }
        .await,
    )
}

/// Removes a passkey.
#[server(prefix = "/api", endpoint = "remove-passkey", input = PostUrl)]
pub async fn remove_passkey(id: String) -> Result<(), AppError> {
    respond(
        async move {
            let id = id.parse().map_err(|_| AppError::NotFound)?;
            services()?.remove_passkey(&signed_in()?, id).await?;
            Ok(())
        }
        .await,
    )
}

/// Sets or changes the password.
#[server(prefix = "/api", endpoint = "set-password", input = PostUrl)]
pub async fn set_password(password: String) -> Result<(), AppError> {
    respond(
        async move {
            services()?.set_password(&signed_in()?, &password).await?;
            leptos_axum::redirect("/account?password=1");
            Ok(())
        }
        .await,
    )
}

/// Removes the password.
#[server(prefix = "/api", endpoint = "remove-password", input = PostUrl)]
pub async fn remove_password() -> Result<(), AppError> {
    respond(
        async move {
            services()?.remove_password(&signed_in()?).await?;
            Ok(())
        }
        .await,
    )
}

/// Emails a recovery link.
#[server(prefix = "/api", endpoint = "recover", input = PostUrl)]
pub async fn recover(email: String) -> Result<(), AppError> {
    respond(
        async move {
            services()?.start_recovery(&email, &caller().client).await?;
            leptos_axum::redirect("/recover/sent");
            Ok(())
        }
        .await,
    )
}

/// What a recovery link is for.
#[server(prefix = "/api", endpoint = "recovery-link", input = GetUrl)]
pub async fn recovery_link(token: String) -> Result<LinkView, AppError> {
    respond(async move { Ok(services()?.check_recovery_link(&token).await?) }.await)
}

/// Sets a new password from a recovery link.
#[server(prefix = "/api", endpoint = "complete-recovery", input = PostUrl)]
pub async fn complete_recovery(token: String, password: String) -> Result<(), AppError> {
    respond(
        async move {
            let session = services()?.complete_recovery_with_password(&token, &password, &caller().client).await?;
            set_session_cookie(&session);
            leptos_axum::redirect("/account?recovered=1");
            Ok(())
        }
        .await,
    )
}

/// Starts making a passkey from a recovery link (called by /passkey.js).
#[server(prefix = "/api", endpoint = "passkey/recover/start", input = PostUrl)]
pub async fn passkey_recover_start(token: String) -> Result<PasskeyChallenge, AppError> {
    respond(async move { Ok(services()?.start_recovery_passkey(&token).await?) }.await)
}

/// Finishes recovery with the passkey the browser made. Returns where to go next.
#[server(prefix = "/api", endpoint = "passkey/recover/finish", input = PostUrl)]
pub async fn passkey_recover_finish(ceremony_id: String, credential: String) -> Result<String, AppError> {
    respond(
        async move {
            let session = services()?.finish_recovery_passkey(&ceremony_id, &credential, &caller().client).await?;
            set_session_cookie(&session);
            Ok("/account?recovered=1".to_owned())
        }
        .await,
    )
}
