//! Slowing down guessing. Failures are counted per account key (a hash of the address typed, so
//! an unknown address is treated exactly like a known one) and requests per client address.

use crate::error::{ServiceError, ServiceResult};
use crate::tokens::hash_text;
use crate::Services;
use domain::{Span, Timestamp};
use std::net::IpAddr;
use store::throttle;

/// The key failures are counted under for an address typed at sign-in.
pub(crate) fn account_key(email_lookup_key: &str) -> String {
    hash_text(&format!("sign-in:{email_lookup_key}"))
}

/// Whether an attempt may go ahead after `failures` earlier consecutive failures, the last of
/// them at `last`.
pub(crate) fn wait_after(services: &Services, failures: i64, last: Option<Timestamp>, now: Timestamp) -> ServiceResult<()> {
    let t = services.config().throttle;
    if failures >= t.hard_stop_failures {
        return Err(ServiceError::LockedUntilRecovered);
    }
    let Some(last) = last.filter(|_| failures >= t.delay_from_failures) else {
        return Ok(());
    };
    let doublings = u32::try_from((failures - t.delay_from_failures).min(30)).unwrap_or(30);
    let delay = Span::seconds(1i64 << doublings).min(t.max_delay);
    let ready_at = last.plus(delay);
    if now < ready_at {
        let secs = (ready_at.since(now).as_millis() + 999) / 1000;
        return Err(ServiceError::Throttled { retry_after_secs: secs });
    }
    Ok(())
}

/// Counts one request of `kind` from `address` and refuses it past `limit` per window.
pub(crate) async fn per_address(services: &Services, kind: &str, address: Option<IpAddr>, limit: i64) -> ServiceResult<()> {
    let Some(ip) = address else { return Ok(()) };
    // One IPv6 subscriber usually holds a whole /64: count it as one address.
    let ip = match ip {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    };
    let window = services.config().throttle.window;
    let now = services.now();
    let start = Timestamp::from_millis(now.as_millis() - now.as_millis().rem_euclid(window.as_millis()));
    let bucket = hash_text(&format!("{kind}:{ip}"));
    let mut tx = services.db().begin().await?;
    let hits = throttle::insert_hit(&mut tx, &bucket, start, now).await?;
    tx.commit().await?;
    if hits > limit {
        let secs = (start.plus(window).since(now).as_millis() + 999) / 1000;
        return Err(ServiceError::Throttled { retry_after_secs: secs });
    }
    Ok(())
}

/// Counts one message to `email_key` and says whether it may be sent (so nobody can use Carry
/// to flood an inbox). The page says the same either way.
pub(crate) async fn mail_allowed(services: &Services, tx: &mut store::Conn, email_key: &str) -> ServiceResult<bool> {
    let t = services.config().throttle;
    let now = services.now();
    let window = Span::hours(1);
    let start = Timestamp::from_millis(now.as_millis() - now.as_millis().rem_euclid(window.as_millis()));
    let hits = throttle::insert_hit(tx, &hash_text(&format!("mail:{email_key}")), start, now).await?;
    Ok(hits <= t.mails_per_address)
}

/// Counts one invitation (to be a carer, to join a practice, to take a record) from `sender` to
/// the address `to_key`, in the caller's transaction, and refuses it past the daily caps: so
/// nobody can use Carry to flood an inbox, or to send mail to many addresses they typed. A
/// refused invitation is not counted (its transaction is not committed). Errors name `email`.
pub(crate) async fn invitation_allowed(
    services: &Services,
    tx: &mut store::Conn,
    sender: domain::UserId,
    to_key: &str,
) -> ServiceResult<()> {
    let t = services.config().throttle;
    let now = services.now();
    let day = Span::days(1);
    let start = Timestamp::from_millis(now.as_millis() - now.as_millis().rem_euclid(day.as_millis()));
    let from_sender = throttle::insert_hit(tx, &hash_text(&format!("invite-from:{sender}")), start, now).await?;
    let to_address = throttle::insert_hit(tx, &hash_text(&format!("invite-to:{to_key}")), start, now).await?;
    if from_sender > t.invitations_per_sender || to_address > t.invitations_per_address {
        return Err(domain::ValidationError::field(
            "email",
            "Carry has sent as many invitations as it allows today, from your account or to this address. Try again tomorrow.",
        )
        .into());
    }
    Ok(())
}
