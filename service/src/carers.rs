//! Carers: a patient invites someone by email to see (and perhaps add to) their record within
//! chosen labels and dates; the carer accepts with their own account; the patient changes or
//! ends it at any time. A parent can hold a grant for a child's record. Every step is logged,
//! recorded in the grant's history, and told to both sides in the portal and by an email that
//! carries only a link.

use crate::access::{RecordRef, Touch};
use crate::error::{ServiceError, ServiceResult};
use crate::mail::{mail_name, queue};
use crate::throttle;
use crate::tokens::{hash_text, Token};
use crate::{Services, SignedIn};
use domain::access::{grant_in_force, Action, Role};
use domain::audit::{AuditEvent, CarryJob, Category};
use domain::grants::{
    labels_to_text, BirthDate, CarerRelationship, GrantBasis, GrantStatus, DEFAULT_GRANT_DAYS, INVITATION_VALID, REVIEW_REMINDER,
};
use domain::views::{CaredForView, GrantView, InvitationView, NoticeView, RecordContext};
use domain::{Email, GrantId, NoticeId, PatientId, PersonName, PrivacyLabel, Span, Timestamp, UserId, ValidationError};
use store::grants::{self, GrantRow};
use store::patients::{self, PatientRow};
use store::{audit, notices, users, Conn};

/// The scope of a grant as a form sends it.
#[derive(Debug, Clone, Default)]
pub struct ScopeForm {
    /// Label slugs ticked.
    pub labels: Vec<String>,
    /// "Add entries for me" ticked.
    pub can_add: bool,
    /// First day (`YYYY-MM-DD`); empty means today.
    pub starts_on: String,
    /// Last day (`YYYY-MM-DD`), inclusive; empty means 12 months from the start.
    pub ends_on: String,
}

/// An invitation as the patient's form sends it.
#[derive(Debug, Clone, Default)]
pub struct InviteForm {
    /// The carer's name.
    pub name: String,
    /// Their email address.
    pub email: String,
    /// A RoleCode from the list.
    pub relationship: String,
    /// A basis slug; empty means the patient's own consent.
    pub basis: String,
    /// What it covers and when.
    pub scope: ScopeForm,
}

/// The bases a patient may give when inviting someone (a parent's and a court's come another way).
const PATIENT_BASES: [GrantBasis; 3] = [GrantBasis::PatientConsent, GrantBasis::LastingPowerOfAttorney, GrantBasis::CourtAppointedDeputy];

/// The labels, times and rights a scope form asks for.
struct Scope {
    labels: Vec<PrivacyLabel>,
    can_add: bool,
    starts_at: Timestamp,
    ends_at: Timestamp,
}

fn parse_scope(form: &ScopeForm, now: Timestamp, keep_start: Option<Timestamp>) -> Result<Scope, ValidationError> {
    let mut errors = Vec::new();
    let mut labels = Vec::new();
    for slug in &form.labels {
        match PrivacyLabel::parse("labels", slug) {
            Ok(l) if !labels.contains(&l) => labels.push(l),
            Ok(_) => {}
            Err(e) => errors.extend(e.0),
        }
    }
    if labels.is_empty() && errors.is_empty() {
        errors.extend(ValidationError::field("labels", "Choose at least one kind of entry they may see.").0);
    }
    let starts_at = match (form.starts_on.trim(), keep_start) {
        ("", Some(start)) => Some(start),
        ("", None) => Some(now),
        (text, _) => match Timestamp::parse_uk_date(text) {
            Some(day) if keep_start.is_none() && day.plus(Span::days(1)) <= now => {
                errors.extend(ValidationError::field("starts_on", "The start cannot be in the past.").0);
                None
            }
            // Starting today means from now, not from midnight.
            Some(day) => Some(if day <= now { now.max(day) } else { day }),
            None => {
                errors.extend(ValidationError::field("starts_on", "Enter the start as a real date.").0);
                None
            }
        },
    };
    let ends_at = match (form.ends_on.trim(), starts_at) {
        (_, None) => None,
        ("", Some(start)) => Some(start.plus(Span::days(DEFAULT_GRANT_DAYS))),
        (text, Some(start)) => match Timestamp::parse_ymd(text) {
            // The last day is included: access ends at the start of the day after.
            Some((y, m, d)) => {
                let end = Timestamp::uk_day_start(y, m, d + 1);
                if end <= start || end <= now {
                    errors.extend(ValidationError::field("ends_on", "The end must be after the start and in the future.").0);
                    None
                } else if end > start.plus(Span::days(5 * 366)) {
                    errors.extend(ValidationError::field("ends_on", "Access can last at most 5 years; it can be renewed.").0);
                    None
                } else {
                    Some(end)
                }
            }
            None => {
                errors.extend(ValidationError::field("ends_on", "Enter the end as a real date.").0);
                None
            }
        },
    };
    match (errors.is_empty(), starts_at, ends_at) {
        (true, Some(starts_at), Some(ends_at)) => Ok(Scope { labels, can_add: form.can_add, starts_at, ends_at }),
        _ => Err(ValidationError(errors)),
    }
}

fn scope_words(labels: &[PrivacyLabel], can_add: bool) -> String {
    let names: Vec<&str> = labels.iter().map(|l| l.label()).collect();
    format!("{}; {}", names.join(", "), if can_add { "view and add entries" } else { "view only" })
}

/// The last day of a grant, as people say it (the end is exclusive, at midnight).
fn last_day(ends_at: Timestamp) -> String {
    ends_at.minus(Span::millis(1)).to_uk_date()
}

fn state_words(g: &GrantRow, born_on: Option<BirthDate>, now: Timestamp, rules: &domain::grants::AgeRules) -> (String, bool) {
    match g.status {
        GrantStatus::Invited if g.invite_expires_at.is_some_and(|t| t <= now) => ("Invitation expired, not accepted".to_owned(), false),
        GrantStatus::Invited => ("Invited: not accepted yet".to_owned(), false),
        GrantStatus::Declined => ("Declined".to_owned(), false),
        GrantStatus::Cancelled => ("Invitation withdrawn".to_owned(), false),
        GrantStatus::Revoked => (format!("Stopped on {}", g.ended_at.unwrap_or(now).to_uk_date()), false),
        GrantStatus::Active => match grant_in_force(&g.facts(), born_on, now, rules) {
            Ok(labels) if labels != g.labels => {
                (format!("Active until {}, narrowed by age to {}", last_day(g.ends_at), scope_words(&labels, g.can_add)), true)
            }
            Ok(_) => (format!("Active until {}", last_day(g.ends_at)), true),
            Err(domain::access::DenyReason::GrantNotStarted) => (format!("Starts on {}", g.starts_at.to_uk_date()), false),
            Err(domain::access::DenyReason::GrantEnded) => (format!("Ended on {}", last_day(g.ends_at)), false),
            Err(domain::access::DenyReason::SuspendedAtAge) => ("Paused: the young person must confirm it".to_owned(), false),
            Err(reason) => (format!("Not in force: {}", reason.words()), false),
        },
    }
}

/// Whether the young person may now confirm a parent's access, so that it continues past the
/// suspension age: from the warning before that age (access-rules.md: the young person, "now
/// an adult in law for consent", confirms it), while the grant is active and unconfirmed.
fn confirmable(g: &GrantRow, born_on: Option<BirthDate>, now: Timestamp, rules: &domain::grants::AgeRules) -> bool {
    g.basis == GrantBasis::ParentalResponsibility
        && g.status == GrantStatus::Active
        && g.ends_at > now
        && g.young_person_confirmed_at.is_none()
        && born_on.is_some_and(|b| rules.warning_at(b, rules.suspend_at) <= now)
}

/// A grant already in force (a parent's for their child, or the demo's), as no invitation
/// precedes it. It may add entries.
fn accepted_grant(
    patient: PatientId,
    carer: UserId,
    carer_name: &str,
    decided_by: UserId,
    (relationship, basis): (CarerRelationship, GrantBasis),
    labels: Vec<PrivacyLabel>,
    (starts_at, ends_at): (Timestamp, Timestamp),
) -> GrantRow {
    GrantRow {
        id: GrantId::from_uuid(uuid::Uuid::now_v7()),
        patient_id: patient,
        patient_name: String::new(),
        carer: Some(carer),
        carer_account_name: None,
        invited_email: String::new(),
        invited_name: carer_name.to_owned(),
        relationship,
        basis,
        labels,
        can_add: true,
        starts_at,
        ends_at,
        status: GrantStatus::Active,
        invite_token_hash: None,
        invite_expires_at: None,
        decided_by,
        young_person_confirmed_at: None,
        ended_at: None,
        ended_by: None,
        version: 1,
        created_at: starts_at,
    }
}

impl Services {
    /// Demo mode only: gives the demo carer access to the demo patient's record (general and
    /// social care, may add, 12 months) unless they already have a grant there.
    pub async fn ensure_demo_grant(&self, patient_email: &str, carer_email: &str) -> ServiceResult<bool> {
        let now = self.now();
        let mut tx = self.db().begin().await?;
        let (Some(patient), Some(carer)) = (
            users::find_user_by_email_key(&mut tx, &patient_email.to_lowercase()).await?,
            users::find_user_by_email_key(&mut tx, &carer_email.to_lowercase()).await?,
        ) else {
            return Ok(false);
        };
        let record = patients::ensure_patient_for_user(&mut tx, PatientId::from_uuid(uuid::Uuid::new_v4()), patient.id, now).await?;
        if !grants::held_on_record(&mut tx, record.id, carer.id).await?.is_empty() {
            return Ok(false);
        }
        let grant = accepted_grant(
            record.id,
            carer.id,
            &carer.display_name,
            patient.id,
            (CarerRelationship::Friend, GrantBasis::PatientConsent),
            vec![PrivacyLabel::General, PrivacyLabel::SocialCare],
            (now, now.plus(Span::days(DEFAULT_GRANT_DAYS))),
        );
        grants::insert_grant(&mut tx, &grant, now).await?;
        grants::insert_change(&mut tx, grant.id, 1, patient.id, "given for the demo", &scope_words(&grant.labels, true), grant.basis, now)
            .await?;
        // Every change to who can see a record is in that record's log.
        let touch = Touch::item(Category::Access, grant.id);
        let event = AuditEvent::carry_job(record.id, CarryJob::DemoSetUp, &touch, now, "demo-setup".to_owned());
        audit::append(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Says something to a person in the portal, and by an email carrying only a link.
    pub(crate) async fn notify(&self, conn: &mut Conn, user: UserId, text: &str, link: &str) -> ServiceResult<()> {
        self.notify_about(conn, user, text, link, "about access to a health record ").await
    }

    /// Like [`Services::notify`], with the email's one line of subject matter ("about access to
    /// a health record ", or nothing): the email never says more.
    pub(crate) async fn notify_about(&self, conn: &mut Conn, user: UserId, text: &str, link: &str, about: &str) -> ServiceResult<()> {
        let now = self.now();
        notices::insert_notice(conn, NoticeId::from_uuid(uuid::Uuid::now_v7()), user, text, link, now).await?;
        if let Some(u) = users::find_user(conn, user).await? {
            let body = format!(
                "Hello {},\n\nThere is an update {about}in Carry. Sign in to see it:\n{}\n\n\
                 For your privacy, this email says nothing more.\n",
                mail_name(&u.display_name),
                self.config().link(link)
            );
            queue(self, conn, &u.email, "An update in Carry", &body).await?;
        }
        Ok(())
    }

    /// Emails someone without an account yet (an invited carer): only the link.
    async fn mail_link(&self, conn: &mut Conn, to: &str, name: &str, inviter: &str, link: &str) -> ServiceResult<()> {
        // Both names were typed by the person inviting: quoted short, on one line, never a link.
        let (name, inviter) = (mail_name(name), mail_name(inviter));
        let body = format!(
            "Hello {name},\n\n{inviter} has invited you to help with their health record in Carry.\n\
             To accept, open this link within 7 days and sign in or make an account of your own:\n{}\n\n\
             If you were not expecting this, you can ignore this email.\n",
            self.config().link(link)
        );
        queue(self, conn, to, "An invitation to Carry", &body).await
    }

    /// Every grant and invitation on the caller's record, newest first.
    pub async fn grants(&self, who: &SignedIn) -> ServiceResult<Vec<GrantView>> {
        let (mut tx, access) = self.open_read(who, RecordRef::Own, Action::ReadAccessLog, Touch::of(Category::Access)).await?;
        let Some(patient) = access.patient() else { return Ok(Vec::new()) };
        let row = patients::find_patient(&mut tx, patient).await?.ok_or(ServiceError::NotFound)?;
        let born = row.born_on.as_deref().and_then(BirthDate::from_text);
        let now = self.now();
        let mut out = Vec::new();
        for g in grants::list_for_patient(&mut tx, patient).await? {
            let (state, in_force) = state_words(&g, born, now, &self.config().age_rules);
            let history = grants::list_changes(&mut tx, g.id)
                .await?
                .into_iter()
                .map(|c| {
                    format!(
                        "{}: {} by {}{}",
                        Timestamp::from_millis(c.at),
                        c.change,
                        c.changed_by_name,
                        if c.details.is_empty() { String::new() } else { format!(" ({})", c.details) }
                    )
                })
                .collect();
            let open = in_force || matches!(g.status, GrantStatus::Invited) || (g.status == GrantStatus::Active && g.ends_at > now);
            out.push(GrantView {
                id: g.id,
                version: g.version,
                carer_name: g.carer_name().to_owned(),
                email: g.invited_email.clone(),
                relationship: g.relationship,
                basis: g.basis,
                labels: g.labels.clone(),
                can_add: g.can_add,
                starts_at: g.starts_at,
                ends_at: g.ends_at,
                state,
                open,
                invited: g.status == GrantStatus::Invited,
                can_confirm: confirmable(&g, born, now, &self.config().age_rules),
                history,
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Invites a carer to the caller's own record. Errors name `name`, `email`,
    /// `relationship`, `basis`, `labels`, `starts_on` or `ends_on`.
    pub async fn invite_carer(&self, who: &SignedIn, form: &InviteForm) -> ServiceResult<GrantId> {
        let now = self.now();
        let name = PersonName::parse(&form.name);
        let email = Email::parse(&form.email);
        let relationship = CarerRelationship::parse("relationship", &form.relationship);
        let basis = match form.basis.trim() {
            "" => Ok(GrantBasis::PatientConsent),
            s => GrantBasis::from_slug(s)
                .filter(|b| PATIENT_BASES.contains(b))
                .ok_or_else(|| ValidationError::field("basis", "Choose the basis from the list.")),
        };
        let scope = parse_scope(&form.scope, now, None);
        let (name, email, relationship, basis, scope) = match (name, email, relationship, basis, scope) {
            (Ok(n), Ok(e), Ok(r), Ok(b), Ok(s)) => (n, e, r, b, s),
            (n, e, r, b, s) => {
                let errors = [n.err(), e.err(), r.err(), b.err(), s.err()].into_iter().flatten().flat_map(|e| e.0).collect();
                return Err(ValidationError(errors).into());
            }
        };
        self.require_recent_sign_in(who)?;
        let (mut tx, access) = self.open(who, RecordRef::Own, Action::ManageAccess, Touch::of(Category::Access)).await?;
        let patient = access.patient().ok_or(ServiceError::NotFound)?;
        let me = users::find_user(&mut tx, who.user_id).await?.ok_or(ServiceError::NotSignedIn)?;
        if me.email.to_lowercase() == email.lookup_key() {
            return Err(ValidationError::field("email", "That is your own address: a carer needs an account of their own.").into());
        }
        let token = Token::generate();
        let id = GrantId::from_uuid(uuid::Uuid::now_v7());
        let grant = GrantRow {
            id,
            patient_id: patient,
            patient_name: access.patient_name.clone(),
            carer: None,
            carer_account_name: None,
            invited_email: email.as_str().to_owned(),
            invited_name: name.as_str().to_owned(),
            relationship,
            basis,
            labels: scope.labels,
            can_add: scope.can_add,
            starts_at: scope.starts_at,
            ends_at: scope.ends_at,
            status: GrantStatus::Invited,
            invite_token_hash: Some(token.hash()),
            invite_expires_at: Some(now.plus(INVITATION_VALID)),
            decided_by: who.user_id,
            young_person_confirmed_at: None,
            ended_at: None,
            ended_by: None,
            version: 1,
            created_at: now,
        };
        grants::insert_grant(&mut tx, &grant, now).await?;
        grants::insert_change(&mut tx, id, 1, who.user_id, "invited", &scope_words(&grant.labels, grant.can_add), basis, now).await?;
        throttle::invitation_allowed(self, &mut tx, who.user_id, &email.lookup_key()).await?;
        self.mail_link(&mut tx, email.as_str(), name.as_str(), &who.display_name, &format!("/invitations/{}", token.expose())).await?;
        notices::insert_notice(
            &mut tx,
            NoticeId::from_uuid(uuid::Uuid::now_v7()),
            who.user_id,
            &format!("You invited {} to help with your record.", name.as_str()),
            "/record/people",
            now,
        )
        .await?;
        tx.commit().await?;
        self.wake_mailer();
        Ok(id)
    }

    /// Loads a grant on the caller's own record for a change, checking the version seen.
    async fn own_grant(&self, who: &SignedIn, id: GrantId, seen_version: i64) -> ServiceResult<(store::Tx, GrantRow)> {
        let (mut tx, access) = self.open(who, RecordRef::Own, Action::ManageAccess, Touch::item(Category::Access, id)).await?;
        let g = grants::find_grant(&mut tx, id).await?.filter(|g| Some(g.patient_id) == access.patient()).ok_or(ServiceError::NotFound)?;
        if g.version != seen_version {
            return Err(ServiceError::Stale);
        }
        Ok((tx, g))
    }

    /// Changes what a carer may see and do, and until when. Errors name `labels`, `starts_on`
    /// or `ends_on`.
    pub async fn change_grant(&self, who: &SignedIn, id: GrantId, seen_version: i64, form: &ScopeForm) -> ServiceResult<()> {
        let now = self.now();
        self.require_recent_sign_in(who)?;
        let (mut tx, mut g) = self.own_grant(who, id, seen_version).await?;
        if !matches!(g.status, GrantStatus::Invited | GrantStatus::Active) || g.ends_at <= now {
            return Err(ServiceError::NotFound);
        }
        // The start stays as it was: the change form does not move it.
        let scope = parse_scope(form, now, Some(g.starts_at))?;
        let before = scope_words(&g.labels, g.can_add);
        let before_end = last_day(g.ends_at);
        g.labels = scope.labels;
        g.can_add = scope.can_add;
        g.starts_at = scope.starts_at;
        g.ends_at = scope.ends_at;
        if !grants::update_grant(&mut tx, &g, now).await? {
            return Err(ServiceError::Stale);
        }
        let details = format!("was {before} until {before_end}; now {} until {}", scope_words(&g.labels, g.can_add), last_day(g.ends_at));
        grants::insert_change(&mut tx, id, g.version + 1, who.user_id, "changed", &details, g.basis, now).await?;
        if let Some(carer) = g.carer {
            self.notify(&mut tx, carer, &format!("{} changed your access to their record.", who.display_name), "/caring").await?;
        }
        self.notify(&mut tx, who.user_id, &format!("You changed {}'s access to your record.", g.carer_name()), "/record/people").await?;
        tx.commit().await?;
        self.wake_mailer();
        Ok(())
    }

    /// Ends a carer's access at once (or withdraws an invitation). Their very next request is
    /// refused, also in a session already open.
    pub async fn revoke_grant(&self, who: &SignedIn, id: GrantId, seen_version: i64) -> ServiceResult<()> {
        let now = self.now();
        let (mut tx, mut g) = self.own_grant(who, id, seen_version).await?;
        let change = match g.status {
            GrantStatus::Invited => GrantStatus::Cancelled,
            GrantStatus::Active => GrantStatus::Revoked,
            GrantStatus::Declined | GrantStatus::Revoked | GrantStatus::Cancelled => return Ok(()),
        };
        g.status = change;
        g.invite_token_hash = None;
        g.ended_at = Some(now);
        g.ended_by = Some(who.user_id);
        if !grants::update_grant(&mut tx, &g, now).await? {
            return Err(ServiceError::Stale);
        }
        let word = if change == GrantStatus::Cancelled { "withdrew the invitation" } else { "stopped access" };
        grants::insert_change(&mut tx, id, g.version + 1, who.user_id, word, "", g.basis, now).await?;
        if let Some(carer) = g.carer {
            self.notify(&mut tx, carer, &format!("{} stopped your access to their record.", who.display_name), "/caring").await?;
        }
        self.notify(&mut tx, who.user_id, &format!("You stopped {}'s access to your record.", g.carer_name()), "/record/people").await?;
        tx.commit().await?;
        self.wake_mailer();
        Ok(())
    }

    async fn born_on(&self, conn: &mut Conn, patient: PatientId) -> ServiceResult<Option<BirthDate>> {
        Ok(patients::find_patient(conn, patient).await?.and_then(|p| p.born_on.as_deref().and_then(BirthDate::from_text)))
    }

    /// The young person, holding their own record, confirms a parent's access so that it
    /// continues past the suspension age. Needs a recent sign-in, like giving access.
    pub async fn confirm_grant(&self, who: &SignedIn, id: GrantId, seen_version: i64) -> ServiceResult<()> {
        let now = self.now();
        self.require_recent_sign_in(who)?;
        let (mut tx, mut g) = self.own_grant(who, id, seen_version).await?;
        if !confirmable(&g, self.born_on(&mut tx, g.patient_id).await?, now, &self.config().age_rules) {
            return Err(ServiceError::NotFound);
        }
        if g.young_person_confirmed_at.is_some() {
            return Ok(());
        }
        g.young_person_confirmed_at = Some(now);
        if !grants::update_grant(&mut tx, &g, now).await? {
            return Err(ServiceError::Stale);
        }
        let details = format!("continues after {}, until {}", self.config().age_rules.suspend_at, last_day(g.ends_at));
        grants::insert_change(&mut tx, id, g.version + 1, who.user_id, "confirmed by the young person", &details, g.basis, now).await?;
        if let Some(parent) = g.carer {
            self.notify(&mut tx, parent, &format!("{} confirmed your access to their record.", who.display_name), "/caring").await?;
        }
        self.notify(&mut tx, who.user_id, &format!("You confirmed {}'s access to your record.", g.carer_name()), "/record/people").await?;
        tx.commit().await?;
        self.wake_mailer();
        Ok(())
    }

    /// The usable grant behind an invitation link.
    async fn invitation_row(&self, conn: &mut Conn, token: &str) -> ServiceResult<GrantRow> {
        let g = grants::find_by_invite(conn, &hash_text(token.trim())).await?.ok_or(ServiceError::LinkInvalid)?;
        if g.status != GrantStatus::Invited || g.invite_expires_at.is_none_or(|t| t <= self.now()) {
            return Err(ServiceError::LinkInvalid);
        }
        Ok(g)
    }

    /// What an invitation link offers, or `LinkInvalid`.
    pub async fn invitation(&self, token: &str) -> ServiceResult<InvitationView> {
        let mut conn = self.db().conn().await?;
        let g = self.invitation_row(&mut conn, token).await?;
        Ok(InvitationView {
            patient_name: g.patient_name,
            invited_name: g.invited_name,
            relationship: g.relationship,
            labels: g.labels,
            can_add: g.can_add,
            starts_at: g.starts_at,
            ends_at: g.ends_at,
        })
    }

    /// Accepts an invitation with the caller's own account. The link then stops working.
    pub async fn accept_invitation(&self, who: &SignedIn, token: &str) -> ServiceResult<PatientId> {
        self.answer_invitation(who, token, true).await
    }

    /// Declines an invitation.
    pub async fn decline_invitation(&self, who: &SignedIn, token: &str) -> ServiceResult<PatientId> {
        self.answer_invitation(who, token, false).await
    }

    async fn answer_invitation(&self, who: &SignedIn, token: &str, accept: bool) -> ServiceResult<PatientId> {
        let now = self.now();
        let mut tx = self.db().begin().await?;
        let mut g = self.invitation_row(&mut tx, token).await?;
        let patient = patients::find_patient(&mut tx, g.patient_id).await?.ok_or(ServiceError::LinkInvalid)?;
        if patient.user_id == Some(who.user_id) {
            return Err(ValidationError::field(
                "token",
                "This invitation is to your own record: the person you invited must open it with their own account.",
            )
            .into());
        }
        // Only the account of the address the patient chose may take it up: a forwarded or
        // mistyped invitation gives nobody else access.
        let me = users::find_user(&mut tx, who.user_id).await?.ok_or(ServiceError::NotSignedIn)?;
        if me.email.to_lowercase() != g.invited_email.to_lowercase() {
            return Err(ValidationError::field(
                "token",
                "This invitation was sent to another email address. Sign in with the account for that address to answer it.",
            )
            .into());
        }
        g.invite_token_hash = None;
        g.status = if accept { GrantStatus::Active } else { GrantStatus::Declined };
        if accept {
            g.carer = Some(who.user_id);
        } else {
            g.ended_at = Some(now);
            g.ended_by = Some(who.user_id);
        }
        if !grants::update_grant(&mut tx, &g, now).await? {
            return Err(ServiceError::LinkInvalid);
        }
        let word = if accept { "accepted" } else { "declined" };
        grants::insert_change(&mut tx, g.id, g.version + 1, who.user_id, word, "", g.basis, now).await?;
        audit::append(&mut tx, &self.grant_event(who, patient.id, g.id)).await?;
        if let Some(owner) = patient.user_id {
            self.notify(&mut tx, owner, &format!("{} {word} your invitation.", who.display_name), "/record/people").await?;
        }
        if accept {
            self.notify(&mut tx, who.user_id, &format!("You can now help {} with their record.", patient.name), "/caring").await?;
        }
        tx.commit().await?;
        self.wake_mailer();
        Ok(g.patient_id)
    }

    /// The people the caller cares for, with what they may do for each now.
    pub async fn caring_for(&self, who: &SignedIn) -> ServiceResult<Vec<CaredForView>> {
        let now = self.now();
        let mut conn = self.db().conn().await?;
        let held = grants::held_by(&mut conn, who.user_id).await?;
        let mut out: Vec<CaredForView> = Vec::new();
        for g in held {
            let Some(record) = patients::find_patient(&mut conn, g.patient_id).await? else { continue };
            let born = record.born_on.as_deref().and_then(BirthDate::from_text);
            let (state, in_force) = state_words(&g, born, now, &self.config().age_rules);
            let labels = grant_in_force(&g.facts(), born, now, &self.config().age_rules).unwrap_or_default();
            // A parent keeps a child's record until the young person takes it over.
            let can_hand_over = record.user_id.is_none()
                && born.is_some_and(|b| b.age_at(now) >= self.config().age_rules.review_at)
                && g.basis == GrantBasis::ParentalResponsibility
                && g.status == GrantStatus::Active
                && g.ends_at > now;
            let offered_to = if can_hand_over {
                patients::find_handover_for_patient(&mut conn, g.patient_id).await?.filter(|h| h.expires_at > now).map(|h| h.email)
            } else {
                None
            };
            let view = CaredForView {
                patient_id: g.patient_id,
                name: g.patient_name.clone(),
                labels,
                can_add: in_force && g.can_add,
                ends_at: g.ends_at,
                state,
                in_force,
                can_hand_over,
                offered_to,
            };
            // Several grants on one record show as one person: the one in force, if any.
            match out.iter_mut().find(|c| c.patient_id == g.patient_id) {
                Some(seen) if in_force && !seen.in_force => {
                    let (can_hand_over, offered_to) = (seen.can_hand_over, seen.offered_to.take());
                    *seen = CaredForView {
                        can_hand_over: view.can_hand_over || can_hand_over,
                        offered_to: view.offered_to.or(offered_to),
                        ..view
                    };
                }
                Some(seen) => {
                    seen.can_hand_over |= view.can_hand_over;
                    seen.offered_to = seen.offered_to.take().or(view.offered_to);
                }
                None => out.push(view),
            }
        }
        Ok(out)
    }

    /// Whose record a page shows and what the caller may do there. Decided by the policy like
    /// every request; a refusal is logged, an allowed look is not (it shows the caller only the
    /// patient's name and their own access, which the pages then log as they read).
    pub async fn record_context(&self, who: &SignedIn, record: RecordRef) -> ServiceResult<RecordContext> {
        let access = self.peek(who, record, Touch::of(Category::Record)).await?;
        let can_change = access.role() == Role::Patient;
        let can_add = access.can_add;
        Ok(RecordContext {
            acting_for: match record {
                RecordRef::Own => None,
                RecordRef::Patient(id) => Some(id),
            },
            labels: access.labels().to_vec(),
            name: access.patient_name,
            can_add,
            can_change,
        })
    }

    /// Makes a record for a child the caller has parental responsibility for, with the
    /// caller's grant on it. Errors name `name` or `born_on`.
    pub async fn add_child_record(&self, who: &SignedIn, name: &str, born_on: &str) -> ServiceResult<PatientId> {
        let now = self.now();
        self.require_recent_sign_in(who)?;
        let rules = self.config().age_rules;
        let name = PersonName::parse(name);
        let born = BirthDate::parse("born_on", born_on, now);
        let (name, born) = match (name, born) {
            (Ok(n), Ok(b)) => (n, b),
            (n, b) => return Err(ValidationError([n.err(), b.err()].into_iter().flatten().flat_map(|e| e.0).collect()).into()),
        };
        if born.age_at(now) >= rules.suspend_at {
            return Err(ValidationError::field(
                "born_on",
                format!("A young person of {} or over holds their own record: ask them to invite you.", rules.suspend_at),
            )
            .into());
        }
        let id = PatientId::from_uuid(uuid::Uuid::new_v4());
        let mut tx = self.db().begin().await?;
        let record = PatientRow { id, user_id: None, name: name.as_str().to_owned(), born_on: Some(born.to_text()) };
        patients::insert_patient(&mut tx, &record, now).await?;
        let grant = accepted_grant(
            id,
            who.user_id,
            &who.display_name,
            who.user_id,
            (CarerRelationship::Parent, GrantBasis::ParentalResponsibility),
            PrivacyLabel::ALL.to_vec(),
            (now, born.birthday(18)),
        );
        grants::insert_grant(&mut tx, &grant, now).await?;
        grants::insert_change(
            &mut tx,
            grant.id,
            1,
            who.user_id,
            "made the record, as parent",
            &labels_to_text(&grant.labels),
            grant.basis,
            now,
        )
        .await?;
        audit::append(&mut tx, &self.grant_event(who, record.id, grant.id)).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The caller's newest notices. Reading them changes nothing (a page load must not); the
    /// person marks them read with [`Services::mark_notices_read`].
    pub async fn notices(&self, who: &SignedIn) -> ServiceResult<Vec<NoticeView>> {
        let mut conn = self.db().conn().await?;
        let rows = notices::list_notices(&mut conn, who.user_id, 20).await?;
        Ok(rows.into_iter().map(|n| NoticeView { text: n.text, link: n.link, at: n.created_at, unread: n.read_at.is_none() }).collect())
    }

    /// Marks every notice of the caller's read.
    pub async fn mark_notices_read(&self, who: &SignedIn) -> ServiceResult<()> {
        let mut tx = self.db().begin().await?;
        notices::mark_all_read(&mut tx, who.user_id, self.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sends what is due about grants: review reminders 30 days before the end and the notice
    /// at the end, and for children's records the warnings 3 months before the age thresholds
    /// and the notices at them. Each goes once. Returns how many went.
    pub async fn send_grant_reminders(&self) -> ServiceResult<usize> {
        let now = self.now();
        let rules = self.config().age_rules;
        let mut sent = 0;
        let mut tx = self.db().begin().await?;
        for g in grants::active_ending_before(&mut tx, now.plus(REVIEW_REMINDER)).await? {
            let (kind, text_carer, text_patient) = if g.ends_at <= now {
                (
                    "ended",
                    format!("Your access to {}'s record has ended.", g.patient_name),
                    format!("{}'s access to your record has ended.", g.carer_name()),
                )
            } else {
                (
                    "end-review",
                    format!("Your access to {}'s record ends on {}: they may renew it.", g.patient_name, last_day(g.ends_at)),
                    format!("{}'s access to your record ends on {}: review it.", g.carer_name(), last_day(g.ends_at)),
                )
            };
            // Keyed by the end date, so a renewed grant is reminded again for its new end.
            if grants::mark_reminded(&mut tx, g.id, &format!("{kind}:{}", g.ends_at.as_millis()), now).await? {
                sent += self.tell_both(&mut tx, &g, &text_carer, &text_patient).await?;
            }
        }
        for g in grants::active_parental(&mut tx).await? {
            let Some(born) =
                patients::find_patient(&mut tx, g.patient_id).await?.and_then(|p| p.born_on.as_deref().and_then(BirthDate::from_text))
            else {
                continue;
            };
            let name = &g.patient_name;
            let carer = g.carer_name();
            let confirmed = g.young_person_confirmed_at.is_some();
            let steps = [
                (
                    "warn-general",
                    rules.warning_at(born, rules.general_only_at),
                    format!(
                        "{name} turns {} on {}: your access will then cover general entries only.",
                        rules.general_only_at,
                        born.birthday(rules.general_only_at).to_uk_date()
                    ),
                ),
                (
                    "general",
                    born.birthday(rules.general_only_at),
                    format!("{name} is now {}: your access covers general entries only. Please review it.", rules.general_only_at),
                ),
                (
                    "age-review",
                    born.birthday(rules.review_at),
                    format!("{name} is now {}: please review your access with them.", rules.review_at),
                ),
                (
                    "warn-suspend",
                    rules.warning_at(born, rules.suspend_at),
                    format!(
                        "{name} turns {} on {}: your access will pause unless they confirm it.",
                        rules.suspend_at,
                        born.birthday(rules.suspend_at).to_uk_date()
                    ),
                ),
                (
                    "suspend",
                    born.birthday(rules.suspend_at),
                    format!("{name} is now {}: your access is paused until they confirm it.", rules.suspend_at),
                ),
            ];
            for (kind, due, text) in steps {
                // A grant the young person confirmed does not pause: nothing to warn of.
                if confirmed && matches!(kind, "warn-suspend" | "suspend") {
                    continue;
                }
                // A young person who holds their record reads about their parent's access.
                let to_owner = match kind {
                    "warn-suspend" => format!(
                        "You turn {} on {}: {carer}'s access to your record will pause unless you confirm it.",
                        rules.suspend_at,
                        born.birthday(rules.suspend_at).to_uk_date()
                    ),
                    "suspend" => format!("{carer}'s access to your record is paused. You can confirm it or stop it."),
                    _ => format!("{carer}'s access to your record has changed with your age. You can review it."),
                };
                if due <= now && g.ends_at > now && grants::mark_reminded(&mut tx, g.id, kind, now).await? {
                    sent += self.tell_both(&mut tx, &g, &text, &to_owner).await?;
                }
            }
        }
        tx.commit().await?;
        if sent > 0 {
            self.wake_mailer();
        }
        Ok(sent)
    }

    async fn tell_both(&self, conn: &mut Conn, g: &GrantRow, to_carer: &str, to_patient: &str) -> ServiceResult<usize> {
        let mut n = 0;
        if let Some(carer) = g.carer {
            self.notify(conn, carer, to_carer, "/caring").await?;
            n += 1;
        }
        if let Some(owner) = patients::find_patient(conn, g.patient_id).await?.and_then(|p| p.user_id) {
            self.notify(conn, owner, to_patient, "/record/people").await?;
            n += 1;
        }
        Ok(n)
    }

    /// Runs [`Services::send_grant_reminders`] every hour until the process ends.
    pub async fn run_grant_reminder_worker(self) {
        loop {
            if let Err(e) = self.send_grant_reminders().await {
                tracing::warn!(error = %e, "grant reminders failed; will retry");
            }
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    }
}
