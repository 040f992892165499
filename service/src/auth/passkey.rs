//! Passkeys through webauthn-rs: user verification always required, discoverable (resident)
//! credentials required so that sign-in needs no typed address and autofill works.

use crate::error::{ServiceError, ServiceResult};
use url::Url;
use webauthn_rs::prelude::{
    CreationChallengeResponse, CredentialID, DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, RequestChallengeResponse, Uuid, Webauthn, WebauthnBuilder,
};
use webauthn_rs_proto::{ResidentKeyRequirement, UserVerificationPolicy};

/// The relying party.
#[derive(Clone)]
pub struct Passkeys {
    webauthn: Webauthn,
}

impl std::fmt::Debug for Passkeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passkeys")
    }
}

impl Passkeys {
    /// The relying party id is the public URL's host; only that exact origin is accepted.
    pub fn new(public_url: &Url) -> ServiceResult<Self> {
        let host = public_url.host_str().ok_or_else(|| ServiceError::internal(&"public URL has no host"))?;
        let origin = Url::parse(&public_url.origin().ascii_serialization()).map_err(|e| ServiceError::internal(&e))?;
        let webauthn =
            WebauthnBuilder::new(host, &origin).and_then(|b| b.rp_name("Carry").build()).map_err(|e| ServiceError::internal(&e))?;
        Ok(Self { webauthn })
    }

    /// Starts registering a passkey for `user`, excluding credentials they already have.
    pub fn start_registration(
        &self,
        user: Uuid,
        email: &str,
        display_name: &str,
        existing: Vec<CredentialID>,
    ) -> ServiceResult<(CreationChallengeResponse, PasskeyRegistration)> {
        let exclude = if existing.is_empty() { None } else { Some(existing) };
        let (mut options, state) =
            self.webauthn.start_passkey_registration(user, email, display_name, exclude).map_err(|e| ServiceError::internal(&e))?;
        // Carry signs people in without asking for their address first, which needs a credential
        // the authenticator can find by itself. Platform and synced passkeys all are.
        if let Some(sel) = options.public_key.authenticator_selection.as_mut() {
            sel.resident_key = Some(ResidentKeyRequirement::Required);
            sel.require_resident_key = true;
            sel.user_verification = UserVerificationPolicy::Required;
        }
        Ok((options, state))
    }

    /// Checks the browser's answer to a registration.
    pub fn finish_registration(&self, response_json: &str, state: &PasskeyRegistration) -> ServiceResult<Passkey> {
        let response: RegisterPublicKeyCredential = serde_json::from_str(response_json).map_err(|e| {
            tracing::info!(error = %e, "passkey registration response did not parse");
            ServiceError::PasskeyFailed
        })?;
        self.webauthn.finish_passkey_registration(&response, state).map_err(|e| {
            tracing::info!(error = %e, "passkey registration refused");
            ServiceError::PasskeyFailed
        })
    }

    /// Starts a sign-in that lets the authenticator offer any of its Carry passkeys.
    pub fn start_sign_in(&self) -> ServiceResult<(RequestChallengeResponse, DiscoverableAuthentication)> {
        self.webauthn.start_discoverable_authentication().map_err(|e| ServiceError::internal(&e))
    }

    /// Reads which user and credential a sign-in response claims (not yet verified).
    pub fn identify(&self, response_json: &str) -> ServiceResult<(PublicKeyCredential, Uuid, CredentialID)> {
        let response: PublicKeyCredential = serde_json::from_str(response_json).map_err(|e| {
            tracing::info!(error = %e, "passkey sign-in response did not parse");
            ServiceError::PasskeyFailed
        })?;
        let (user, cred) = self.webauthn.identify_discoverable_authentication(&response).map_err(|e| {
            tracing::info!(error = %e, "passkey sign-in response names no user");
            ServiceError::PasskeyFailed
        })?;
        let cred = cred.to_vec();
        Ok((response, user, cred))
    }

    /// Verifies the signature, origin, challenge and user verification, and returns the
    /// passkey with its counter updated when that changed.
    pub fn finish_sign_in(
        &self,
        response: &PublicKeyCredential,
        state: DiscoverableAuthentication,
        mut key: Passkey,
    ) -> ServiceResult<(Passkey, bool)> {
        let result = self.webauthn.finish_discoverable_authentication_v2(response, state, &key).map_err(|e| {
            tracing::info!(error = %e, "passkey sign-in refused");
            ServiceError::PasskeyFailed
        })?;
        if !result.user_verified() {
            return Err(ServiceError::PasskeyFailed);
        }
        let changed = key.update_credential(&result).unwrap_or(false);
        Ok((key, changed))
    }
}

/// The text form of a credential id used in the store: base64url without padding.
pub fn credential_text(id: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}
