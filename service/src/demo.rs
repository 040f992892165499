//! Demo mode only: the made-up people of `domain::demo` with their known passwords, the demo
//! carer's access to the demo patient's record, and the demo practice with its staff. Each is
//! made at start-up when missing; the server never calls this outside demo mode.

use crate::carers::accepted_grant;
use crate::error::{ServiceError, ServiceResult};
use crate::Services;
use domain::audit::{AuditEvent, CarryJob, Category, Touch};
use domain::demo::{demo_person, DemoPart, DemoPerson, DEMO_PEOPLE, DEMO_PRACTICE_NAME, DEMO_PRACTICE_ODS};
use domain::grants::{scope_words, CarerRelationship, GrantBasis, DEFAULT_GRANT_DAYS};
use domain::{Email, PasswordText, PatientId, PersonName, PracticeId, PrivacyLabel, Span, UserId};
use store::practices::{self, PracticeRow};
use store::{audit, grants, passwords, patients, users};

impl Services {
    /// Makes whatever of the demo is missing: the people, the carer's access, the practice.
    pub async fn seed_demo(&self) -> ServiceResult<()> {
        for person in &DEMO_PEOPLE {
            self.ensure_demo_person(person).await?;
        }
        self.ensure_demo_grant().await?;
        self.ensure_demo_practice().await?;
        Ok(())
    }

    /// Creates the person with their password unless the address already has an account.
    async fn ensure_demo_person(&self, person: &DemoPerson) -> ServiceResult<()> {
        let name = PersonName::parse(person.name)?;
        let email = Email::parse(person.email)?;
        let password = PasswordText::parse(person.password, self.config().password_rules)?;
        {
            let mut conn = self.db().conn().await?;
            if users::find_user_by_email_key(&mut conn, &email.lookup_key()).await?.is_some() {
                return Ok(());
            }
        }
        let phc = self.hasher().hash(&password).await?;
        let id = UserId::from_uuid(uuid::Uuid::new_v4());
        let now = self.now();
        let mut tx = self.db().begin().await?;
        users::insert_user(&mut tx, id, email.as_str(), &email.lookup_key(), name.as_str(), now).await?;
        passwords::upsert_password(&mut tx, id, &phc, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Gives the demo carer access to the demo patient's record (general and social care, may
    /// add, 12 months) unless they already have a grant there.
    async fn ensure_demo_grant(&self) -> ServiceResult<()> {
        let (Some(patient), Some(carer)) = (demo_person(DemoPart::Patient), demo_person(DemoPart::Carer)) else { return Ok(()) };
        let now = self.now();
        let mut tx = self.db().begin().await?;
        let (Some(patient), Some(carer)) = (
            users::find_user_by_email_key(&mut tx, &Email::parse(patient.email)?.lookup_key()).await?,
            users::find_user_by_email_key(&mut tx, &Email::parse(carer.email)?.lookup_key()).await?,
        ) else {
            return Ok(());
        };
        let record = patients::ensure_patient_for_user(&mut tx, PatientId::from_uuid(uuid::Uuid::new_v4()), patient.id, now).await?;
        if !grants::held_on_record(&mut tx, record.id, carer.id).await?.is_empty() {
            return Ok(());
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
        let scope = scope_words(&grant.labels, grant.can_add, grant.can_export);
        grants::insert_change(&mut tx, grant.id, 1, patient.id, "given for the demo", &scope, grant.basis, now).await?;
        // Every change to who can see a record is in that record's log.
        let touch = Touch::item(Category::Access, grant.id);
        audit::append(&mut tx, &AuditEvent::carry_job(record.id, CarryJob::DemoSetUp, &touch, now, "demo-setup".to_owned())).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes the demo practice with the demo staff in their jobs, unless it exists.
    async fn ensure_demo_practice(&self) -> ServiceResult<()> {
        {
            let mut conn = self.db().conn().await?;
            if practices::find_practice_by_ods(&mut conn, DEMO_PRACTICE_ODS).await?.is_some() {
                return Ok(());
            }
        }
        let now = self.now();
        let mut tx = self.db().begin().await?;
        let practice = PracticeRow {
            id: PracticeId::from_uuid(uuid::Uuid::new_v4()),
            name: DEMO_PRACTICE_NAME.to_owned(),
            ods_code: DEMO_PRACTICE_ODS.to_owned(),
        };
        practices::insert_practice(&mut tx, &practice, now).await?;
        for person in &DEMO_PEOPLE {
            let DemoPart::Staff(job) = person.part else { continue };
            let key = Email::parse(person.email)?.lookup_key();
            let user = users::find_user_by_email_key(&mut tx, &key).await?.ok_or(ServiceError::NotFound)?;
            practices::upsert_staff(&mut tx, user.id, practice.id, job, None, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
