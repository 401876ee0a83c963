//! The registry in S3 (`s3://bucket/prefix`), through `object_store`: signing, credentials and
//! region come from the standard AWS environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`, `AWS_REGION`/`AWS_DEFAULT_REGION`, container and web-identity
//! credentials), and `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_S3`) points it at another S3 API,
//! over plain HTTP only when that endpoint is on loopback.
//!
//! `object_store` is async; a current-thread tokio runtime owned by the store drives each call to
//! completion, so the rest of the host stays synchronous.

use super::{Condition, Document, RegistryError, Store, Version, Versioned, Written};
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, ObjectStore, PutMode, PutOptions, PutPayload, UpdateVersion};

/// A registry under `prefix` in an S3 bucket.
#[derive(Debug)]
pub struct S3Store {
    url: String,
    prefix: String,
    client: AmazonS3,
    runtime: tokio::runtime::Runtime,
}

/// `s3://bucket/prefix` split into bucket and prefix (without surrounding slashes).
pub fn parse_url(url: &str) -> Result<(String, String), RegistryError> {
    let invalid = |reason: &str| RegistryError::Url {
        url: url.into(),
        reason: reason.into(),
    };
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| invalid("it must start with s3://, e.g. s3://my-bucket/fleet/prod"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(invalid("it names no bucket"));
    }
    Ok((bucket.to_owned(), prefix.trim_matches('/').to_owned()))
}

/// Whether `endpoint` is a plain-HTTP URL of this machine, the only place HTTP is allowed.
fn is_loopback_http(endpoint: &str) -> bool {
    let Some(rest) = endpoint.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl S3Store {
    /// The registry at `url`, configured from the environment.
    pub fn open(url: &str) -> Result<Self, RegistryError> {
        let (bucket, prefix) = parse_url(url)?;
        // HTTPS to S3 goes through rustls with ring (see Cargo.toml), its provider for the
        // process; an earlier store may have installed it already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(&bucket);
        let endpoint = [AmazonS3ConfigKey::S3Endpoint, AmazonS3ConfigKey::Endpoint]
            .iter()
            .find_map(|key| builder.get_config_value(key));
        if let Some(endpoint) = endpoint.filter(|e| is_loopback_http(e)) {
            builder = builder.with_endpoint(endpoint).with_allow_http(true);
        }
        let client = builder.build().map_err(|e| RegistryError::Url {
            url: url.into(),
            reason: e.to_string(),
        })?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| RegistryError::Url {
                url: url.into(),
                reason: format!("cannot start the I/O runtime: {e}"),
            })?;
        Ok(Self {
            url: url.trim_end_matches('/').to_owned(),
            prefix,
            client,
            runtime,
        })
    }

    fn key(&self, document: Document) -> ObjectPath {
        match self.prefix.as_str() {
            "" => ObjectPath::from(document.file_name()),
            prefix => ObjectPath::from(format!("{prefix}/{}", document.file_name())),
        }
    }

    fn failure(
        &self,
        document: Document,
        operation: &'static str,
        source: object_store::Error,
    ) -> RegistryError {
        RegistryError::S3 {
            location: self.locate(document),
            operation,
            source: Box::new(source),
        }
    }
}

impl Store for S3Store {
    fn locate(&self, document: Document) -> String {
        format!("{}/{}", self.url, document.file_name())
    }

    fn read(&self, document: Document) -> Result<Option<Versioned>, RegistryError> {
        let key = self.key(document);
        let result = self.runtime.block_on(async {
            let got = self.client.get_opts(&key, GetOptions::default()).await?;
            let e_tag = got.meta.e_tag.clone();
            let bytes = got.bytes().await?;
            Ok::<_, object_store::Error>((e_tag, bytes))
        });
        let (e_tag, bytes) = match result {
            Ok(found) => found,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.failure(document, "read", e)),
        };
        let version = e_tag.ok_or_else(|| {
            self.failure(
                document,
                "read",
                object_store::Error::Generic {
                    store: "S3",
                    source: "the response carries no ETag, so the object cannot be updated conditionally"
                        .into(),
                },
            )
        })?;
        let text = String::from_utf8(bytes.to_vec()).map_err(|_| RegistryError::NotText {
            location: self.locate(document),
        })?;
        Ok(Some(Versioned {
            text,
            version: Version(version),
        }))
    }

    fn write(&self, document: Document, text: &str, condition: &Condition) -> Result<Written, RegistryError> {
        let mode = match condition {
            Condition::Absent => PutMode::Create,
            Condition::Unchanged(Version(e_tag)) => PutMode::Update(UpdateVersion {
                e_tag: Some(e_tag.clone()),
                version: None,
            }),
        };
        let options = PutOptions {
            mode,
            ..PutOptions::default()
        };
        let payload = PutPayload::from(text.as_bytes().to_vec());
        let key = self.key(document);
        match self
            .runtime
            .block_on(self.client.put_opts(&key, payload, options))
        {
            Ok(_) => Ok(Written::Written),
            Err(object_store::Error::Precondition { .. } | object_store::Error::AlreadyExists { .. }) => {
                Ok(Written::Conflict)
            }
            Err(e) => Err(self.failure(document, "write", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_bucket_and_an_optional_prefix() {
        assert_eq!(
            parse_url("s3://b/fleet/prod/").unwrap(),
            ("b".into(), "fleet/prod".into())
        );
        assert_eq!(parse_url("s3://b").unwrap(), ("b".into(), String::new()));
        assert!(parse_url("https://b/x").is_err());
        assert!(parse_url("s3:///x").is_err());
    }

    #[test]
    fn plain_http_is_only_for_loopback() {
        assert!(is_loopback_http("http://127.0.0.1:5000"));
        assert!(is_loopback_http("http://localhost:9000/"));
        assert!(!is_loopback_http("http://10.0.0.1:5000"));
        assert!(!is_loopback_http("http://127.0.0.1.example.com"));
        assert!(!is_loopback_http("https://127.0.0.1:5000"));
    }

    /// The HTTPS client needs a crypto provider for rustls (ring, installed on open): without
    /// it, building the client panics. Opening makes no request.
    #[test]
    fn a_store_in_aws_opens_with_tls_set_up() {
        S3Store::open("s3://tenant-host-registry/fleet").unwrap();
    }
}
