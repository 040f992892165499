//! The reminder worker: review reminders before a grant ends, and the warnings and notices at
//! a child's age thresholds, each sent once.

use super::describe::last_day;
use crate::error::ServiceResult;
use crate::Services;
use domain::grants::{BirthDate, REVIEW_REMINDER};
use store::grants::{self};
use store::patients;

impl Services {
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
