//! The trace path's read of one REST API: GetResources (`embed=methods`)
//! and GetAuthorizers, into the project's [`ApiWiring`].

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tracing::{debug, instrument, warn};

use crate::model::AccountRegion;
use crate::report::{chain, ErrorEntry, ErrorKind};
use crate::trace_path::{ApiWiring, Authorizer, Integration};

/// GetResources and GetAuthorizers return at most 500 items per page.
const PAGE_LIMIT: i32 = 500;

/// Pages read of one API's resources or authorizers: 10,000 items, far
/// above API Gateway's quotas (300 resources and 10 authorizers per API).
/// A service answering ever-new positions stops here (8 s of GetResources'
/// own pace); a repeated position ends the paging at once.
pub const MAX_PAGES: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    #[error("{at} API {api_id}: apigateway:{operation} failed; the trace paths of its stages are UNKNOWN this run")]
    Call {
        at: AccountRegion,
        api_id: String,
        operation: &'static str,
        #[source]
        source: aws_sdk_apigateway::Error,
    },
    #[error("{at} API {api_id}: apigateway:{operation} did not stop paging after {MAX_PAGES} pages; the trace paths of its stages are UNKNOWN this run")]
    Pages {
        at: AccountRegion,
        api_id: String,
        operation: &'static str,
    },
}

impl WiringError {
    /// A paging overrun: that API's paths are unknown, the region is not
    /// failed (a warning, not an error).
    pub fn is_overrun(&self) -> bool {
        matches!(self, WiringError::Pages { .. })
    }
}

impl From<&WiringError> for ErrorEntry {
    fn from(e: &WiringError) -> Self {
        let (at, api_id, operation, code) = match e {
            WiringError::Call {
                at,
                api_id,
                operation,
                source,
            } => (at, api_id, *operation, source.code().map(str::to_owned)),
            WiringError::Pages {
                at,
                api_id,
                operation,
            } => (at, api_id, *operation, None),
        };
        let kind = match (e.is_overrun(), operation) {
            (true, _) => ErrorKind::PagingOverrun,
            (false, "GetResources") => ErrorKind::GetResources,
            (false, _) => ErrorKind::GetAuthorizers,
        };
        Self {
            api_id: Some(api_id.clone()),
            code,
            ..Self::at(kind, at, chain(e))
        }
    }
}

/// One API's methods and authorizers. `walk` is the client paced by
/// GetResources' own quota; `apigw` the ordinary one.
#[instrument(skip_all, fields(account = %at.account, region = %at.region, api_id = %api_id))]
pub async fn read(
    walk: &aws_sdk_apigateway::Client,
    apigw: &aws_sdk_apigateway::Client,
    at: &AccountRegion,
    api_id: &str,
) -> Result<ApiWiring, WiringError> {
    let fail = |operation: &'static str| {
        move |source: aws_sdk_apigateway::Error| {
            let err = WiringError::Call {
                at: at.clone(),
                api_id: api_id.to_owned(),
                operation,
                source,
            };
            warn!(error = %chain(&err), "trace path not read");
            err
        }
    };
    let overrun = |operation: &'static str| {
        let err = WiringError::Pages {
            at: at.clone(),
            api_id: api_id.to_owned(),
            operation,
        };
        warn!(error = %chain(&err), "trace path not read");
        err
    };
    let mut wiring = ApiWiring::default();
    // The SDK's paginator ends on a repeated position; the count ends it
    // on ever-new ones.
    let mut read_pages = 0;
    let mut pages = walk
        .get_resources()
        .rest_api_id(api_id)
        .embed("methods")
        .limit(PAGE_LIMIT)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        read_pages += 1;
        let page = page.map_err(|e| fail("GetResources")(e.into()))?;
        // The cap's last page still names a next one: no further request.
        if read_pages >= MAX_PAGES && page.position().is_some_and(|p| !p.is_empty()) {
            return Err(overrun("GetResources"));
        }
        for resource in page.items() {
            let path = resource.path().unwrap_or("/");
            let methods = resource.resource_methods().into_iter().flatten();
            for (verb, method) in methods {
                let Some(i) = method.method_integration() else {
                    continue;
                };
                wiring.integrations.push(Integration {
                    method: format!("{verb} {path}"),
                    integration_type: i.r#type().map(|t| t.as_str()).unwrap_or("").to_owned(),
                    connection_type: i.connection_type().map(|c| c.as_str().to_owned()),
                    uri: i.uri().map(str::to_owned),
                    authorizer_id: method
                        .authorizer_id()
                        .filter(|_| method.authorization_type() == Some("CUSTOM"))
                        .map(str::to_owned),
                });
            }
        }
    }
    // Only worth a call when some method uses an authorizer.
    if wiring
        .integrations
        .iter()
        .any(|i| i.authorizer_id.is_some())
    {
        let mut position: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        for read_pages in 1.. {
            if read_pages > MAX_PAGES {
                return Err(overrun("GetAuthorizers"));
            }
            let page = apigw
                .get_authorizers()
                .rest_api_id(api_id)
                .limit(PAGE_LIMIT)
                .set_position(position.take())
                .send()
                .await
                .map_err(|e| fail("GetAuthorizers")(e.into()))?;
            for a in page.items() {
                let Some(id) = a.id() else { continue };
                wiring.authorizers.insert(
                    id.to_owned(),
                    Authorizer {
                        name: a.name().unwrap_or(id).to_owned(),
                        authorizer_type: a.r#type().map(|t| t.as_str()).unwrap_or("").to_owned(),
                        uri: a.authorizer_uri().map(str::to_owned),
                    },
                );
            }
            // A position seen before would loop: the paging is over.
            match page.position() {
                Some(p)
                    if !p.is_empty() && !page.items().is_empty() && seen.insert(p.to_owned()) =>
                {
                    position = Some(p.to_owned())
                }
                _ => break,
            }
        }
    }
    wiring.integrations.sort_by(|a, b| a.method.cmp(&b.method));
    debug!(
        integrations = wiring.integrations.len(),
        authorizers = wiring.authorizers.len(),
        "read the API's wiring"
    );
    Ok(wiring)
}
