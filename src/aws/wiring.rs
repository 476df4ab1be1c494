//! The trace path's read of one REST API: GetResources (`embed=methods`)
//! and GetAuthorizers, into the project's [`ApiWiring`].

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tracing::{debug, instrument, warn};

use crate::model::AccountRegion;
use crate::report::{chain, ErrorEntry, ErrorKind};
use crate::trace_path::{ApiWiring, Authorizer, Integration};

/// GetResources and GetAuthorizers return at most 500 items per page.
const PAGE_LIMIT: i32 = 500;

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
}

impl From<&WiringError> for ErrorEntry {
    fn from(e: &WiringError) -> Self {
        let WiringError::Call {
            at,
            api_id,
            operation,
            source,
        } = e;
        let kind = if *operation == "GetResources" {
            ErrorKind::GetResources
        } else {
            ErrorKind::GetAuthorizers
        };
        Self {
            api_id: Some(api_id.clone()),
            code: source.code().map(str::to_owned),
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
    let mut wiring = ApiWiring::default();
    let mut pages = walk
        .get_resources()
        .rest_api_id(api_id)
        .embed("methods")
        .limit(PAGE_LIMIT)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| fail("GetResources")(e.into()))?;
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
        loop {
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
            match page.position() {
                Some(p) if !p.is_empty() && !page.items().is_empty() => {
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
