//! A child's record passing to the young person.
//!
//! A parent makes a child's record and holds it on the basis of parental responsibility. From
//! the review age (13 by default) the parent may offer it to the young person: a single-use
//! link, valid 7 days, emailed to the young person's address with nothing else in it. The young
//! person signs in or registers with that address and takes the record; from then on it is
//! theirs. They see the parent's access on "Who can see my record", may stop it, and may
//! confirm it so that it continues past the suspension age (16 by default), when every
//! parental grant is otherwise paused (access-rules.md).

use crate::access::{RecordRef, Touch};
use crate::error::{ServiceError, ServiceResult};
use crate::mail::{mail_name, queue};
use crate::throttle;
use crate::tokens::{hash_text, Token};
use crate::{Services, SignedIn};
use domain::access::Action;
use domain::audit::Category;
use domain::grants::{BirthDate, GrantBasis, GrantStatus, INVITATION_VALID};
use domain::views::RecordOfferView;
use domain::{Email, PatientId, ValidationError};
use store::patients::{self, HandoverRow};
use store::{grants, users};

/// The item id the log gives the record's passing to the young person.
const HANDOVER_ITEM: &str = "handover";

impl Services {
    /// Offers a child's record, which the caller holds as parent, to the young person at
    /// `email`. Replaces any earlier offer. Errors name `email`.
    pub async fn offer_record(&self, who: &SignedIn, patient: PatientId, email: &str) -> ServiceResult<()> {
        let now = self.now();
        let email = Email::parse(email)
            .map_err(|_| ValidationError::field("email", "Enter the young person's email address, like name@example.com."))?;
        self.require_recent_sign_in(who)?;
        // The policy decides who may offer: a parent whose grant on the record stands.
        let touch = Touch::item(Category::Access, HANDOVER_ITEM);
        let (mut tx, _) = self.open(who, RecordRef::Patient(patient), Action::OfferRecord, touch).await?;
        let row = patients::find_patient(&mut tx, patient).await?.ok_or(ServiceError::NotFound)?;
        if row.user_id.is_some() {
            return Err(ValidationError::field("email", format!("{} already holds their own record.", row.name)).into());
        }
        let rules = self.config().age_rules;
        if row.born_on.as_deref().and_then(BirthDate::from_text).is_none_or(|b| b.age_at(now) < rules.review_at) {
            return Err(ValidationError::field(
                "email",
                format!("A young person can hold their own record from {}. Until then you keep it for them.", rules.review_at),
            )
            .into());
        }
        let me = users::find_user(&mut tx, who.user_id).await?.ok_or(ServiceError::NotSignedIn)?;
        if me.email.to_lowercase() == email.lookup_key() {
            return Err(ValidationError::field("email", "That is your own address: give the young person's own.").into());
        }
        let token = Token::generate();
        let offer = HandoverRow {
            patient_id: row.id,
            email: email.as_str().to_owned(),
            expires_at: now.plus(INVITATION_VALID),
            offered_by: who.user_id,
        };
        throttle::invitation_allowed(self, &mut tx, who.user_id, &email.lookup_key()).await?;
        patients::upsert_handover(&mut tx, &offer, &token.hash(), now).await?;
        let body = format!(
            "Hello,\n\n{} has offered you your own health record in Carry, to hold with an account of your own.\n\
             To take it, open this link within 7 days and sign in or make an account with this email address:\n{}\n\n\
             If you were not expecting this, you can ignore this email.\n",
            mail_name(&who.display_name),
            self.config().link(&format!("/records/take/{}", token.expose()))
        );
        queue(self, &mut tx, email.as_str(), "Your own record in Carry", &body).await?;
        let text = format!("You offered {} their own record. The link works for 7 days.", row.name);
        self.notify(&mut tx, who.user_id, &text, "/caring").await?;
        tx.commit().await?;
        self.wake_mailer();
        Ok(())
    }

    /// The offer behind a link that still works, or `LinkInvalid`.
    async fn live_offer(&self, conn: &mut store::Conn, token: &str) -> ServiceResult<HandoverRow> {
        patients::find_handover_by_token(conn, &hash_text(token.trim()))
            .await?
            .filter(|h| h.expires_at > self.now())
            .ok_or(ServiceError::LinkInvalid)
    }

    /// What a link offering a record says, or `LinkInvalid`.
    pub async fn record_offer(&self, token: &str) -> ServiceResult<RecordOfferView> {
        let mut conn = self.db().conn().await?;
        let offer = self.live_offer(&mut conn, token).await?;
        let row = patients::find_patient(&mut conn, offer.patient_id).await?.ok_or(ServiceError::LinkInvalid)?;
        let by = users::find_user(&mut conn, offer.offered_by).await?.map(|u| u.display_name).unwrap_or_default();
        Ok(RecordOfferView { patient_name: row.name, offered_by: by, email: offer.email, expires_at: offer.expires_at })
    }

    /// Takes the offered record with the caller's account, which must be the one for the
    /// address the offer went to and must not hold a record already. Errors name `token`.
    pub async fn take_record(&self, who: &SignedIn, token: &str) -> ServiceResult<PatientId> {
        let now = self.now();
        let mut tx = self.db().begin().await?;
        let offer = self.live_offer(&mut tx, token).await?;
        let me = users::find_user(&mut tx, who.user_id).await?.ok_or(ServiceError::NotSignedIn)?;
        let refusal = if me.email.to_lowercase() != offer.email.to_lowercase() {
            Some("This record was offered to another email address. Sign in with the account for that address to take it.")
        } else if who.user_id == offer.offered_by || !grants::held_on_record(&mut tx, offer.patient_id, who.user_id).await?.is_empty() {
            // A parent or carer of the record cannot become its patient: the record would
            // then never be the young person's, and its narrowing by age would end.
            Some("You already have access to this record as a parent or carer, so you cannot take it as your own.")
        } else if patients::find_patient_by_user(&mut tx, who.user_id).await?.is_some() {
            Some(
                "Your account already holds a record of its own, and an account holds one record. \
                 Ask for the offer to be sent to an address with no Carry record yet.",
            )
        } else {
            None
        };
        // The offer must still stand on a parent's active access.
        let offered_by_parent = grants::held_on_record(&mut tx, offer.patient_id, offer.offered_by)
            .await?
            .iter()
            .any(|g| g.basis == GrantBasis::ParentalResponsibility && g.status == GrantStatus::Active && g.ends_at > now);
        if refusal.is_some() || !offered_by_parent {
            drop(tx);
            // The attempt is in the record's log, like every refusal.
            let touch = Touch::item(Category::Access, HANDOVER_ITEM);
            self.log_attempt(who, RecordRef::Patient(offer.patient_id), Action::ManageAccess, touch).await?;
            return Err(match refusal {
                Some(message) => ValidationError::field("token", message).into(),
                None => ServiceError::LinkInvalid,
            });
        }
        if !patients::update_owner_from_handover(&mut tx, offer.patient_id, who.user_id, now).await? {
            return Err(ServiceError::LinkInvalid);
        }
        let row = patients::find_patient(&mut tx, offer.patient_id).await?.ok_or(ServiceError::LinkInvalid)?;
        // Each parent's grant records the change, and the parent hears of it.
        for mut g in grants::list_for_patient(&mut tx, row.id).await? {
            if g.basis != GrantBasis::ParentalResponsibility || g.status != GrantStatus::Active {
                continue;
            }
            if !grants::update_grant(&mut tx, &g, now).await? {
                return Err(ServiceError::Stale);
            }
            g.version += 1;
            grants::insert_change(&mut tx, g.id, g.version, who.user_id, "the young person took over their record", "", g.basis, now)
                .await?;
            if let Some(parent) = g.carer {
                let text = format!("{} now holds their own record, and can see and stop your access.", row.name);
                self.notify(&mut tx, parent, &text, "/caring").await?;
            }
        }
        self.notify(&mut tx, who.user_id, "Your record is now yours. Check who can see it.", "/record/people").await?;
        // The record is theirs now: the gate admits them as its patient, in this transaction.
        let touch = Touch::item(Category::Access, HANDOVER_ITEM);
        self.admit(&mut tx, who, RecordRef::Patient(row.id), Action::ManageAccess, touch).await?;
        tx.commit().await?;
        self.wake_mailer();
        Ok(row.id)
    }
}
