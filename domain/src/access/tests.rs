use super::*;
use crate::Span;
use uuid::Uuid;

use super::matrix::{grant as grant_of, now, practice, user, CARER, ME, STRANGER};

/// The record every case asks about.
fn record() -> crate::PatientId {
    crate::PatientId::from_uuid(Uuid::from_u128(500))
}

/// The grant states these cases run through, each as the grant that makes it.
#[derive(Debug, Clone, Copy)]
enum State {
    Active,
    ActiveViewOnly,
    Ended,
    Revoked,
}

fn grant(state: State) -> GrantFacts {
    let t = now();
    let year = Span::days(365);
    match state {
        State::Active => grant_of(GrantStatus::Active, t.minus(Span::days(1)), t.plus(year), true),
        State::ActiveViewOnly => grant_of(GrantStatus::Active, t.minus(Span::days(1)), t.plus(year), false),
        // Its end is exactly now: ends are exclusive.
        State::Ended => grant_of(GrantStatus::Active, t.minus(year), t, true),
        State::Revoked => grant_of(GrantStatus::Revoked, t.minus(Span::days(1)), t.plus(year), true),
    }
}

fn ask(actor: Actor, grants: &[GrantFacts], action: Action) -> Decision {
    decide(&AccessRequest {
        patient: record(),
        actor,
        record_owner: Some(user(ME)),
        born_on: None,
        link: None,
        grants,
        action,
        now: now(),
        age_rules: AgeRules::default(),
    })
}

const SHARED: [PrivacyLabel; 2] = [PrivacyLabel::General, PrivacyLabel::SocialCare];

/// Staff by job, link state and sign-in: every action.
#[test]
fn the_staff_matrix() {
    use Action::*;
    let all = PrivacyLabel::ALL.to_vec();
    let social = vec![PrivacyLabel::SocialCare];
    let ask_staff = |job, passkey, link: Option<(u128, LinkStatus)>, action| {
        let decision = decide(&AccessRequest {
            patient: record(),
            actor: Actor::Staff { user: user(STRANGER), practice: practice(1), job, passkey },
            record_owner: Some(user(ME)),
            born_on: None,
            link: link.map(|(n, status)| PracticeLink { practice: practice(n), status }),
            grants: &[],
            action,
            now: now(),
            age_rules: AgeRules::default(),
        });
        match decision {
            Decision::Allow { labels, basis } => {
                assert_eq!(basis, Basis::Practice(practice(1)));
                Ok(labels)
            }
            Decision::Deny { reason } => Err(reason),
        }
    };
    for job in StaffRole::ALL {
        for action in Action::ALL {
            for passkey in [true, false] {
                // Another practice's patient, linked or not, is nobody to them.
                for status in [LinkStatus::Requested, LinkStatus::Linked, LinkStatus::Declined] {
                    assert_eq!(ask_staff(job, passkey, Some((2, status)), action), Err(DenyReason::NoRelationship));
                }
                assert_eq!(ask_staff(job, passkey, None, action), Err(DenyReason::NoRelationship));
                let expected = |status: LinkStatus| -> Result<Vec<PrivacyLabel>, DenyReason> {
                    if job == StaffRole::Admin {
                        return if action == VerifyLink { Ok(Vec::new()) } else { Err(DenyReason::ActionNotGranted) };
                    }
                    if status != LinkStatus::Linked {
                        return Err(DenyReason::NotLinked);
                    }
                    if !passkey {
                        return Err(DenyReason::PasskeyRequired);
                    }
                    match (job, action) {
                        (StaffRole::Gp | StaffRole::Nurse, ReadShared | Review) => Ok(all.clone()),
                        (StaffRole::SocialCare, ReadShared | AddCareNote) => Ok(social.clone()),
                        _ => Err(DenyReason::ActionNotGranted),
                    }
                };
                for status in [LinkStatus::Requested, LinkStatus::Linked, LinkStatus::Declined] {
                    assert_eq!(
                        ask_staff(job, passkey, Some((1, status)), action),
                        expected(status),
                        "{job:?} {action:?} {status:?} {passkey}"
                    );
                }
            }
        }
    }
    // Spot checks in plain words: a GP reads and reviews, never the patient's own pages.
    assert!(ask_staff(StaffRole::Gp, true, Some((1, LinkStatus::Linked)), Review).is_ok());
    assert!(ask_staff(StaffRole::Gp, true, Some((1, LinkStatus::Linked)), ReadEntries).is_err());
    assert_eq!(ask_staff(StaffRole::SocialCare, true, Some((1, LinkStatus::Linked)), ReadShared), Ok(social));
    assert_eq!(ask_staff(StaffRole::Admin, false, Some((1, LinkStatus::Requested)), VerifyLink), Ok(Vec::new()));
}

/// A system client (the shared care record): what the patient shared, once the link is verified.
#[test]
fn the_system_client_matrix() {
    let ask_system = |link: Option<LinkStatus>, action| {
        decide(&AccessRequest {
            patient: record(),
            actor: Actor::System,
            record_owner: Some(user(ME)),
            born_on: None,
            link: link.map(|status| PracticeLink { practice: practice(1), status }),
            grants: &[grant(State::Active)],
            action,
            now: now(),
            age_rules: AgeRules::default(),
        })
    };
    for action in Action::ALL {
        assert_eq!(ask_system(None, action), Decision::Deny { reason: DenyReason::NoRelationship }, "{action:?}");
        for status in [LinkStatus::Requested, LinkStatus::Declined] {
            assert_eq!(ask_system(Some(status), action), Decision::Deny { reason: DenyReason::NotLinked }, "{action:?}");
        }
        let expected = if action == Action::ReadShared {
            Decision::Allow { labels: PrivacyLabel::ALL.to_vec(), basis: Basis::Practice(practice(1)) }
        } else {
            Decision::Deny { reason: DenyReason::ActionNotGranted }
        };
        assert_eq!(ask_system(Some(LinkStatus::Linked), action), expected, "{action:?}");
    }
}

#[test]
fn the_role_is_named_for_the_log() {
    let grants = [grant(State::Revoked)];
    let req = |actor| AccessRequest {
        patient: record(),
        actor,
        record_owner: Some(user(ME)),
        born_on: None,
        link: None,
        grants: &grants,
        action: Action::ReadEntries,
        now: now(),
        age_rules: AgeRules::default(),
    };
    assert_eq!(role(&req(Actor::Person(user(ME)))), Role::Patient);
    assert_eq!(role(&req(Actor::Person(user(CARER)))), Role::Carer);
    assert_eq!(role(&req(Actor::Person(user(STRANGER)))), Role::Nobody);
    assert_eq!(role(&req(Actor::System)), Role::SystemClient);
    let staff = |job| Actor::Staff { user: user(STRANGER), practice: practice(1), job, passkey: true };
    assert_eq!(role(&req(staff(StaffRole::Nurse))), Role::PracticeClinician);
    assert_eq!(role(&req(staff(StaffRole::Admin))), Role::PracticeAdmin);
    assert_eq!(role(&req(staff(StaffRole::SocialCare))), Role::SocialCareWorker);
}

#[test]
fn several_grants_give_the_union_and_the_closest_refusal() {
    let mut mental = grant(State::ActiveViewOnly);
    mental.id = GrantId::from_uuid(Uuid::from_u128(101));
    mental.labels = vec![PrivacyLabel::MentalHealth];
    let grants = [grant(State::Active), mental];
    let read = ask(Actor::Person(user(CARER)), &grants, Action::ReadEntries);
    assert_eq!(read.labels(), &[PrivacyLabel::General, PrivacyLabel::MentalHealth, PrivacyLabel::SocialCare]);
    // Adding is allowed by the first grant only, so only its labels.
    let add = ask(Actor::Person(user(CARER)), &grants, Action::AddEntries);
    assert_eq!(add.labels(), &SHARED);
    let ended_and_revoked = [grant(State::Revoked), grant(State::Ended)];
    assert_eq!(ask(Actor::Person(user(CARER)), &ended_and_revoked, Action::ReadEntries), Decision::Deny { reason: DenyReason::GrantEnded });
}

/// A parent's grant for a child's record through the age thresholds, by a test clock.
#[test]
fn parental_access_narrows_at_11_and_stops_at_16_unless_confirmed() {
    let born = BirthDate { year: 2015, month: 6, day: 15 };
    let mut g = grant(State::Active);
    g.basis = GrantBasis::ParentalResponsibility;
    g.labels = PrivacyLabel::ALL.to_vec();
    g.starts_at = born.birthday(0);
    g.ends_at = born.birthday(18);
    let at = |years: i64, offset: Span| born.birthday(years).plus(offset);
    let check = |g: &GrantFacts, t: Timestamp| {
        decide(&AccessRequest {
            patient: record(),
            actor: Actor::Person(user(CARER)),
            record_owner: None,
            born_on: Some(born),
            link: None,
            grants: std::slice::from_ref(g),
            action: Action::ReadEntries,
            now: t,
            age_rules: AgeRules::default(),
        })
    };
    let minute = Span::minutes(1);
    assert_eq!(check(&g, at(11, Span::millis(-1))).labels(), &PrivacyLabel::ALL);
    assert_eq!(check(&g, at(11, Span::millis(0))).labels(), &[PrivacyLabel::General]);
    assert_eq!(check(&g, at(13, minute)).labels(), &[PrivacyLabel::General]);
    assert_eq!(check(&g, at(16, Span::millis(-1))).labels(), &[PrivacyLabel::General]);
    assert_eq!(check(&g, at(16, Span::millis(0))), Decision::Deny { reason: DenyReason::SuspendedAtAge });
    g.young_person_confirmed = true;
    assert_eq!(check(&g, at(16, minute)).labels(), &[PrivacyLabel::General]);
    // A parental grant that covered only sensitive labels covers nothing at 11.
    g.labels = vec![PrivacyLabel::SexualHealth];
    assert_eq!(check(&g, at(12, minute)), Decision::Deny { reason: DenyReason::NoLabelsLeft });
    // Other bases are not subject to the age rules.
    g.basis = GrantBasis::PatientConsent;
    g.young_person_confirmed = false;
    assert_eq!(check(&g, at(17, minute)).labels(), &[PrivacyLabel::SexualHealth]);
    // The thresholds are configurable.
    let later = AgeRules { general_only_at: 12, ..AgeRules::default() };
    g.basis = GrantBasis::ParentalResponsibility;
    g.labels = PrivacyLabel::ALL.to_vec();
    assert_eq!(grant_in_force(&g, Some(born), at(11, minute), &later).map(|l| l.len()), Ok(4));
}

/// Written by hand from access-rules.md ("Labels of synced items"): R and V reach only the
/// patient and clinicians; NOPAT only clinicians.
#[test]
fn who_sees_restricted_and_not_for_the_patient_synced_items() {
    use Confidentiality::{NoPatient, Normal, Restricted};
    let table: [(Role, &[Confidentiality]); 7] = [
        (Role::Patient, &[Normal, Restricted]),
        (Role::Carer, &[Normal]),
        (Role::PracticeClinician, &[Normal, Restricted, NoPatient]),
        (Role::PracticeAdmin, &[Normal]),
        (Role::SocialCareWorker, &[Normal]),
        (Role::SystemClient, &[Normal]),
        (Role::Nobody, &[Normal]),
    ];
    for (role, levels) in table {
        assert_eq!(synced_levels(role), levels.to_vec(), "{role:?}");
    }
}
