//! The S3 client's configuration from the usual AWS configuration, with path-style addressing
//! where virtual-hosted buckets cannot work.

use std::net::IpAddr;

/// How bucket names are put in request URLs.
///
/// ```
/// use envelope_s3::client::AddressingStyle;
///
/// assert_eq!(AddressingStyle::default(), AddressingStyle::Auto);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AddressingStyle {
    /// Path style when the endpoint is an IP address or `localhost` (S3-compatible servers and
    /// emulators, which have no per-bucket DNS names); the SDK's default otherwise.
    #[default]
    Auto,
    /// Always `https://endpoint/bucket/key`.
    Path,
    /// The SDK's default (virtual-hosted style on AWS).
    Virtual,
}

/// An `aws_sdk_s3::Config` from `sdk` (region, credentials, and the endpoint from
/// `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL` or the profile's `services` section, as aws-config
/// resolves them), with path-style addressing as `style` says.
///
/// ```no_run
/// use envelope_s3::client::{s3_config, AddressingStyle};
///
/// # async fn demo() {
/// let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
/// let s3 = aws_sdk_s3::Client::from_conf(s3_config(&sdk, AddressingStyle::Auto));
/// # let _ = s3;
/// # }
/// ```
pub fn s3_config(sdk: &aws_config::SdkConfig, style: AddressingStyle) -> aws_sdk_s3::Config {
    let builder = aws_sdk_s3::config::Builder::from(sdk);
    let path_style = match style {
        AddressingStyle::Path => true,
        AddressingStyle::Virtual => false,
        AddressingStyle::Auto => configured_endpoint(sdk).as_deref().is_some_and(is_address_or_localhost),
    };
    builder.force_path_style(path_style).build()
}

/// The endpoint the SDK will use for S3, as far as the environment and `sdk` tell.
fn configured_endpoint(sdk: &aws_config::SdkConfig) -> Option<String> {
    ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
        .or_else(|| sdk.endpoint_url().map(str::to_owned))
}

/// Whether the URL's host is an IP address (v4 or `[v6]`) or `localhost`.
pub(crate) fn is_address_or_localhost(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_localhost_get_path_style() {
        for url in [
            "http://127.0.0.1:9000",
            "http://127.0.0.1:9000/",
            "https://10.1.2.3",
            "http://[::1]:4566/x",
            "http://localhost:4566",
            "http://LOCALHOST",
            "http://user@192.168.0.1:80",
        ] {
            assert!(is_address_or_localhost(url), "{url}");
        }
        for url in ["https://s3.us-east-1.amazonaws.com", "https://minio.example:9000", "http://localhost.evil.example"]
        {
            assert!(!is_address_or_localhost(url), "{url}");
        }
    }
}
