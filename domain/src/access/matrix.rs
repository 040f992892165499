//! The authorisation matrix: `matrix.txt` holds, written by hand from `access-rules.md`, what
//! the policy must answer for every kind of actor in every state against every action. This
//! test builds each situation, asks [`decide`] every cell, and checks that the table covers
//! every action and every situation it knows (so a new action or state cannot go untested).

use super::*;
use crate::grants::{AgeRules, BirthDate, GrantBasis, GrantStatus};
use crate::practices::{LinkStatus, StaffRole};
use crate::{GrantId, PatientId, PracticeId, PrivacyLabel, Span, Timestamp, UserId};
use uuid::Uuid;

const TABLE: &str = include_str!("matrix.txt");

pub(super) fn user(n: u128) -> UserId {
    UserId::from_uuid(Uuid::from_u128(n))
}

pub(super) fn practice(n: u128) -> PracticeId {
    PracticeId::from_uuid(Uuid::from_u128(1000 + n))
}

pub(super) const ME: u128 = 1;
pub(super) const CARER: u128 = 2;
pub(super) const STRANGER: u128 = 3;
const STAFF: u128 = 4;

pub(super) fn now() -> Timestamp {
    Timestamp::uk_day_start(2026, 11, 29).plus(Span::hours(12))
}

/// One situation: everything the policy is told except the action.
struct Situation {
    actor: Actor,
    owner: Option<UserId>,
    born_on: Option<BirthDate>,
    link: Option<PracticeLink>,
    grants: Vec<GrantFacts>,
}

pub(super) fn grant(status: GrantStatus, starts: Timestamp, ends: Timestamp, can_add: bool) -> GrantFacts {
    GrantFacts {
        id: GrantId::from_uuid(Uuid::from_u128(100)),
        carer: Some(user(CARER)),
        status,
        basis: GrantBasis::PatientConsent,
        labels: vec![PrivacyLabel::General, PrivacyLabel::SocialCare],
        can_add,
        can_export: false,
        starts_at: starts,
        ends_at: ends,
        young_person_confirmed: false,
    }
}

fn active() -> GrantFacts {
    grant(GrantStatus::Active, now().minus(Span::days(1)), now().plus(Span::days(365)), true)
}

fn parental(years: i64) -> (Option<BirthDate>, GrantFacts) {
    let born = BirthDate { year: 2026 - years, month: 6, day: 15 };
    let g = GrantFacts {
        basis: GrantBasis::ParentalResponsibility,
        labels: PrivacyLabel::ALL.to_vec(),
        can_export: true,
        starts_at: born.birthday(0),
        ends_at: born.birthday(18),
        ..active()
    };
    (Some(born), g)
}

/// Builds the situation a row names; `None` for a name this test does not know.
fn situation(name: &str) -> Option<Situation> {
    let person = |actor: u128, grants: Vec<GrantFacts>| Situation {
        actor: Actor::Person(user(actor)),
        owner: Some(user(ME)),
        born_on: None,
        link: None,
        grants,
    };
    let child = |born_on: Option<BirthDate>, g: GrantFacts| Situation {
        actor: Actor::Person(user(CARER)),
        owner: None,
        born_on,
        link: None,
        grants: vec![g],
    };
    let t = now();
    let year = Span::days(365);
    let s = match name {
        "patient" => person(ME, vec![]),
        "patient, a carer holds a grant" => person(ME, vec![active()]),
        "stranger" => person(STRANGER, vec![]),
        "stranger, a carer holds a grant" => person(STRANGER, vec![active()]),
        "carer, active" => person(CARER, vec![active()]),
        "carer, view only" => person(CARER, vec![GrantFacts { can_add: false, ..active() }]),
        "carer, may export" => person(CARER, vec![GrantFacts { can_export: true, ..active() }]),
        "carer, invited" => person(CARER, vec![grant(GrantStatus::Invited, t, t.plus(year), true)]),
        "carer, declined" => person(CARER, vec![grant(GrantStatus::Declined, t, t.plus(year), true)]),
        "carer, not started" => person(CARER, vec![grant(GrantStatus::Active, t.plus(Span::days(1)), t.plus(year), true)]),
        // Its end is exactly now: ends are exclusive.
        "carer, ended" => person(CARER, vec![grant(GrantStatus::Active, t.minus(year), t, true)]),
        "carer, revoked" => person(CARER, vec![grant(GrantStatus::Revoked, t.minus(Span::days(1)), t.plus(year), true)]),
        "parent, child of 5" => {
            let (born, g) = parental(5);
            child(born, g)
        }
        "parent, child of 12" => {
            let (born, g) = parental(12);
            child(born, g)
        }
        "parent, child of 12, sexual health only" => {
            let (born, g) = parental(12);
            child(born, GrantFacts { labels: vec![PrivacyLabel::SexualHealth], ..g })
        }
        "parent, child of 16, not confirmed" => {
            let (born, g) = parental(16);
            child(born, g)
        }
        "parent, child of 16, confirmed" => {
            let (born, g) = parental(16);
            child(born, GrantFacts { young_person_confirmed: true, ..g })
        }
        "parent, revoked" => {
            let (born, g) = parental(5);
            child(born, GrantFacts { status: GrantStatus::Revoked, ..g })
        }
        other => return staff_or_system(other),
    };
    Some(s)
}

/// "gp, passkey, linked", "system, requested" and the like.
fn staff_or_system(name: &str) -> Option<Situation> {
    let parts: Vec<&str> = name.split(", ").collect();
    let link_of = |text: &str| -> Option<Option<PracticeLink>> {
        let here = |status| Some(Some(PracticeLink { practice: practice(1), status }));
        match text {
            "no link" => Some(None),
            "requested" => here(LinkStatus::Requested),
            "linked" => here(LinkStatus::Linked),
            "declined" => here(LinkStatus::Declined),
            "linked elsewhere" => Some(Some(PracticeLink { practice: practice(2), status: LinkStatus::Linked })),
            _ => None,
        }
    };
    let (actor, link) = match parts.as_slice() {
        ["system", link] => (Actor::System, link_of(link)?),
        [job, sign_in, link] => {
            let job = match *job {
                "gp" => StaffRole::Gp,
                "nurse" => StaffRole::Nurse,
                "admin" => StaffRole::Admin,
                "social care" => StaffRole::SocialCare,
                _ => return None,
            };
            let passkey = match *sign_in {
                "passkey" => true,
                "password" => false,
                _ => return None,
            };
            (Actor::Staff { user: user(STAFF), practice: practice(1), job, passkey }, link_of(link)?)
        }
        _ => return None,
    };
    // A carer's grant beside them changes nothing for staff or systems.
    Some(Situation { actor, owner: Some(user(ME)), born_on: None, link, grants: vec![active()] })
}

/// What a cell says.
fn expected(cell: &str) -> Option<Result<Vec<PrivacyLabel>, DenyReason>> {
    use PrivacyLabel::{General, SocialCare};
    Some(match cell {
        "all" => Ok(PrivacyLabel::ALL.to_vec()),
        "G" => Ok(vec![General]),
        "GC" => Ok(vec![General, SocialCare]),
        "C" => Ok(vec![SocialCare]),
        "ok" => Ok(vec![]),
        "no-rel" => Err(DenyReason::NoRelationship),
        "not-acc" => Err(DenyReason::GrantNotAccepted),
        "not-start" => Err(DenyReason::GrantNotStarted),
        "ended" => Err(DenyReason::GrantEnded),
        "revoked" => Err(DenyReason::GrantRevoked),
        "paused" => Err(DenyReason::SuspendedAtAge),
        "no-labels" => Err(DenyReason::NoLabelsLeft),
        "act" => Err(DenyReason::ActionNotGranted),
        "not-linked" => Err(DenyReason::NotLinked),
        "passkey" => Err(DenyReason::PasskeyRequired),
        _ => return None,
    })
}

#[test]
fn every_cell_of_the_hand_written_matrix_holds() {
    let mut names = Vec::new();
    let mut checked = 0;
    for (n, line) in TABLE.lines().enumerate().map(|(i, l)| (i + 1, l)) {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, cells) = line.split_once('|').unwrap_or_else(|| panic!("matrix.txt line {n}: no '|'"));
        let name = name.trim();
        let cells: Vec<&str> = cells.split_whitespace().collect();
        assert_eq!(cells.len(), Action::ALL.len(), "matrix.txt line {n} ({name}): one cell per action");
        let s = situation(name).unwrap_or_else(|| panic!("matrix.txt line {n}: unknown situation {name:?}"));
        assert!(!names.contains(&name), "matrix.txt line {n}: {name:?} twice");
        names.push(name);
        for (action, cell) in Action::ALL.into_iter().zip(cells) {
            let want = expected(cell).unwrap_or_else(|| panic!("matrix.txt line {n}: unknown cell {cell:?}"));
            let req = AccessRequest {
                patient: PatientId::from_uuid(Uuid::from_u128(500)),
                actor: s.actor,
                record_owner: s.owner,
                born_on: s.born_on,
                link: s.link,
                grants: &s.grants,
                action,
                now: now(),
                age_rules: AgeRules::default(),
            };
            let got = match decide(&req) {
                Decision::Allow { labels, .. } => Ok(labels),
                Decision::Deny { reason } => Err(reason),
            };
            assert_eq!(got, want, "matrix.txt line {n}: {name}, {action:?}");
            // The permit says the same as the decision it was made from.
            match (permit(&req), &want) {
                (Ok(p), Ok(labels)) => assert_eq!((p.labels(), p.action(), p.patient()), (labels.as_slice(), action, req.patient)),
                (Err(r), Err(reason)) => assert_eq!((r.reason(), r.action(), r.patient()), (*reason, action, Some(req.patient))),
                (got, _) => panic!("matrix.txt line {n}: {name}, {action:?}: permit gave {got:?}"),
            }
            checked += 1;
        }
    }
    // Every job, both ways of signing in and every link state for staff; every link state for
    // a system client.
    for job in ["gp", "nurse", "admin", "social care"] {
        for sign_in in ["passkey", "password"] {
            for link in ["no link", "requested", "linked", "declined", "linked elsewhere"] {
                let name = format!("{job}, {sign_in}, {link}");
                assert!(names.contains(&name.as_str()), "matrix.txt has no row {name:?}");
            }
        }
    }
    for link in ["no link", "requested", "linked", "declined"] {
        let name = format!("system, {link}");
        assert!(names.contains(&name.as_str()), "matrix.txt has no row {name:?}");
    }
    assert_eq!(checked, names.len() * Action::ALL.len());
    assert!(names.len() >= 60, "the matrix lost rows: {}", names.len());
}
