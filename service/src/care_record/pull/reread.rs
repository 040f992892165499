//! Reading stored resources again: items pulled before Carry read them as it does now (their
//! security labels, status, conformance and values) are hidden until this has run, at start-up.

use crate::error::ServiceResult;
use crate::Services;
use fhir::pull;
use store::synced;

impl Services {
    /// Reads again, as a pull reads them now, every item stored before Carry read them so.
    /// Until then nobody sees those items. Returns how many were read.
    pub async fn reread_synced_items(&self) -> ServiceResult<usize> {
        const BATCH: i64 = 500;
        let rules = self.security_rules();
        let entry_system = self.config().identifier_system("entry");
        let mut done = 0;
        loop {
            let mut tx = self.db().begin().await?;
            let rows = synced::list_unchecked_items(&mut tx, BATCH).await?;
            if rows.is_empty() {
                return Ok(done);
            }
            let now = self.now();
            for (patient, rtype, id, json) in &rows {
                match pull::reread_item(json, &entry_system, &rules) {
                    Ok(item) => {
                        synced::upsert_items(&mut tx, *patient, &[(item, json.as_str())], now).await?;
                    }
                    Err(e) => {
                        let reason = e.to_string();
                        tracing::warn!(patient_id = %patient, resource_type = %rtype, remote_id = %id, reason = %reason, "a stored synced resource cannot be read again; quarantined");
                        synced::quarantine_item(&mut tx, *patient, rtype, id, &reason, now).await?;
                    }
                }
            }
            tx.commit().await?;
            done += rows.len();
        }
    }
}
