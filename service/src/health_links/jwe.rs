//! The cryptography of SMART Health Links: files encrypted as compact JWE (`alg` `dir`, `enc`
//! `A256GCM`) under the link's own key, and, for a long-term link, that key kept sealed under
//! the server's key. AES-256-GCM is `ring`'s (already in the build for TLS and JWTs).

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};

/// A 256-bit key or secret.
pub(crate) type Key = [u8; 32];

/// 32 random bytes from the operating system.
pub(crate) fn random_key() -> Key {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// Bytes as base64url without padding (a 32-byte key is 43 characters).
pub(crate) fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

fn cipher(key: &Key) -> LessSafeKey {
    // A 32-byte key is always a valid AES-256 key.
    #[allow(clippy::expect_used)]
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).expect("a 32-byte key"))
}

/// `plaintext` encrypted under `key`, bound to `aad`: the nonce, then the ciphertext and tag.
fn seal_parts(key: &Key, aad: &[u8], plaintext: &[u8]) -> ([u8; NONCE_LEN], Vec<u8>, Vec<u8>) {
    let mut iv = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut iv);
    let mut data = plaintext.to_vec();
    // Sealing fails only for inputs longer than GCM allows (64 GB).
    #[allow(clippy::expect_used)]
    let tag = cipher(key)
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(iv), Aad::from(aad), &mut data)
        .expect("a summary is far shorter than GCM's limit");
    (iv, data, tag.as_ref().to_vec())
}

fn open_parts(key: &Key, aad: &[u8], iv: &[u8], ciphertext_and_tag: &[u8]) -> Option<Vec<u8>> {
    let nonce = Nonce::try_assume_unique_for_key(iv).ok()?;
    let mut data = ciphertext_and_tag.to_vec();
    let plain = cipher(key).open_in_place(nonce, Aad::from(aad), &mut data).ok()?;
    Some(plain.to_vec())
}

/// `plaintext` as a compact JWE under `key` (direct encryption, A256GCM), its content type in
/// the protected header: `header..iv.ciphertext.tag`, with the empty encrypted key `dir` has.
pub(crate) fn encrypt(key: &Key, content_type: &str, plaintext: &[u8]) -> String {
    let header = b64(serde_json::json!({ "alg": "dir", "enc": "A256GCM", "cty": content_type }).to_string().as_bytes());
    // The additional data is the protected header as written (RFC 7516, 5.1 step 14).
    let (iv, ciphertext, tag) = seal_parts(key, header.as_bytes(), plaintext);
    format!("{header}..{}.{}.{}", b64(&iv), b64(&ciphertext), b64(&tag))
}

/// A compact JWE made by [`encrypt`], opened; `None` when it is not one or the key is wrong.
/// (Viewers decrypt in the browser; Carry itself never needs to.)
#[cfg(test)]
pub(crate) fn decrypt(key: &Key, jwe: &str) -> Option<Vec<u8>> {
    let parts: Vec<&str> = jwe.split('.').collect();
    let [header, "", iv, ciphertext, tag] = parts.as_slice() else { return None };
    let h: serde_json::Value = serde_json::from_slice(&B64.decode(header).ok()?).ok()?;
    if h["alg"] != "dir" || h["enc"] != "A256GCM" {
        return None;
    }
    let mut sealed = B64.decode(ciphertext).ok()?;
    sealed.extend(B64.decode(tag).ok()?);
    open_parts(key, header.as_bytes(), &B64.decode(iv).ok()?, &sealed)
}

/// A link's key sealed under the server's key, bound to the link's id: what a long-term link
/// keeps so that Carry can encrypt the current summary for it.
pub(crate) fn seal_key(server: &Key, link_id: &str, key: &Key) -> String {
    let (iv, mut sealed, tag) = seal_parts(server, link_id.as_bytes(), key);
    sealed.extend(tag);
    format!("{}.{}", b64(&iv), b64(&sealed))
}

/// A key sealed by [`seal_key`] for this link, opened; `None` under another server key or for
/// another link.
pub(crate) fn open_key(server: &Key, link_id: &str, sealed: &str) -> Option<Key> {
    let (iv, data) = sealed.split_once('.')?;
    let plain = open_parts(server, link_id.as_bytes(), &B64.decode(iv).ok()?, &B64.decode(data).ok()?)?;
    plain.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jwe_opens_with_its_key_only_and_says_how_it_was_made() {
        let key = random_key();
        let jwe = encrypt(&key, "application/fhir+json", b"{\"resourceType\":\"Bundle\"}");
        let parts: Vec<&str> = jwe.split('.').collect();
        assert_eq!(parts.len(), 5);
        assert_eq!(parts[1], "", "direct encryption has no encrypted key");
        let header: serde_json::Value = serde_json::from_slice(&B64.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header, serde_json::json!({ "alg": "dir", "enc": "A256GCM", "cty": "application/fhir+json" }));
        assert_eq!(B64.decode(parts[2]).unwrap().len(), 12, "a 96-bit IV");
        assert_eq!(decrypt(&key, &jwe).unwrap(), b"{\"resourceType\":\"Bundle\"}");
        assert_eq!(decrypt(&random_key(), &jwe), None);
        let mut ciphertext = B64.decode(parts[3]).unwrap();
        ciphertext[0] ^= 1;
        let tampered = format!("{}..{}.{}.{}", parts[0], parts[2], b64(&ciphertext), parts[4]);
        assert_eq!(decrypt(&key, &tampered), None, "a changed ciphertext does not open");
        assert_eq!(b64(&key).len(), 43);
    }

    #[test]
    fn a_sealed_key_opens_for_its_own_link_under_the_same_server_key() {
        let (server, key) = (random_key(), random_key());
        let sealed = seal_key(&server, "link-1", &key);
        assert_eq!(open_key(&server, "link-1", &sealed), Some(key));
        assert_eq!(open_key(&server, "link-2", &sealed), None);
        assert_eq!(open_key(&random_key(), "link-1", &sealed), None);
        assert_eq!(open_key(&server, "link-1", "nonsense"), None);
    }
}
