//! GP practices and their staff: a practice made from the command line with its first
//! administrator, administrators inviting staff by email, and a staff member's home page.

use crate::access::Touch;
use crate::error::{ServiceError, ServiceResult};
use crate::mail::{mail_name, queue};
use crate::throttle;
use crate::tokens::{hash_text, random_id, Token};
use crate::{Services, SignedIn, StaffJob};
use domain::access::{Action, PracticeLink};
use domain::audit::Category;
use domain::practice_views::{
    CarePatientView, JoinPracticeView, LinkRequestView, PracticeChoice, StaffHomeView, StaffInvitationView, StaffMemberView,
};
use domain::practices::{LinkStatus, NhsNumber, OdsCode, StaffRole};
use domain::{Email, PersonName, PracticeId, Span, UserId, ValidationError};
use store::practices::{self, PracticeRow, StaffInvitationRow};
use store::{links, users};

/// How long a staff invitation works.
pub const STAFF_INVITATION_VALID: Span = Span::days(7);

/// The longest list of link requests a page shows.
const LINK_REQUESTS_SHOWN: i64 = 100;
/// The longest list of a social care worker's patients a page shows.
const CARE_PATIENTS_SHOWN: i64 = 200;

/// An administrator's invitation form.
#[derive(Debug, Clone, Default)]
pub struct StaffInviteForm {
    /// The person's name.
    pub name: String,
    /// Their work email.
    pub email: String,
    /// The job's slug (`gp`, `nurse`, `admin`, `social-care`).
    pub job: String,
}

fn choice(p: &PracticeRow) -> PracticeChoice {
    PracticeChoice { id: p.id, name: p.name.clone(), ods_code: p.ods_code.clone() }
}

impl Services {
    /// Makes a practice and invites its first administrator by email (the `carry practice
    /// create` command). Errors name `name`, `ods_code`, `admin_name` or `admin_email`.
    pub async fn create_practice(&self, name: &str, ods_code: &str, admin_name: &str, admin_email: &str) -> ServiceResult<PracticeId> {
        let practice_name = PersonName::parse(name).map_err(|_| ValidationError::field("name", "Give the practice's name."))?;
        let ods = OdsCode::parse("ods_code", ods_code)?;
        let invite =
            self.check_invite(&StaffInviteForm { name: admin_name.into(), email: admin_email.into(), job: "admin".into() }, "admin_")?;
        let now = self.now();
        let mut tx = self.db().begin().await?;
        let practice = PracticeRow {
            id: PracticeId::from_uuid(uuid::Uuid::new_v4()),
            name: practice_name.as_str().to_owned(),
            ods_code: ods.to_string(),
        };
        practices::insert_practice(&mut tx, &practice, now).await.map_err(|e| match e {
            store::StoreError::Conflict(_) => {
                ServiceError::from(ValidationError::field("ods_code", format!("A practice with ODS code {ods} already exists.")))
            }
            e => e.into(),
        })?;
        self.send_staff_invitation(&mut tx, &practice, invite, None, None).await?;
        tx.commit().await?;
        self.wake_mailer();
        Ok(practice.id)
    }

    /// Turns a refusal (already decided by the policy and logged) into "sign in with a
    /// passkey" for a member of staff in a clinical job whose session was not started with one.
    /// It says the same whatever the record, so it tells them nothing about it.
    pub(crate) fn passkey_hint(&self, who: &SignedIn, e: ServiceError) -> ServiceError {
        match (&who.staff, e) {
            (Some(job), ServiceError::Forbidden) if job.job.needs_passkey() && !who.passkey => ServiceError::PasskeyRequired,
            (_, e) => e,
        }
    }

    /// The caller's job at a practice, or `Forbidden` when they have none. With `clinical`, a
    /// job that needs a passkey must be in a session started with one.
    pub(crate) fn staff_job<'a>(&self, who: &'a SignedIn, jobs: &[StaffRole]) -> ServiceResult<&'a StaffJob> {
        let job = who.staff.as_ref().filter(|j| jobs.contains(&j.job)).ok_or(ServiceError::Forbidden)?;
        if job.job.needs_passkey() && !who.passkey {
            return Err(ServiceError::PasskeyRequired);
        }
        Ok(job)
    }

    /// The staff member's home: their practice and job, and for administrators the requests to
    /// link, the staff and the open invitations. Link requests show each patient's name, date
    /// of birth and NHS number (no clinical content); every request shown is in that patient's
    /// access log.
    pub async fn staff_home(&self, who: &SignedIn) -> ServiceResult<StaffHomeView> {
        let job = who.staff.as_ref().ok_or(ServiceError::Forbidden)?;
        let now = self.now();
        let mut tx = self.db().begin_read().await?;
        let practice = practices::find_practice(&mut tx, job.practice).await?.ok_or(ServiceError::Forbidden)?;
        let mut view = StaffHomeView {
            practice: choice(&practice),
            job: job.job,
            passkey: who.passkey,
            link_requests: Vec::new(),
            staff: Vec::new(),
            invitations: Vec::new(),
            care_patients: Vec::new(),
            care_record: None,
        };
        let mut events = Vec::new();
        if job.job == StaffRole::Admin {
            for l in links::list_links(&mut tx, practice.id, LinkStatus::Requested, LINK_REQUESTS_SHOWN).await? {
                let link = PracticeLink { practice: l.practice.id, status: l.status };
                if !self.look_listed(who, Action::VerifyLink, l.patient_id, Some(link), &Touch::of(Category::PracticeLink), &mut events) {
                    continue;
                }
                view.link_requests.push(LinkRequestView {
                    seen: crate::links::link_fingerprint(&l),
                    patient_id: l.patient_id,
                    name: l.patient_name,
                    born_on: l.born_on.as_deref().and_then(domain::Timestamp::parse_uk_date).map(domain::Timestamp::to_uk_date),
                    nhs_number: NhsNumber::parse("nhs_number", &l.nhs_number).map(|n| n.to_string()).unwrap_or(l.nhs_number),
                    requested_at: l.requested_at,
                });
            }
            view.staff = practices::list_staff(&mut tx, practice.id)
                .await?
                .into_iter()
                .map(|s| StaffMemberView { user_id: s.user_id, name: s.name, email: s.email, job: s.job })
                .collect();
            view.invitations = practices::list_open_invitations(&mut tx, practice.id, now)
                .await?
                .into_iter()
                .map(|i| StaffInvitationView { name: i.name, email: i.email, job: i.job, expires_at: i.expires_at })
                .collect();
        }
        if job.job == StaffRole::SocialCare && who.passkey {
            for (patient_id, name, status) in store::shared::list_care_patients(&mut tx, practice.id, CARE_PATIENTS_SHOWN).await? {
                let link = PracticeLink { practice: practice.id, status };
                if !self.look_listed(who, Action::ReadShared, patient_id, Some(link), &Touch::of(Category::Shared), &mut events) {
                    continue;
                }
                view.care_patients.push(CarePatientView { patient_id, name });
            }
        }
        tx.commit().await?;
        self.log_all(events).await?;
        if job.job == StaffRole::Admin {
            view.care_record = Some(self.care_record_sends(who).await?);
        }
        Ok(view)
    }

    /// Invites someone to the caller's practice (administrators, after a recent sign-in).
    /// Errors name `name`, `email` or `job`.
    pub async fn invite_staff(&self, who: &SignedIn, form: &StaffInviteForm) -> ServiceResult<()> {
        let job = self.staff_job(who, &[StaffRole::Admin])?.clone();
        let invite = self.check_invite(form, "")?;
        self.require_recent_sign_in(who)?;
        let mut tx = self.db().begin().await?;
        let practice = practices::find_practice(&mut tx, job.practice).await?.ok_or(ServiceError::Forbidden)?;
        self.send_staff_invitation(&mut tx, &practice, invite, Some(who.user_id), Some(&who.display_name)).await?;
        tx.commit().await?;
        self.wake_mailer();
        Ok(())
    }

    /// Ends someone's job at the caller's practice (administrators; not their own).
    pub async fn remove_staff(&self, who: &SignedIn, user: UserId) -> ServiceResult<()> {
        let job = self.staff_job(who, &[StaffRole::Admin])?.clone();
        if user == who.user_id {
            return Err(ValidationError::field("user", "You cannot remove yourself. Ask another administrator.").into());
        }
        self.require_recent_sign_in(who)?;
        let mut tx = self.db().begin().await?;
        if !practices::delete_staff(&mut tx, job.practice, user).await? {
            return Err(ServiceError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// What an emailed staff invitation offers, or `LinkInvalid`.
    pub async fn staff_invitation(&self, token: &str) -> ServiceResult<JoinPracticeView> {
        let mut conn = self.db().conn().await?;
        let inv = self.live_staff_invitation(&mut conn, token).await?;
        Ok(JoinPracticeView { practice_name: inv.practice.name, job: inv.job, name: inv.name })
    }

    /// Takes up a staff invitation with the caller's own account, which must be the one for the
    /// address it was sent to. The link then stops working.
    pub async fn join_practice(&self, who: &SignedIn, token: &str) -> ServiceResult<()> {
        let now = self.now();
        let mut tx = self.db().begin().await?;
        let inv = self.live_staff_invitation(&mut tx, token).await?;
        let me = users::find_user(&mut tx, who.user_id).await?.ok_or(ServiceError::NotSignedIn)?;
        if me.email.to_lowercase() != inv.email.to_lowercase() {
            return Err(ValidationError::field(
                "token",
                "This invitation was sent to another email address. Sign in with the account for that address to take it up.",
            )
            .into());
        }
        if !practices::update_invitation_accepted(&mut tx, &inv.id, who.user_id, now).await? {
            return Err(ServiceError::LinkInvalid);
        }
        if !practices::upsert_staff(&mut tx, who.user_id, inv.practice.id, inv.job, None, now).await? {
            return Err(ValidationError::field(
                "token",
                "Your account already works at another practice in Carry. Ask that practice to remove you first.",
            )
            .into());
        }
        tx.commit().await?;
        Ok(())
    }

    async fn live_staff_invitation(&self, conn: &mut store::Conn, token: &str) -> ServiceResult<StaffInvitationRow> {
        practices::find_invitation_by_token(conn, &hash_text(token.trim()))
            .await?
            .filter(|i| i.accepted_at.is_none() && i.expires_at > self.now())
            .ok_or(ServiceError::LinkInvalid)
    }

    fn check_invite(&self, form: &StaffInviteForm, prefix: &str) -> ServiceResult<(PersonName, Email, StaffRole)> {
        let name = PersonName::parse(&form.name).map_err(|e| rename(e, &format!("{prefix}name")));
        let email = Email::parse(&form.email)
            .map_err(|_| ValidationError::field(&format!("{prefix}email"), "Enter their work email address, like name@example.nhs.uk."));
        let job = StaffRole::from_slug(form.job.trim())
            .ok_or_else(|| ValidationError::field("job", "Choose their job: GP, nurse, practice administrator or social care worker."));
        match (name, email, job) {
            (Ok(n), Ok(e), Ok(j)) => Ok((n, e, j)),
            (n, e, j) => Err(ValidationError(n.err().into_iter().chain(e.err()).chain(j.err()).flat_map(|e| e.0).collect()).into()),
        }
    }

    async fn send_staff_invitation(
        &self,
        conn: &mut store::Conn,
        practice: &PracticeRow,
        (name, email, job): (PersonName, Email, StaffRole),
        by: Option<UserId>,
        by_name: Option<&str>,
    ) -> ServiceResult<()> {
        let now = self.now();
        let token = Token::generate();
        let inv = StaffInvitationRow {
            id: random_id(),
            practice: practice.clone(),
            email: email.as_str().to_owned(),
            name: name.as_str().to_owned(),
            job,
            expires_at: now.plus(STAFF_INVITATION_VALID),
            accepted_at: None,
        };
        practices::insert_invitation(conn, &inv, &token.hash(), by, now).await?;
        // An administrator's invitation counts against their daily caps and the address's (the
        // operator's command line is not capped); the names they typed are quoted short, never
        // as links.
        if let Some(sender) = by {
            throttle::invitation_allowed(self, conn, sender, &email.lookup_key()).await?;
        }
        let from = by_name.map(|n| format!("{} has invited you", mail_name(n))).unwrap_or_else(|| "You are invited".to_owned());
        let body = format!(
            "Hello {},\n\n{from} to join {} in Carry as {}.\n\
             Open this link within 7 days and sign in, or make an account, with this email address:\n{}\n\n\
             Clinical staff sign in to Carry with a passkey. If you were not expecting this, ignore this email.\n",
            mail_name(name.as_str()),
            practice.name,
            job.words().to_lowercase(),
            self.config().link(&format!("/practice/join/{}", token.expose()))
        );
        queue(self, conn, email.as_str(), "Join your practice in Carry", &body).await
    }
}

fn rename(e: ValidationError, field: &str) -> ValidationError {
    ValidationError(e.0.into_iter().map(|f| domain::FieldError { field: field.to_owned(), message: f.message }).collect())
}
