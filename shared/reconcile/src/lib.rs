//! `zcc reconcile`: what the webhooks never delivered, from Zoom's own REST API.
//!
//! Three steps over a window, in order:
//! - **recover**: the app's failed webhook deliveries (`/marketplace/apps/{appId}/webhook_logs`,
//!   kept 7 days) are replayed through the path a live webhook takes after its signature
//!   check; the event id makes a body that did arrive a duplicate;
//! - **backfill**: every engagement Zoom lists (`/contact_center/engagements`) that the table
//!   lacks gets a record from Zoom's facts (`sources` includes `zoom_api`), merged like any
//!   event, so a webhook arriving later still wins;
//! - **cross-check**: for each engagement both sides have, our figures against Zoom's.
//!
//! Everything is fetched and checked before anything is written: an answer that is not the
//! documented JSON stops the run with nothing written.

mod check;
mod credentials;
mod engine;
mod progress;
pub mod zoom;

pub use check::{Mismatch, TOLERANCE_MS};
pub use credentials::ZoomCredentials;
pub use engine::{Options, ReconcileReport, Reconciler, Window};
pub use zoom::{Pacing, RetryPolicy, ZoomClient};

/// Why a run could not be done. Each message says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(
        "{0} is not set: set it to the Server-to-Server OAuth app's value (Zoom App Marketplace → Manage → the app → App Credentials)"
    )]
    MissingCredential(&'static str),
    #[error(
        "the Zoom credentials secret is not the expected JSON ({0}): store {{\"account_id\",\"client_id\",\"client_secret\",\"app_id\"?}}"
    )]
    BadSecret(String),
    #[error(
        "Zoom refused the OAuth token request ({status}: {message}): check ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET, and that the app is a Server-to-Server OAuth app that is activated"
    )]
    OAuth { status: u16, message: String },
    #[error(
        "Zoom answered {endpoint} with {status}{}: {message}{}",
        code.map(|c| format!(" (code {c})")).unwrap_or_default(),
        hint(*status, *code)
    )]
    Zoom {
        endpoint: String,
        status: u16,
        code: Option<i64>,
        message: String,
    },
    #[error(
        "Zoom's answer to {endpoint} is not the documented JSON ({reason}); nothing was written: run again later, and report it if it persists"
    )]
    NotDocumentedJson { endpoint: String, reason: String },
    #[error(
        "Zoom could not be reached for {endpoint} ({reason}); nothing was written: check ZOOM_API_URL / ZOOM_OAUTH_URL and the network, then run again"
    )]
    Unreachable { endpoint: String, reason: String },
    #[error(
        "gave up on {endpoint} after {attempts} attempts ({last}); nothing was written: run again later"
    )]
    GaveUp {
        endpoint: String,
        attempts: u32,
        last: String,
    },
    #[error(
        "the table could not be read or written: {0}; check --table and --endpoint-url, then run again (a rerun is safe)"
    )]
    Store(#[from] zcc_shared::store::StoreError),
    #[error("{0}")]
    Usage(String),
}

fn hint(status: u16, code: Option<i64>) -> &'static str {
    match (status, code) {
        // 201: "You do not have permission to access the targeted resource" (Marketplace
        // spec, getWebhookLogs, a 401); 4711: a token without the scope (not in the specs read).
        (403, _) | (_, Some(201)) | (_, Some(4711)) => {
            "; nothing was written: add the scopes contact_center_report:read:admin (or contact_center:read:list_engagements:admin and contact_center:read:engagement:admin) and marketplace_app:read:admin to the app"
        }
        (401, _) => "; nothing was written: check the app's credentials, and that it is activated",
        (404, Some(1401)) => {
            "; nothing was written: check ZOOM_APP_ID (the Marketplace app whose webhooks we receive)"
        }
        (_, Some(1502)) => {
            "; nothing was written: Zoom keeps webhook logs 7 days, ask for a later window"
        }
        _ => "; nothing was written: run again later (a rerun is safe)",
    }
}

impl ReconcileError {
    /// A short, stable name for JSON output and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingCredential(_) => "missing_credential",
            Self::BadSecret(_) => "bad_secret",
            Self::OAuth { .. } => "oauth_refused",
            Self::Zoom { .. } => "zoom_error",
            Self::NotDocumentedJson { .. } => "not_documented_json",
            Self::Unreachable { .. } => "zoom_unreachable",
            Self::GaveUp { .. } => "zoom_gave_up",
            Self::Store(_) => "storage_error",
            Self::Usage(_) => "usage",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_says_what_to_do() {
        let zoom = |status, code| {
            ReconcileError::Zoom {
                endpoint: "GET /x".into(),
                status,
                code,
                message: "m".into(),
            }
            .to_string()
        };
        assert!(zoom(401, Some(201)).contains("marketplace_app:read:admin"));
        assert!(zoom(401, Some(124)).contains("credentials"));
        assert!(zoom(404, Some(1401)).contains("ZOOM_APP_ID"));
        assert!(zoom(404, Some(1502)).contains("7 days"));
        assert!(zoom(400, None).contains("(a rerun is safe)"));
        assert!(zoom(400, None).starts_with("Zoom answered GET /x with 400: m"));
    }
}
