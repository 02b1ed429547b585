//! The SDK's default HTTPS client, connecting (and reading the trusted roots) when a request
//! first needs it rather than when a client is built.
//!
//! The SDK builds its HTTPS connector as soon as a client is constructed
//! (`validate_base_client_config`), so that the platform's trusted roots are read then:
//! every certificate file of `/etc/ssl/certs`, parsed. `aws_config::load()` constructs an
//! STS client for the web-identity credential provider, which a function with credentials in
//! its environment never calls, and `Client::new` the DynamoDB one: that was most of
//! zoom-webhook's cold start (`cargo bench -p zcc-bench --bench cold_start`). Answering a URL
//! challenge needs no connection at all; storing an event needs the roots for its first call
//! to DynamoDB, and reads them then.

use aws_config::BehaviorVersion;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_runtime_api::client::runtime_plugin::RuntimePlugin;

/// The SDK's own default HTTPS client (rustls with aws-lc, proxies from the environment),
/// unchanged but for when it builds its connector.
#[derive(Debug)]
struct ConnectOnFirstUse(SharedHttpClient);

impl HttpClient for ConnectOnFirstUse {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        // Built once per distinct settings and cached by the inner client.
        self.0.http_connector(settings, components)
    }

    // `validate_base_client_config` is left at its default (nothing to check): the inner
    // client's builds the connector there.

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// The default HTTPS client of the SDK, for `ConfigLoader::http_client`, that connects on
/// first use. `None` if this build has no default client (then leave the SDK's default).
pub fn https_client() -> Option<SharedHttpClient> {
    let plugin = aws_smithy_runtime::client::defaults::default_http_client_plugin_v2(
        BehaviorVersion::latest(),
    )?;
    let inner = plugin
        .runtime_components(&RuntimeComponentsBuilder::new("zcc-connect-on-first-use"))
        .http_client()?;
    Some(SharedHttpClient::new(ConnectOnFirstUse(inner)))
}
