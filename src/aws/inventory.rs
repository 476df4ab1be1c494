//! API Gateway (REST, v1) inventory of one account-region: every API, every
//! stage. Returns the project's own `StageRecord`s.

use aws_sdk_apigateway::primitives::DateTime as SdkDateTime;
use aws_sdk_apigateway::types::Stage;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::{stream, FutureExt, StreamExt};
use tracing::{debug, instrument, warn};

use crate::model::{AccountRegion, StageRecord, StageRef};
use crate::report::{chain, ErrorEntry, ErrorKind};

/// GetRestApis returns at most 500 items per page.
const PAGE_LIMIT: i32 = 500;
/// GetStages calls in flight per account-region. The client's pacer sets
/// the rate; this only hides request latency so the rate is reached.
const STAGE_CALLS_IN_FLIGHT: usize = 4;

/// GetRestApis pages read per account-region: 50,000 APIs, far above
/// API Gateway's quota (600 REST APIs per region). A service answering
/// ever-new positions stops here, as an inventory error (nothing archived).
pub const MAX_API_PAGES: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("{at}: apigateway:GetRestApis failed")]
    GetRestApis {
        at: AccountRegion,
        #[source]
        source: aws_sdk_apigateway::Error,
    },
    #[error("{at}: apigateway:GetRestApis did not stop paging after {MAX_API_PAGES} pages; nothing is archived here this run")]
    Paging { at: AccountRegion },
    #[error("{at} API {api_id}: apigateway:GetStages failed")]
    GetStages {
        at: AccountRegion,
        api_id: String,
        #[source]
        source: aws_sdk_apigateway::Error,
    },
}

impl InventoryError {
    pub fn code(&self) -> Option<String> {
        match self {
            Self::GetRestApis { source, .. } | Self::GetStages { source, .. } => {
                source.code().map(str::to_owned)
            }
            Self::Paging { .. } => None,
        }
    }

    pub fn api_id(&self) -> Option<&str> {
        match self {
            Self::GetStages { api_id, .. } => Some(api_id),
            Self::GetRestApis { .. } | Self::Paging { .. } => None,
        }
    }
}

impl From<&InventoryError> for ErrorEntry {
    fn from(e: &InventoryError) -> Self {
        let (kind, at) = match e {
            InventoryError::GetRestApis { at, .. } | InventoryError::Paging { at } => {
                (ErrorKind::GetRestApis, at)
            }
            InventoryError::GetStages { at, .. } => (ErrorKind::GetStages, at),
        };
        Self {
            api_id: e.api_id().map(str::to_owned),
            code: e.code(),
            ..Self::at(kind, at, chain(e))
        }
    }
}

/// What one account-region holds. `complete` is false when any call
/// failed: the stages found are still reported, but nothing may be
/// concluded from a stage's absence.
#[derive(Debug, Default)]
pub struct Inventory {
    pub apis: usize,
    pub stages: Vec<StageRecord>,
    pub errors: Vec<InventoryError>,
}

impl Inventory {
    pub fn complete(&self) -> bool {
        self.errors.is_empty()
    }

    /// Adds another inventory of the same account-region (another API).
    pub fn absorb(&mut self, other: Inventory) {
        self.apis += other.apis;
        self.stages.extend(other.stages);
        self.errors.extend(other.errors);
    }
}

#[derive(Debug, Clone)]
struct ApiSeen {
    id: String,
    name: Option<String>,
}

#[instrument(skip_all, fields(account = %at.account, region = %at.region))]
pub async fn list_stages(client: &aws_sdk_apigateway::Client, at: &AccountRegion) -> Inventory {
    let mut inv = Inventory::default();
    let mut apis = Vec::new();
    let mut pages = client
        .get_rest_apis()
        .limit(PAGE_LIMIT)
        .into_paginator()
        .send();
    // The paginator ends on a repeated position; the count on ever-new ones.
    let mut read_pages = 0;
    loop {
        read_pages += 1;
        if read_pages > MAX_API_PAGES {
            let err = InventoryError::Paging { at: at.clone() };
            warn!(error = %crate::report::chain(&err), "inventory failed");
            inv.errors.push(err);
            return inv;
        }
        match pages.next().await {
            None => break,
            Some(Ok(page)) => apis.extend(page.items().iter().filter_map(|api| {
                api.id().map(|id| ApiSeen {
                    id: id.to_owned(),
                    name: api.name().map(str::to_owned),
                })
            })),
            Some(Err(e)) => {
                let err = InventoryError::GetRestApis {
                    at: at.clone(),
                    source: e.into(),
                };
                warn!(error = %crate::report::chain(&err), "inventory failed");
                inv.errors.push(err);
                return inv;
            }
        }
    }
    inv.apis = apis.len();
    debug!(apis = apis.len(), "listed REST APIs");

    let mut results = stream::iter(apis)
        .map(|api| -> BoxFuture<'_, _> {
            async move {
                let out = client.get_stages().rest_api_id(&api.id).send().await;
                (api, out)
            }
            .boxed()
        })
        .buffer_unordered(STAGE_CALLS_IN_FLIGHT);
    while let Some((api, out)) = results.next().await {
        match out {
            Ok(out) => inv
                .stages
                .extend(out.item().iter().map(|s| to_record(at, &api, s))),
            Err(e) => {
                let err = InventoryError::GetStages {
                    at: at.clone(),
                    api_id: api.id.clone(),
                    source: e.into(),
                };
                warn!(api_id = %api.id, error = %crate::report::chain(&err), "GetStages failed");
                inv.errors.push(err);
            }
        }
    }
    // Stable order: findings, reports and batches come out the same each run.
    inv.stages.sort_by(|a, b| a.place.cmp(&b.place));
    inv
}

/// One REST API's stages (a change event): a single GetStages. An API that
/// no longer exists is a complete inventory with no stage, so its findings
/// are archived.
#[instrument(skip_all, fields(account = %at.account, region = %at.region, api_id = %api_id))]
pub async fn list_api_stages(
    client: &aws_sdk_apigateway::Client,
    at: &AccountRegion,
    api_id: &str,
) -> Inventory {
    let mut inv = Inventory::default();
    let api = ApiSeen {
        id: api_id.to_owned(),
        name: None,
    };
    match client.get_stages().rest_api_id(api_id).send().await {
        Ok(out) => {
            inv.apis = 1;
            inv.stages = out.item().iter().map(|s| to_record(at, &api, s)).collect();
        }
        Err(e) => {
            let e: aws_sdk_apigateway::Error = e.into();
            if matches!(e, aws_sdk_apigateway::Error::NotFoundException(_)) {
                debug!("the API is gone");
                return inv;
            }
            let err = InventoryError::GetStages {
                at: at.clone(),
                api_id: api_id.to_owned(),
                source: e,
            };
            warn!(error = %crate::report::chain(&err), "GetStages failed");
            inv.errors.push(err);
        }
    }
    inv.stages.sort_by(|a, b| a.place.cmp(&b.place));
    inv
}

fn to_record(at: &AccountRegion, api: &ApiSeen, s: &Stage) -> StageRecord {
    StageRecord {
        place: StageRef::new(
            at.account.clone(),
            at.region,
            &api.id,
            s.stage_name().unwrap_or_default(),
        ),
        api_name: api.name.clone(),
        deployment_id: s.deployment_id().map(str::to_owned),
        // Absent in the response means false; the SDK already maps it so.
        tracing_enabled: s.tracing_enabled(),
        description: s.description().filter(|d| !d.is_empty()).map(str::to_owned),
        cache_cluster_enabled: s.cache_cluster_enabled(),
        web_acl_arn: s.web_acl_arn().map(str::to_owned),
        created_date: s.created_date().and_then(to_chrono),
        last_updated_date: s.last_updated_date().and_then(to_chrono),
        tags: s
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        variables: s
            .variables()
            .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
    }
}

fn to_chrono(t: &SdkDateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}
