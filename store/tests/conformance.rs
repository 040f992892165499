//! The store conformance suite: every test runs unchanged on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::{PasskeyId, SessionId, Span, Timestamp, UserId};
use store::ceremonies::{self, CeremonyRow};
use store::email_links::{self, EmailLinkRow};
use store::passkeys::{self, PasskeyRow};
use store::sessions::{self, SessionRow};
use store::{conformance, mail, passwords, throttle, users, StoreError};
use uuid::Uuid;

const T0: Timestamp = Timestamp::from_millis(1_790_000_000_000);

fn new_user_id() -> UserId {
    UserId::from_uuid(Uuid::new_v4())
}

async fn add_user(db: &store::Db, email: &str) -> UserId {
    let id = new_user_id();
    let mut conn = db.conn().await.unwrap();
    users::insert_user(&mut conn, id, email, &email.to_lowercase(), "Sam Jones", T0).await.unwrap();
    id
}

fn passkey(user: UserId, cred: &str) -> PasskeyRow {
    PasskeyRow {
        id: PasskeyId::from_uuid(Uuid::new_v4()),
        user_id: user,
        credential_id: cred.to_owned(),
        name: "Phone".to_owned(),
        passkey_json: "{}".to_owned(),
        last_used_at: None,
        created_at: T0,
    }
}

fn session(user: UserId, passkey: Option<PasskeyId>) -> SessionRow {
    SessionRow {
        id: SessionId::from_uuid(Uuid::new_v4()),
        user_id: user,
        auth_method: if passkey.is_some() { "passkey" } else { "password" }.to_owned(),
        passkey_id: passkey,
        device: "Chrome on Linux".to_owned(),
        authenticated_at: T0,
        last_seen_at: T0,
        absolute_expires_at: T0.plus(Span::hours(12)),
        created_at: T0,
    }
}

conformance! {
    async fn a_user_round_trips_and_is_found_by_email_key(db) {
        let id = add_user(db, "Sam@example.com").await;
        let mut conn = db.conn().await.unwrap();
        let by_key = users::find_user_by_email_key(&mut conn, "sam@example.com").await.unwrap().unwrap();
        assert_eq!(by_key.id, id);
        assert_eq!(by_key.email, "Sam@example.com");
        assert_eq!(by_key.created_at, T0);
        assert_eq!(users::find_user(&mut conn, id).await.unwrap().unwrap(), by_key);
        assert!(users::find_user(&mut conn, new_user_id()).await.unwrap().is_none());
    }
}

conformance! {
    async fn a_second_account_with_the_same_address_is_refused_by_name(db) {
        add_user(db, "sam@example.com").await;
        let mut conn = db.conn().await.unwrap();
        let err = users::insert_user(&mut conn, new_user_id(), "SAM@example.com", "sam@example.com", "Other", T0).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(ref c) if c == "users_email_key_unique"), "{err:?}");
    }
}

conformance! {
    async fn passwords_are_set_replaced_and_removed(db) {
        let id = add_user(db, "p@example.com").await;
        let mut conn = db.conn().await.unwrap();
        assert!(passwords::find_password(&mut conn, id).await.unwrap().is_none());
        passwords::upsert_password(&mut conn, id, "$argon2id$one", T0).await.unwrap();
        passwords::upsert_password(&mut conn, id, "$argon2id$two", T0.plus(Span::seconds(1))).await.unwrap();
        let (phc, at) = passwords::find_password(&mut conn, id).await.unwrap().unwrap();
        assert_eq!((phc.as_str(), at), ("$argon2id$two", T0.plus(Span::seconds(1))));
        assert!(passwords::delete_password(&mut conn, id).await.unwrap());
        assert!(!passwords::delete_password(&mut conn, id).await.unwrap());
    }
}

conformance! {
    async fn passkeys_belong_to_their_owner_only(db) {
        let alice = add_user(db, "alice@example.com").await;
        let bob = add_user(db, "bob@example.com").await;
        let mut conn = db.conn().await.unwrap();
        let key = passkey(alice, "cred-a");
        passkeys::insert_passkey(&mut conn, &key).await.unwrap();
        let dup = passkeys::insert_passkey(&mut conn, &passkey(bob, "cred-a")).await.unwrap_err();
        assert!(matches!(dup, StoreError::Conflict(ref c) if c == "passkeys_credential_id_unique"), "{dup:?}");

        assert!(!passkeys::update_passkey_name(&mut conn, bob, key.id, "Stolen", T0).await.unwrap());
        assert!(!passkeys::delete_passkey(&mut conn, bob, key.id).await.unwrap());
        assert!(passkeys::update_passkey_name(&mut conn, alice, key.id, "Laptop", T0).await.unwrap());
        passkeys::update_passkey_use(&mut conn, key.id, "{\"counter\":2}", T0.plus(Span::minutes(1))).await.unwrap();

        let found = passkeys::find_passkey_by_credential(&mut conn, "cred-a").await.unwrap().unwrap();
        assert_eq!(found.name, "Laptop");
        assert_eq!(found.passkey_json, "{\"counter\":2}");
        assert_eq!(found.last_used_at, Some(T0.plus(Span::minutes(1))));
        assert!(passkeys::list_passkeys(&mut conn, bob).await.unwrap().is_empty());
        assert_eq!(passkeys::list_passkeys(&mut conn, alice).await.unwrap(), vec![found]);
    }
}

conformance! {
    async fn removing_a_passkey_ends_the_sessions_signed_in_with_it(db) {
        let user = add_user(db, "s@example.com").await;
        let mut conn = db.conn().await.unwrap();
        let key = passkey(user, "cred-s");
        passkeys::insert_passkey(&mut conn, &key).await.unwrap();
        let with_key = session(user, Some(key.id));
        let with_password = session(user, None);
        sessions::insert_session(&mut conn, &with_key, "hash-1").await.unwrap();
        sessions::insert_session(&mut conn, &with_password, "hash-2").await.unwrap();
        assert!(passkeys::delete_passkey(&mut conn, user, key.id).await.unwrap());
        assert!(sessions::find_session_by_token_hash(&mut conn, "hash-1").await.unwrap().is_none());
        assert_eq!(sessions::find_session_by_token_hash(&mut conn, "hash-2").await.unwrap(), Some(with_password));
    }
}

conformance! {
    async fn sessions_are_listed_touched_and_ended(db) {
        let user = add_user(db, "t@example.com").await;
        let other = add_user(db, "u@example.com").await;
        let mut conn = db.conn().await.unwrap();
        let a = session(user, None);
        let b = session(user, None);
        let c = session(other, None);
        for (s, h) in [(&a, "ha"), (&b, "hb"), (&c, "hc")] {
            sessions::insert_session(&mut conn, s, h).await.unwrap();
        }
        sessions::update_session_seen(&mut conn, b.id, T0.plus(Span::minutes(5))).await.unwrap();
        let listed = sessions::list_sessions(&mut conn, user).await.unwrap();
        assert_eq!(listed.iter().map(|s| s.id).collect::<Vec<_>>(), vec![b.id, a.id]);

        assert!(!sessions::delete_session(&mut conn, other, a.id).await.unwrap(), "another user cannot end my session");
        assert_eq!(sessions::delete_sessions_of_user(&mut conn, user, Some(b.id)).await.unwrap(), 1);
        assert_eq!(sessions::list_sessions(&mut conn, user).await.unwrap().len(), 1);
        assert_eq!(sessions::delete_sessions_of_user(&mut conn, user, None).await.unwrap(), 1);
        assert_eq!(sessions::list_sessions(&mut conn, other).await.unwrap().len(), 1);
    }
}

conformance! {
    async fn expired_and_idle_sessions_are_swept(db) {
        let user = add_user(db, "x@example.com").await;
        let mut conn = db.conn().await.unwrap();
        let fresh = session(user, None);
        let mut idle = session(user, None);
        idle.last_seen_at = T0.minus(Span::hours(1));
        let mut old = session(user, None);
        old.absolute_expires_at = T0;
        for (s, h) in [(&fresh, "f"), (&idle, "i"), (&old, "o")] {
            sessions::insert_session(&mut conn, s, h).await.unwrap();
        }
        let swept = sessions::delete_expired_sessions(&mut conn, T0, T0.minus(Span::minutes(30))).await.unwrap();
        assert_eq!(swept, 2);
        assert_eq!(sessions::list_sessions(&mut conn, user).await.unwrap(), vec![fresh]);
    }
}

conformance! {
    async fn an_email_link_is_used_once_and_not_after_it_expires(db) {
        let mut conn = db.conn().await.unwrap();
        let link = EmailLinkRow {
            token_hash: "h1".into(),
            purpose: "register".into(),
            email: "New@example.com".into(),
            display_name: Some("New Person".into()),
            user_id: None,
            expires_at: T0.plus(Span::hours(24)),
            used_at: None,
        };
        email_links::insert_link(&mut conn, &link, T0).await.unwrap();
        assert_eq!(email_links::find_link(&mut conn, "h1", "register").await.unwrap(), Some(link.clone()));
        assert!(email_links::find_link(&mut conn, "h1", "recover").await.unwrap().is_none(), "purpose must match");
        assert!(!email_links::update_link_used(&mut conn, "h1", "register", T0.plus(Span::hours(25))).await.unwrap(), "expired");
        assert!(email_links::update_link_used(&mut conn, "h1", "register", T0.plus(Span::minutes(1))).await.unwrap());
        assert!(!email_links::update_link_used(&mut conn, "h1", "register", T0.plus(Span::minutes(2))).await.unwrap(), "second use");

        let second = EmailLinkRow { token_hash: "h2".into(), ..link };
        email_links::insert_link(&mut conn, &second, T0).await.unwrap();
        assert_eq!(email_links::update_links_void(&mut conn, "new@example.com", "register", T0).await.unwrap(), 1);
        assert!(!email_links::update_link_used(&mut conn, "h2", "register", T0).await.unwrap(), "voided");
    }
}

conformance! {
    async fn only_one_of_two_racing_uses_of_a_link_wins(db) {
        let mut conn = db.conn().await.unwrap();
        let link = EmailLinkRow {
            token_hash: "race".into(),
            purpose: "recover".into(),
            email: "r@example.com".into(),
            display_name: None,
            user_id: None,
            expires_at: T0.plus(Span::minutes(30)),
            used_at: None,
        };
        email_links::insert_link(&mut conn, &link, T0).await.unwrap();
        drop(conn);
        let (a, b) = tokio::join!(
            async {
                let mut tx = db.begin().await.unwrap();
                let won = email_links::update_link_used(&mut tx, "race", "recover", T0).await.unwrap();
                tx.commit().await.unwrap();
                won
            },
            async {
                let mut tx = db.begin().await.unwrap();
                let won = email_links::update_link_used(&mut tx, "race", "recover", T0).await.unwrap();
                tx.commit().await.unwrap();
                won
            }
        );
        assert!(a ^ b, "exactly one use wins: {a} {b}");
    }
}

conformance! {
    async fn ceremony_state_is_single_use_and_expires(db) {
        let mut conn = db.conn().await.unwrap();
        let row = CeremonyRow {
            id: "c1".into(),
            purpose: "authenticate".into(),
            user_id: None,
            link_token_hash: None,
            state_json: "{\"s\":1}".into(),
            expires_at: T0.plus(Span::minutes(5)),
        };
        ceremonies::insert_ceremony(&mut conn, &row, T0).await.unwrap();
        assert_eq!(ceremonies::take_ceremony(&mut conn, "c1", "authenticate", T0).await.unwrap(), Some(row.clone()));
        assert!(ceremonies::take_ceremony(&mut conn, "c1", "authenticate", T0).await.unwrap().is_none(), "replay");

        ceremonies::insert_ceremony(&mut conn, &CeremonyRow { id: "c2".into(), ..row.clone() }, T0).await.unwrap();
        assert!(ceremonies::take_ceremony(&mut conn, "c2", "register", T0).await.unwrap().is_none(), "wrong purpose");
        assert!(ceremonies::take_ceremony(&mut conn, "c2", "authenticate", T0).await.unwrap().is_none(), "consumed by the wrong-purpose attempt");

        ceremonies::insert_ceremony(&mut conn, &CeremonyRow { id: "c3".into(), ..row }, T0).await.unwrap();
        assert!(ceremonies::take_ceremony(&mut conn, "c3", "authenticate", T0.plus(Span::minutes(6))).await.unwrap().is_none(), "expired");
    }
}

conformance! {
    async fn failure_counters_and_rate_windows_count_up_and_clear(db) {
        let mut conn = db.conn().await.unwrap();
        assert_eq!(throttle::insert_attempt(&mut conn, "acct", T0).await.unwrap(), (1, None));
        for n in 2..=3 {
            let previous = T0.plus(Span::seconds(n - 2));
            assert_eq!(throttle::insert_attempt(&mut conn, "acct", T0.plus(Span::seconds(n - 1))).await.unwrap(), (n, Some(previous)));
        }
        assert_eq!(throttle::find_failures(&mut conn, "acct").await.unwrap(), Some((3, T0.plus(Span::seconds(2)))));
        assert_eq!(throttle::delete_stale_failures(&mut conn, T0.plus(Span::days(1)), 3).await.unwrap(), 0, "at the hard stop it stays");
        assert_eq!(throttle::delete_stale_failures(&mut conn, T0.plus(Span::days(1)), 50).await.unwrap(), 1);
        throttle::insert_attempt(&mut conn, "acct", T0).await.unwrap();
        throttle::delete_failures(&mut conn, "acct").await.unwrap();
        assert!(throttle::find_failures(&mut conn, "acct").await.unwrap().is_none());

        assert_eq!(throttle::insert_hit(&mut conn, "ip:1", T0, T0).await.unwrap(), 1);
        assert_eq!(throttle::insert_hit(&mut conn, "ip:1", T0, T0).await.unwrap(), 2);
        assert_eq!(throttle::insert_hit(&mut conn, "ip:2", T0, T0).await.unwrap(), 1);
        let next = T0.plus(Span::minutes(15));
        assert_eq!(throttle::insert_hit(&mut conn, "ip:1", next, next).await.unwrap(), 1);
        assert_eq!(throttle::delete_old_windows(&mut conn, next).await.unwrap(), 2);
    }
}

conformance! {
    async fn concurrent_attempts_each_get_their_own_count(db) {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let db = db.clone();
                tokio::spawn(async move {
                    let mut tx = db.begin().await.unwrap();
                    let got = throttle::insert_attempt(&mut tx, "busy", T0).await.unwrap();
                    tx.commit().await.unwrap();
                    got.0
                })
            })
            .collect();
        let mut counts = Vec::new();
        for h in handles {
            counts.push(h.await.unwrap());
        }
        counts.sort_unstable();
        assert_eq!(counts, (1..=8).collect::<Vec<_>>(), "no two attempts may see the same count");
    }
}

conformance! {
    async fn a_mail_row_is_claimed_by_one_worker_until_its_lease_ends(db) {
        let mut conn = db.conn().await.unwrap();
        mail::insert_mail(&mut conn, "m1", "a@example.com", "Subject", "Body", T0).await.unwrap();
        let lease = T0.plus(Span::seconds(60));
        let first = mail::claim_due_mail(&mut conn, T0, lease).await.unwrap().unwrap();
        assert_eq!((first.id.as_str(), first.attempts), ("m1", 1));
        assert!(mail::claim_due_mail(&mut conn, T0.plus(Span::seconds(1)), lease).await.unwrap().is_none(), "leased");

        // The worker died: after the lease the message is claimed again.
        let again = mail::claim_due_mail(&mut conn, lease, lease.plus(Span::seconds(60))).await.unwrap().unwrap();
        assert_eq!(again.attempts, 2);
        mail::update_mail_failed(&mut conn, "m1", "connection refused", lease.plus(Span::seconds(30)), lease).await.unwrap();
        assert!(mail::claim_due_mail(&mut conn, lease.plus(Span::seconds(10)), lease.plus(Span::seconds(70))).await.unwrap().is_none(), "backing off");
        let third = mail::claim_due_mail(&mut conn, lease.plus(Span::seconds(30)), lease.plus(Span::seconds(90))).await.unwrap().unwrap();
        mail::update_mail_sent(&mut conn, &third.id, lease.plus(Span::seconds(31))).await.unwrap();
        assert_eq!(mail::count_unsent_mail(&mut conn).await.unwrap(), 0);
        assert!(mail::claim_due_mail(&mut conn, lease.plus(Span::hours(1)), lease.plus(Span::hours(2))).await.unwrap().is_none());
    }
}

conformance! {
    async fn expired_links_and_old_sent_mail_are_swept(db) {
        let mut conn = db.conn().await.unwrap();
        let link = |hash: &str, expires: Timestamp| EmailLinkRow {
            token_hash: hash.into(),
            purpose: "register".into(),
            email: "a@example.org".into(),
            display_name: None,
            user_id: None,
            expires_at: expires,
            used_at: None,
        };
        email_links::insert_link(&mut conn, &link("old", T0), T0).await.unwrap();
        email_links::insert_link(&mut conn, &link("live", T0.plus(Span::days(2))), T0).await.unwrap();
        assert_eq!(email_links::delete_expired_links(&mut conn, T0.plus(Span::days(1))).await.unwrap(), 1);
        assert!(email_links::find_link(&mut conn, "live", "register").await.unwrap().is_some());

        mail::insert_mail(&mut conn, "sent", "a@example.org", "S", "B", T0).await.unwrap();
        mail::insert_mail(&mut conn, "waiting", "a@example.org", "S", "B", T0).await.unwrap();
        let claimed = mail::claim_due_mail(&mut conn, T0, T0.plus(Span::minutes(1))).await.unwrap().unwrap();
        mail::update_mail_sent(&mut conn, &claimed.id, T0).await.unwrap();
        assert_eq!(mail::delete_sent_mail(&mut conn, T0.plus(Span::days(31))).await.unwrap(), 1);
        assert_eq!(mail::count_unsent_mail(&mut conn).await.unwrap(), 1, "unsent mail is never swept");
    }
}

conformance! {
    async fn a_transaction_dropped_without_commit_leaves_nothing(db) {
        {
            let mut tx = db.begin().await.unwrap();
            users::insert_user(&mut tx, new_user_id(), "gone@example.com", "gone@example.com", "Gone", T0).await.unwrap();
        }
        let mut conn = db.conn().await.unwrap();
        assert!(users::find_user_by_email_key(&mut conn, "gone@example.com").await.unwrap().is_none());
        let mut tx = db.begin().await.unwrap();
        users::insert_user(&mut tx, new_user_id(), "kept@example.com", "kept@example.com", "Kept", T0).await.unwrap();
        tx.commit().await.unwrap();
        assert!(users::find_user_by_email_key(&mut conn, "kept@example.com").await.unwrap().is_some());
    }
}

conformance! {
    async fn foreign_keys_are_enforced(db) {
        let mut conn = db.conn().await.unwrap();
        let err = passwords::upsert_password(&mut conn, new_user_id(), "$argon2id$x", T0).await;
        assert!(err.is_err(), "a password for no user must be refused");
    }
}

#[tokio::test]
async fn sqlite_runs_with_wal_full_sync_and_foreign_keys_on() {
    let t = store::testing::TestDb::new(store::Backend::Sqlite).await;
    let mut conn = t.db.conn().await.unwrap();
    let mode: String = sqlx::query_scalar("pragma journal_mode").fetch_one(&mut *conn).await.unwrap();
    let sync: i64 = sqlx::query_scalar("pragma synchronous").fetch_one(&mut *conn).await.unwrap();
    let fk: i64 = sqlx::query_scalar("pragma foreign_keys").fetch_one(&mut *conn).await.unwrap();
    let busy: i64 = sqlx::query_scalar("pragma busy_timeout").fetch_one(&mut *conn).await.unwrap();
    assert_eq!((mode.as_str(), sync, fk, busy), ("wal", 2, 1, 5000));
    drop(conn);
    t.cleanup().await;
}

#[tokio::test]
async fn migrations_run_twice_without_harm() {
    for backend in [store::Backend::Sqlite, store::Backend::Postgres] {
        let t = store::testing::TestDb::new(backend).await;
        t.db.migrate().await.unwrap();
        let again = store::Db::connect(&store::DbOptions::new(t.url.clone())).await.unwrap();
        again.close().await;
        t.cleanup().await;
    }
}
