//! Typed identifiers. A bare `Uuid` never crosses a crate boundary: each id says what it names.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps a UUID made by the server (ids are never made in the browser).
            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            /// The UUID inside.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

typed_id!(
    /// A person with a Carry account (patient, carer or practice staff).
    UserId
);
typed_id!(
    /// One registered passkey of a user.
    PasskeyId
);
typed_id!(
    /// A signed-in session (not the secret cookie value, which is never an id).
    SessionId
);
typed_id!(
    /// A patient's record (usually, but not always, with its own account: a young child's is not).
    PatientId
);
typed_id!(
    /// One entry in a patient's record: a reading, a note, or their "about me".
    EntryId
);
typed_id!(
    /// A carer's access to one patient's record, from invitation to its end.
    GrantId
);
typed_id!(
    /// A notice shown to one person in the portal.
    NoticeId
);
typed_id!(
    /// A GP practice (or a council's social care team) that staff belong to.
    PracticeId
);
