//! Every setting the functions and `zcc local` read from their environment
//! (docs/src/reference/environment.md): the one place their names are written, and how each
//! is read, once at cold start. It imports nothing of the crate: everything else reads its
//! settings through here.

use std::time::Duration;

use zcc_domain::flow::FlowAuthorizer;
use zcc_domain::signature::{DEFAULT_TOLERANCE_SECS, SecretTokens, SignatureVerifier};

pub const TABLE_NAME: &str = "TABLE_NAME";
pub const EVENT_BUS_NAME: &str = "EVENT_BUS_NAME";
pub const ZOOM_WEBHOOK_SECRET_TOKEN: &str = "ZOOM_WEBHOOK_SECRET_TOKEN";
pub const FLOW_AUTH_TOKEN: &str = "FLOW_AUTH_TOKEN";
pub const ZOOM_SIGNATURE_TOLERANCE_SECS: &str = "ZOOM_SIGNATURE_TOLERANCE_SECS";
/// Days to keep raw event items (DynamoDB TTL); unset or 0 keeps them forever.
pub const EVENT_RETENTION_DAYS: &str = "EVENT_RETENTION_DAYS";
/// The ARN (or name) of the secret holding the Secret Token(s); preferred over
/// `ZOOM_WEBHOOK_SECRET_TOKEN` when set.
pub const ZOOM_WEBHOOK_SECRET_ARN: &str = "ZOOM_WEBHOOK_SECRET_ARN";
/// The ARN (or name) of the secret holding the Flow token(s); preferred over `FLOW_AUTH_TOKEN`.
pub const FLOW_AUTH_TOKEN_SECRET_ARN: &str = "FLOW_AUTH_TOKEN_SECRET_ARN";
/// Seconds a secret read from Secrets Manager is used before it is read again (default 300).
pub const SECRET_REFRESH_SECS: &str = "SECRET_REFRESH_SECS";
/// The stack name the functions' metrics carry as a dimension.
pub const METRICS_STACK: &str = "METRICS_STACK";
/// The reconcile function's secret (ARN or name) holding a Zoom Server-to-Server OAuth app's
/// credentials as JSON: `{"account_id", "client_id", "client_secret", "app_id"}`.
pub const ZOOM_API_SECRET_ARN: &str = "ZOOM_API_SECRET_ARN";
/// `zcc reconcile`'s credentials, one variable each (the function reads its secret instead).
pub const ZOOM_ACCOUNT_ID: &str = "ZOOM_ACCOUNT_ID";
pub const ZOOM_CLIENT_ID: &str = "ZOOM_CLIENT_ID";
pub const ZOOM_CLIENT_SECRET: &str = "ZOOM_CLIENT_SECRET";
/// The Marketplace app whose failed webhook deliveries reconcile recovers (optional).
pub const ZOOM_APP_ID: &str = "ZOOM_APP_ID";
/// Zoom's API and OAuth endpoints, when not Zoom's own (the tests' stand-in); unset in AWS.
pub const ZOOM_API_URL: &str = "ZOOM_API_URL";
pub const ZOOM_OAUTH_URL: &str = "ZOOM_OAUTH_URL";
/// The region Lambda runs the function in (`AWS_DEFAULT_REGION` is read when it is unset).
pub const AWS_REGION: &str = "AWS_REGION";
pub const AWS_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
/// Every service's endpoint; `AWS_ENDPOINT_URL_<SERVICE>` (`DYNAMODB`, `SECRETS_MANAGER`,
/// `EVENTBRIDGE`) for one service. Unset in Lambda.
pub const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {0} holds no token (an empty comma-separated list)")]
    NoTokens(&'static str),
    #[error("environment variable {0} must be a whole number, got `{1}`")]
    NotANumber(&'static str, String),
}

/// Where settings come from: the process environment, or a map in tests and `zcc local`.
pub trait Lookup {
    fn get(&self, name: &str) -> Option<String>;
}

pub struct ProcessEnv;

impl Lookup for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl<F: Fn(&str) -> Option<String>> Lookup for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

fn required(env: &impl Lookup, name: &'static str) -> Result<String, ConfigError> {
    env.get(name).ok_or(ConfigError::Missing(name))
}

fn number<T: std::str::FromStr>(
    env: &impl Lookup,
    name: &'static str,
) -> Result<Option<T>, ConfigError> {
    env.get(name)
        .map(|v| {
            v.trim()
                .parse()
                .map_err(|_| ConfigError::NotANumber(name, v.clone()))
        })
        .transpose()
}

/// The EventBridge bus the notifier puts notifications on.
pub fn event_bus_name(env: &impl Lookup) -> Result<String, ConfigError> {
    required(env, EVENT_BUS_NAME)
}

pub fn table_name(env: &impl Lookup) -> Result<String, ConfigError> {
    required(env, TABLE_NAME)
}

pub fn retention_days(env: &impl Lookup) -> Result<Option<u32>, ConfigError> {
    Ok(number::<u32>(env, EVENT_RETENTION_DAYS)?.filter(|d| *d > 0))
}

pub fn webhook_verifier(env: &impl Lookup) -> Result<SignatureVerifier, ConfigError> {
    let list = required(env, ZOOM_WEBHOOK_SECRET_TOKEN)?;
    // The tokens are checked first: with both wrong, the missing secret is what to fix.
    SecretTokens::from_list(&list).map_err(|_| ConfigError::NoTokens(ZOOM_WEBHOOK_SECRET_TOKEN))?;
    verifier_maker(tolerance(env)?)(&list)
}

pub fn tolerance(env: &impl Lookup) -> Result<u64, ConfigError> {
    Ok(number(env, ZOOM_SIGNATURE_TOLERANCE_SECS)?.unwrap_or(DEFAULT_TOLERANCE_SECS))
}

/// How a token list (the text of a secret) becomes the webhook functions' verifier.
pub fn verifier_maker(
    tolerance: u64,
) -> impl Fn(&str) -> Result<SignatureVerifier, ConfigError> + Send + Sync + 'static {
    move |list: &str| {
        let tokens = SecretTokens::from_list(list)
            .map_err(|_| ConfigError::NoTokens(ZOOM_WEBHOOK_SECRET_TOKEN))?;
        Ok(SignatureVerifier::new(tokens, tolerance))
    }
}

pub fn make_authorizer(list: &str) -> Result<FlowAuthorizer, ConfigError> {
    let tokens =
        SecretTokens::from_list(list).map_err(|_| ConfigError::NoTokens(FLOW_AUTH_TOKEN))?;
    Ok(FlowAuthorizer::new(&tokens))
}

pub fn flow_authorizer(env: &impl Lookup) -> Result<FlowAuthorizer, ConfigError> {
    make_authorizer(&required(env, FLOW_AUTH_TOKEN)?)
}

/// How long a secret read from Secrets Manager is used before it is read again, if set.
pub fn secret_refresh(env: &impl Lookup) -> Result<Option<Duration>, ConfigError> {
    Ok(number(env, SECRET_REFRESH_SECS)?.map(Duration::from_secs))
}

/// The stack name metrics carry, if set.
pub fn metrics_stack(env: &impl Lookup) -> Option<String> {
    env.get(METRICS_STACK)
}

pub fn region(env: &impl Lookup) -> Option<String> {
    env.get(AWS_REGION).or_else(|| env.get(AWS_DEFAULT_REGION))
}

/// A service's endpoint, as the SDK's own loader reads it: `AWS_ENDPOINT_URL_<SERVICE>`,
/// else `AWS_ENDPOINT_URL`.
pub fn endpoint_url(env: &impl Lookup, service: &str) -> Option<String> {
    env.get(&format!("{AWS_ENDPOINT_URL}_{service}"))
        .or_else(|| env.get(AWS_ENDPOINT_URL))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Lookup {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn missing_and_malformed_settings_are_named() {
        let empty = env(&[]);
        assert_eq!(table_name(&empty), Err(ConfigError::Missing(TABLE_NAME)));
        assert_eq!(
            webhook_verifier(&empty).unwrap_err(),
            ConfigError::Missing(ZOOM_WEBHOOK_SECRET_TOKEN)
        );
        let bad = env(&[
            (ZOOM_WEBHOOK_SECRET_TOKEN, " , "),
            (ZOOM_SIGNATURE_TOLERANCE_SECS, "5m"),
            (EVENT_RETENTION_DAYS, "-1"),
        ]);
        assert_eq!(
            webhook_verifier(&bad).unwrap_err(),
            ConfigError::NoTokens(ZOOM_WEBHOOK_SECRET_TOKEN)
        );
        assert!(matches!(
            retention_days(&bad),
            Err(ConfigError::NotANumber(EVENT_RETENTION_DAYS, _))
        ));
    }

    #[test]
    fn retention_defaults_to_forever() {
        assert_eq!(retention_days(&env(&[])), Ok(None));
        assert_eq!(
            retention_days(&env(&[(EVENT_RETENTION_DAYS, "0")])),
            Ok(None)
        );
        assert_eq!(
            retention_days(&env(&[(EVENT_RETENTION_DAYS, "90")])),
            Ok(Some(90))
        );
    }
}
