//! SMART Health Links to the patient's summary (the SMART Health Links specification, v1):
//! the patient, or a carer whose grant lets them take the record out, makes a link to the
//! International Patient Summary with the labels they choose; whoever is handed it (a QR code
//! on a card, an ambulance crew, a doctor abroad) reads the summary without an account.
//!
//! - The link (`shlink:/...`) carries the manifest's address (256 random bits; Carry keeps
//!   only their hash) and the key (256 bits). The summary travels encrypted under that key as
//!   a compact JWE; a link made to show the summary as it was keeps that file and never the
//!   key. A long-term link (`L`) keeps its key sealed under the server's key so the current
//!   summary can be encrypted each time.
//! - Every use passes the gate on the maker's authority, decided afresh (a carer whose access
//!   ended takes their links with them), and is in the patient's access log under the name the
//!   user gave, wrong passcodes and ended links too.
//! - A passcode (`P`) allows [`PASSCODE_ATTEMPTS`] wrong tries; then the link locks. An ended,
//!   expired or locked link answers 404, as the specification says.

mod jwe;

use jwe::random_key as new_key;

use crate::access::{RecordRef, Touch};
use crate::error::{ServiceError, ServiceResult};
use crate::exports::{chosen_labels, Holds, Subject};
use crate::{Services, SignedIn};
use domain::access::{Action, DenyReason, Role};
use domain::audit::{describe, Category};
use domain::health_links::{
    link_label, passcode, HealthLinkView, HealthLinksView, Lasts, LinkState, LinkUse, MOST_A_DAY, PASSCODE_ATTEMPTS, PASSCODE_MIN,
};
use domain::{PasswordRules, PasswordText, Span, Timestamp, ValidationError};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use store::health_links::{self as links, LinkRow};

/// The media type of the files a link serves.
const FHIR_JSON: &str = "application/fhir+json";
/// How long a file named by address in a manifest works.
const FILE_FOR: Span = Span::hours(1);
/// How many uses of each link the links page lists.
const USES_SHOWN: i64 = 20;

/// A 256-bit key from the operating system (for the server's key outside production).
pub fn random_key() -> [u8; 32] {
    new_key()
}

/// What the "make a health link" form sends.
#[derive(Debug, Clone, Default)]
pub struct LinkForm {
    /// What the person calls it ("A&E card").
    pub label: String,
    /// Label slugs ticked.
    pub labels: Vec<String>,
    /// How long it lasts (a [`Lasts`] slug; empty: a day).
    pub expires: String,
    /// A passcode, or empty for none.
    pub passcode: String,
    /// Whether it always shows the current summary.
    pub long_term: bool,
}

/// A link just made: everything to show, print or share it. The key is in it and nowhere
/// else, so the page that shows it is the only chance to print the card (for a link without
/// `L`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MadeLink {
    /// Its id.
    pub id: String,
    /// Its name.
    pub label: String,
    /// Whose summary.
    pub patient_name: String,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// Whether it needs a passcode.
    pub passcode: bool,
    /// Whether it always shows the current summary.
    pub long_term: bool,
    /// The link itself (`shlink:/...`).
    pub shlink: String,
    /// Carry's viewer with the link after `#` (never sent to the server by a browser).
    pub viewer_url: String,
    /// A QR code of `viewer_url`, as SVG.
    pub qr_svg: String,
}

/// What someone with a link asks of its manifest (the specification's request body).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ManifestRequest {
    /// Who they are, in their words (required): the patient reads it in their log.
    pub recipient: Option<String>,
    /// The passcode, for a `P` link.
    pub passcode: Option<String>,
    /// The longest file to embed; longer ones are named by address.
    #[serde(rename = "embeddedLengthMax")]
    pub embedded_length_max: Option<u64>,
}

/// Why a manifest cannot be given, as the specification answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// 404: no such link, or it is not active (ended, expired, locked, or its maker's access
    /// ended).
    #[error("no active link at this address")]
    NotFound,
    /// 401: the passcode is missing or wrong.
    #[error("the passcode is missing or wrong")]
    WrongPasscode {
        /// Wrong passcodes still allowed before the link locks.
        remaining: i64,
    },
    /// 400: the request is malformed (named).
    #[error("{0}")]
    Invalid(String),
    /// 500: something went wrong on Carry's side.
    #[error("internal error")]
    Internal,
}

impl From<ServiceError> for LinkError {
    fn from(_: ServiceError) -> Self {
        LinkError::Internal
    }
}

impl From<store::StoreError> for LinkError {
    fn from(e: store::StoreError) -> Self {
        ServiceError::from(e).into()
    }
}

/// The hash a random address part is kept as.
fn address_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A random address part: 256 bits, base64url (43 characters).
fn new_token() -> String {
    jwe::b64(&new_key())
}

fn state(link: &LinkRow, now: Timestamp) -> LinkState {
    if link.ended_at.is_some() {
        LinkState::Ended
    } else if link.expires_at <= now {
        LinkState::Expired
    } else if link.passcode_hash.is_some() && link.attempts_left <= 0 {
        LinkState::Locked
    } else {
        LinkState::Active
    }
}

/// A QR code of `text` as an SVG element to put in a page (no XML declaration), named for
/// screen readers.
fn qr_svg(text: &str) -> ServiceResult<String> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).map_err(|e| ServiceError::internal(&e))?;
    let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(240, 240).quiet_zone(true).build();
    let start = svg.find("<svg").unwrap_or(0);
    Ok(svg[start..].replacen("<svg ", "<svg role=\"img\" aria-label=\"QR code of the health link\" ", 1))
}

impl Services {
    /// The links page: the links to `record`'s summary the caller may see (every one for the
    /// patient; a carer's own for a carer) with their uses, and what a new one may hold.
    pub async fn health_links(&self, who: &SignedIn, record: RecordRef) -> ServiceResult<HealthLinksView> {
        let access = self.peek_at(who, record, Action::Export, Touch::of(Category::HealthLink)).await?;
        let own = access.role() == Role::Patient;
        let mut view = HealthLinksView {
            patient_name: access.patient_name.clone(),
            own,
            labels: access.labels().to_vec(),
            long_term_offered: self.config().health_link_key.is_some(),
            links: Vec::new(),
        };
        let Some(patient) = access.patient() else { return Ok(view) };
        let permit = access.permit()?;
        let now = self.now();
        let mut conn = self.db().conn().await?;
        for link in links::list_links(&mut conn, patient, (!own).then_some(who.user_id)).await? {
            let rows = store::audit::list_for_item(&mut conn, permit, &Category::SummaryDocument.slug(), &link.id, USES_SHOWN).await?;
            let mut uses = Vec::new();
            for row in rows {
                let ev = row.event().map_err(|e| ServiceError::internal(&e))?;
                let words = describe(Some(who.user_id), ev.actor, &ev.actor_name, ev.role, ev.category, ev.action, ev.refused);
                uses.push(LinkUse { at: ev.at, words });
            }
            view.links.push(HealthLinkView {
                id: link.id.clone(),
                label: link.label.clone(),
                labels: link.labels.clone(),
                made_by: link.made_by_name.clone(),
                mine: link.made_by == who.user_id,
                made_at: link.created_at,
                expires_at: link.expires_at,
                passcode: link.passcode_hash.is_some(),
                long_term: link.long_term,
                state: state(&link, now),
                attempts_left: link.attempts_left,
                uses,
            });
        }
        Ok(view)
    }

    /// Makes a link to `record`'s summary with the labels ticked (never beyond what the caller
    /// may see). A carer needs the grant action to take the record out, and the patient is
    /// told. Errors name their field: `label`, `labels`, `expires`, `passcode`, `long_term`.
    pub async fn make_health_link(&self, who: &SignedIn, record: RecordRef, form: &LinkForm) -> ServiceResult<MadeLink> {
        let label = link_label(&form.label)?;
        let lasts = Lasts::parse(&form.expires)?;
        let code = passcode(&form.passcode)?;
        let server_key = match (form.long_term, self.config().health_link_key) {
            (true, None) => {
                return Err(ValidationError::field(
                    "long_term",
                    "Links that always show the current summary are not set up on this Carry. Make a link to the summary as it is now.",
                )
                .into())
            }
            (_, key) => key,
        };
        let passcode_hash = match &code {
            Some(p) => {
                let rules = PasswordRules { min_chars: PASSCODE_MIN, max_chars: 64 };
                let text = PasswordText::parse(p, rules).map_err(|_| ValidationError::field("passcode", "Choose another passcode."))?;
                Some(self.hasher().hash(&text).await?)
            }
            None => None,
        };
        let id = uuid::Uuid::new_v4().to_string();
        let now = self.now();
        let (mut tx, access) = self.open(who, record, Action::Export, Touch::item(Category::HealthLink, &id)).await?;
        let Some(patient) = access.patient() else {
            return Err(ValidationError::field("labels", "Your record is empty: there is nothing to share yet.").into());
        };
        let labels = chosen_labels(&form.labels, access.labels(), "the link")?;
        if links::count_made_since(&mut tx, patient, who.user_id, now.minus(Span::hours(24))).await? >= MOST_A_DAY as i64 {
            return Err(ValidationError::field(
                "label",
                format!("You have made {MOST_A_DAY} links today. End the ones you do not need, or try again tomorrow."),
            )
            .into());
        }
        let permit = access.permit()?.clone().narrowed(&labels).map_err(|_| ServiceError::Forbidden)?;
        let subject = Subject::load(&mut tx, patient).await?.ok_or(ServiceError::NotFound)?;
        let key = new_key();
        let (file, sealed_key) = match (form.long_term, server_key) {
            (true, Some(server)) => (None, Some(jwe::seal_key(&server, &id, &key))),
            _ => {
                let bundle = self.ips(&mut tx, &permit, &subject, Holds::Record).await?;
                (Some(jwe::encrypt(&key, FHIR_JSON, bundle.to_string().as_bytes())), None)
            }
        };
        let token = new_token();
        let expires_at = now.plus(lasts.span());
        let row = LinkRow {
            id: id.clone(),
            patient_id: patient,
            made_by: who.user_id,
            made_by_name: who.display_name.clone(),
            label: label.clone(),
            labels,
            manifest_hash: address_hash(&token),
            passcode_hash,
            attempts_left: PASSCODE_ATTEMPTS,
            long_term: form.long_term,
            sealed_key,
            file,
            expires_at,
            ended_at: None,
            created_at: now,
        };
        links::insert_link(&mut tx, &row, now).await?;
        if access.role() != Role::Patient {
            if let Some(owner) = access.owner {
                let text = format!(
                    "{} made a health link to your summary, \u{201c}{label}\u{201d}. You can see who uses it, and end it, on your health links page.",
                    who.display_name
                );
                self.notify(&mut tx, owner, &text, "/record/links").await?;
            }
        }
        tx.commit().await?;

        let flag: String = [form.long_term.then_some('L'), code.is_some().then_some('P')].into_iter().flatten().collect();
        let mut payload = json!({
            "url": self.config().link(&format!("/shl/m/{token}")),
            "key": jwe::b64(&key),
            "exp": expires_at.as_millis() / 1000,
            "label": label,
            "v": 1,
        });
        if !flag.is_empty() {
            payload["flag"] = Value::String(flag);
        }
        let shlink = format!("shlink:/{}", jwe::b64(payload.to_string().as_bytes()));
        let viewer_url = format!("{}#{shlink}", self.config().link("/shl"));
        Ok(MadeLink {
            id,
            label,
            patient_name: access.patient_name.clone(),
            expires_at,
            passcode: code.is_some(),
            long_term: form.long_term,
            qr_svg: qr_svg(&viewer_url)?,
            shlink,
            viewer_url,
        })
    }

    /// Ends a link at once: the patient may end any link to their summary, a carer the ones
    /// they made. Logged.
    pub async fn end_health_link(&self, who: &SignedIn, id: &str) -> ServiceResult<()> {
        let link = {
            let mut conn = self.db().conn().await?;
            links::find_link(&mut conn, id.trim()).await?.ok_or(ServiceError::NotFound)?
        };
        let action = if link.made_by == who.user_id { Action::Export } else { Action::ManageAccess };
        let (mut tx, _) =
            self.open(who, RecordRef::Patient(link.patient_id), action, Touch::item(Category::HealthLinkEnded, &link.id)).await?;
        links::end_link(&mut tx, &link.id, self.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The manifest of the link whose address part is `token`, for whoever holds the link
    /// (the specification's `POST` to its `url`). Decided on the maker's authority and logged
    /// either way.
    pub async fn health_link_manifest(&self, token: &str, ask: &ManifestRequest, request_id: &str) -> Result<Value, LinkError> {
        if token.len() != 43 {
            return Err(LinkError::NotFound);
        }
        let mut conn = self.db().conn().await?;
        let Some(link) = links::find_by_manifest(&mut conn, &address_hash(token)).await? else { return Err(LinkError::NotFound) };
        let recipient = ask.recipient.as_deref().map(|r| r.split_whitespace().collect::<Vec<_>>().join(" ")).unwrap_or_default();
        if recipient.is_empty() || recipient.chars().count() > 100 || recipient.chars().any(char::is_control) {
            return Err(LinkError::Invalid("recipient: say who is viewing the summary (1 to 100 characters)".to_owned()));
        }
        let touch = Touch::item(Category::SummaryDocument, &link.id);
        let log = |answer| self.link_event(&link.label, &recipient, request_id, answer, &touch);
        let permit = match self.open_for_link(&mut conn, link.patient_id, link.made_by).await? {
            Ok(permit) => permit,
            Err(refusal) => {
                drop(conn);
                self.log(log(Err(&refusal))).await?;
                return Err(LinkError::NotFound);
            }
        };
        if state(&link, self.now()) != LinkState::Active {
            drop(conn);
            self.log(log(Err(&permit.refuse(DenyReason::LinkNotActive)))).await?;
            return Err(LinkError::NotFound);
        }
        if let Some(hash) = &link.passcode_hash {
            let given = ask.passcode.as_deref().unwrap_or_default();
            let rules = PasswordRules { min_chars: 1, max_chars: 64 };
            let ok = match PasswordText::parse(given, rules) {
                Ok(text) => self.hasher().verify(Some(hash), &text).await?,
                Err(_) => false,
            };
            if !ok {
                let remaining = links::use_attempt(&mut conn, &link.id, self.now()).await?.unwrap_or(0);
                drop(conn);
                self.log(log(Err(&permit.refuse(DenyReason::WrongPasscode)))).await?;
                return Err(LinkError::WrongPasscode { remaining });
            }
        }
        // The maker's access now must still cover what the link holds.
        let covered = link.labels.iter().all(|l| permit.labels().contains(l));
        let Some(permit) = permit.clone().narrowed(&link.labels).ok().filter(|_| covered) else {
            drop(conn);
            self.log(log(Err(&permit.refuse(DenyReason::NoLabelsLeft)))).await?;
            return Err(LinkError::NotFound);
        };
        let file = match (&link.file, &link.sealed_key, self.config().health_link_key) {
            (Some(file), _, _) => file.clone(),
            (None, Some(sealed), Some(server)) => {
                let Some(key) = jwe::open_key(&server, &link.id, sealed) else {
                    tracing::error!(link = %link.id, "a long-term health link's key does not open under the server's key (was CARRY_HEALTH_LINK_KEY changed?)");
                    return Err(LinkError::NotFound);
                };
                let subject = Subject::load(&mut conn, link.patient_id).await?.ok_or(LinkError::NotFound)?;
                let bundle = self.ips(&mut conn, &permit, &subject, Holds::Record).await?;
                jwe::encrypt(&key, FHIR_JSON, bundle.to_string().as_bytes())
            }
            _ => {
                tracing::error!(link = %link.id, "a long-term health link cannot be served: CARRY_HEALTH_LINK_KEY is not set");
                return Err(LinkError::NotFound);
            }
        };
        let now = self.now();
        let entry = if ask.embedded_length_max.is_none_or(|max| file.len() as u64 <= max) {
            json!({ "contentType": FHIR_JSON, "embedded": file })
        } else {
            let ticket = new_token();
            links::insert_file(&mut conn, &address_hash(&ticket), &link.id, &file, now.plus(FILE_FOR), now).await?;
            json!({ "contentType": FHIR_JSON, "location": self.config().link(&format!("/shl/f/{ticket}")) })
        };
        drop(conn);
        self.log(log(Ok(&permit))).await?;
        Ok(json!({ "status": if link.long_term { "can-change" } else { "finalized" }, "files": [entry] }))
    }

    /// A file a manifest named by address, while its hour lasts and its link is active.
    pub async fn health_link_file(&self, ticket: &str) -> ServiceResult<Option<String>> {
        if ticket.len() != 43 {
            return Ok(None);
        }
        let now = self.now();
        let mut conn = self.db().conn().await?;
        let Some((link_id, file)) = links::find_file(&mut conn, &address_hash(ticket), now).await? else { return Ok(None) };
        let active = links::find_link(&mut conn, &link_id).await?.is_some_and(|l| state(&l, now) == LinkState::Active);
        Ok(active.then_some(file))
    }

    /// Removes files named by address whose hour is up, or whose link ended.
    pub async fn sweep_health_link_files(&self) -> ServiceResult<u64> {
        let mut conn = self.db().conn().await?;
        Ok(links::delete_stale_files(&mut conn, self.now()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_qr_code_is_an_svg_element_named_for_screen_readers() {
        let svg = qr_svg("http://localhost:3000/shl#shlink:/eyJ1cmwiOiJodHRwOi8vbG9jYWxob3N0In0").unwrap();
        assert!(svg.starts_with("<svg role=\"img\" aria-label=\"QR code of the health link\" "), "{svg}");
        assert!(!svg.contains("<?xml"));
    }
}
