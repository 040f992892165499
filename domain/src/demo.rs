//! The demo people and practice a server in demo mode makes, as values: the home page lists
//! them and the server makes them from the same values, so nothing is read back from what a
//! page shows.

use crate::practices::StaffRole;

/// The part a demo person plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoPart {
    /// The patient whose record the demo shows.
    Patient,
    /// A carer with access to the demo patient's record.
    Carer,
    /// Staff at the demo practice, in this job.
    Staff(StaffRole),
}

impl DemoPart {
    /// How the home page names the part.
    pub fn words(self) -> &'static str {
        match self {
            DemoPart::Patient => "Demo patient",
            DemoPart::Carer => "Demo carer",
            DemoPart::Staff(StaffRole::Gp) => "Demo GP",
            DemoPart::Staff(StaffRole::Nurse) => "Demo nurse",
            DemoPart::Staff(StaffRole::Admin) => "Demo practice administrator",
            DemoPart::Staff(StaffRole::SocialCare) => "Demo social care worker",
        }
    }
}

/// A demo person, with the password the home page shows (demo mode only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoPerson {
    /// Their part.
    pub part: DemoPart,
    /// Their name.
    pub name: &'static str,
    /// Their email address.
    pub email: &'static str,
    /// Their password.
    pub password: &'static str,
}

/// Everyone a demo server makes.
pub const DEMO_PEOPLE: [DemoPerson; 5] = [
    DemoPerson { part: DemoPart::Patient, name: "Sam Patel", email: "sam.patel@demo.carry.invalid", password: "demo kettle lantern orbit" },
    DemoPerson {
        part: DemoPart::Carer,
        name: "Alex Smith",
        email: "alex.smith@demo.carry.invalid",
        password: "demo meadow violet harbour",
    },
    DemoPerson {
        part: DemoPart::Staff(StaffRole::Gp),
        name: "Dr Priya Shah",
        email: "priya.shah@demo.carry.invalid",
        password: "demo granite willow comet",
    },
    DemoPerson {
        part: DemoPart::Staff(StaffRole::Admin),
        name: "Jo Lee",
        email: "jo.lee@demo.carry.invalid",
        password: "demo saffron pebble tide",
    },
    DemoPerson {
        part: DemoPart::Staff(StaffRole::SocialCare),
        name: "Chris Morgan",
        email: "chris.morgan@demo.carry.invalid",
        password: "demo juniper anchor frost",
    },
];

/// The demo person playing `part`.
pub fn demo_person(part: DemoPart) -> Option<&'static DemoPerson> {
    DEMO_PEOPLE.iter().find(|p| p.part == part)
}

/// The demo practice's name; the demo staff work there.
pub const DEMO_PRACTICE_NAME: &str = "Riverside Practice";

/// The demo practice's ODS code.
pub const DEMO_PRACTICE_ODS: &str = "X99001";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_person_has_a_part_of_their_own() {
        for p in &DEMO_PEOPLE {
            assert_eq!(demo_person(p.part), Some(p), "{:?}", p.part);
            assert!(p.email.ends_with("@demo.carry.invalid"));
        }
    }
}
