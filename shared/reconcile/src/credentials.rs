//! A Server-to-Server OAuth app's credentials, from the environment (`zcc reconcile`) or from
//! the Secrets Manager secret (the scheduled function).

use std::fmt;

use serde::Deserialize;
use zcc_shared::settings;

use crate::ReconcileError;

pub const DEFAULT_API_URL: &str = "https://api.zoom.us/v2";
pub const DEFAULT_OAUTH_URL: &str = "https://zoom.us/oauth/token";

#[derive(Clone)]
pub struct ZoomCredentials {
    pub account_id: String,
    pub client_id: String,
    client_secret: String,
    /// The Marketplace app whose failed webhook deliveries to recover; without it the
    /// recover step is skipped (with a note).
    pub app_id: Option<String>,
    /// `https://api.zoom.us/v2` unless a stand-in is used.
    pub api_url: String,
    pub oauth_url: String,
}

/// Never shows the client secret, so the credentials cannot leak into logs.
impl fmt::Debug for ZoomCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZoomCredentials")
            .field("account_id", &self.account_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("app_id", &self.app_id)
            .field("api_url", &self.api_url)
            .field("oauth_url", &self.oauth_url)
            .finish()
    }
}

#[derive(Deserialize)]
struct SecretJson {
    account_id: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    app_id: Option<String>,
}

fn present(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl ZoomCredentials {
    pub fn new(
        account_id: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        app_id: Option<String>,
        api_url: Option<String>,
        oauth_url: Option<String>,
    ) -> Self {
        Self {
            account_id: account_id.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            app_id: present(app_id),
            api_url: present(api_url)
                .unwrap_or_else(|| DEFAULT_API_URL.to_owned())
                .trim_end_matches('/')
                .to_owned(),
            oauth_url: present(oauth_url).unwrap_or_else(|| DEFAULT_OAUTH_URL.to_owned()),
        }
    }

    /// `ZOOM_ACCOUNT_ID`, `ZOOM_CLIENT_ID`, `ZOOM_CLIENT_SECRET` (required), `ZOOM_APP_ID`
    /// (optional), `ZOOM_API_URL` and `ZOOM_OAUTH_URL` (Zoom's own by default).
    pub fn from_env() -> Result<Self, ReconcileError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`from_env`](Self::from_env), reading variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ReconcileError> {
        let required = |name: &'static str| {
            present(lookup(name)).ok_or(ReconcileError::MissingCredential(name))
        };
        Ok(Self::new(
            required(settings::ZOOM_ACCOUNT_ID)?,
            required(settings::ZOOM_CLIENT_ID)?,
            required(settings::ZOOM_CLIENT_SECRET)?,
            lookup(settings::ZOOM_APP_ID),
            lookup(settings::ZOOM_API_URL),
            lookup(settings::ZOOM_OAUTH_URL),
        ))
    }

    /// The Secrets Manager secret: `{"account_id", "client_id", "client_secret", "app_id"?}`.
    pub fn from_secret_json(
        json: &str,
        api_url: Option<String>,
        oauth_url: Option<String>,
    ) -> Result<Self, ReconcileError> {
        // serde_json's message names line and column only, never the content.
        let secret: SecretJson =
            serde_json::from_str(json).map_err(|e| ReconcileError::BadSecret(e.to_string()))?;
        let required = |value: Option<String>, name: &'static str| {
            present(value).ok_or(ReconcileError::MissingCredential(name))
        };
        Ok(Self::new(
            required(
                secret.account_id,
                "account_id (in the Zoom credentials secret)",
            )?,
            required(
                secret.client_id,
                "client_id (in the Zoom credentials secret)",
            )?,
            required(
                secret.client_secret,
                "client_secret (in the Zoom credentials secret)",
            )?,
            secret.app_id,
            api_url,
            oauth_url,
        ))
    }

    pub(crate) fn client_secret(&self) -> &str {
        &self.client_secret
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_variable_is_named_and_the_secret_never_shown() {
        let env = |name: &str| match name {
            "ZOOM_ACCOUNT_ID" => Some("acc".to_owned()),
            "ZOOM_CLIENT_ID" => Some("cid".to_owned()),
            _ => None,
        };
        let err = ZoomCredentials::from_lookup(env).unwrap_err();
        assert!(matches!(
            err,
            ReconcileError::MissingCredential("ZOOM_CLIENT_SECRET")
        ));
        assert!(err.to_string().contains("ZOOM_CLIENT_SECRET"));
        let c = ZoomCredentials::from_secret_json(
            r#"{"account_id":"a","client_id":"c","client_secret":"hunter2"}"#,
            None,
            None,
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(c.api_url, DEFAULT_API_URL);
        assert_eq!(c.oauth_url, DEFAULT_OAUTH_URL);
        assert_eq!(c.app_id, None);
        let err = ZoomCredentials::from_secret_json(r#"{"account_id":"a"}"#, None, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("client_id"), "{err}");
        let err = ZoomCredentials::from_secret_json("hunter2", None, None)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }
}
