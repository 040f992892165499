//! A parent makes a record for their child, holding it with a grant of parental
//! responsibility.

use crate::error::ServiceResult;
use crate::{Services, SignedIn};
use domain::grants::{scope_words, BirthDate, CarerRelationship, GrantBasis, GrantStatus};
use domain::{GrantId, PatientId, PersonName, PrivacyLabel, Timestamp, UserId, ValidationError};
use store::audit;
use store::grants::{self, GrantRow};
use store::patients::{self, PatientRow};

/// A grant already in force (a parent's for their child, or the demo's), as no invitation
/// precedes it. It may add entries.
pub(crate) fn accepted_grant(
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
        // A parent who holds a young child's record takes it out for the child, as the child
        // would; any other carer only when the patient says so.
        can_export: basis == GrantBasis::ParentalResponsibility,
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
            &scope_words(&grant.labels, grant.can_add, grant.can_export),
            grant.basis,
            now,
        )
        .await?;
        audit::append(&mut tx, &self.grant_event(who, record.id, grant.id)).await?;
        tx.commit().await?;
        Ok(id)
    }
}
