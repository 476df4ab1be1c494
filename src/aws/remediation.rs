//! API Gateway writes for remediation: turn X-Ray tracing on for one stage
//! (UpdateStage, one patch operation: no redeploy, no routing change), then
//! read the stage back to confirm. Also reads one stage, for a custom action
//! (the stage may have changed since the finding was written).

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, Utc};

use crate::model::{AccountId, StageRecord};
use crate::remediate::decide::{PATCH_PATH, PATCH_VALUE};
use crate::report::{chain, ErrorEntry, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum RemediationError {
    #[error("account {account} region {region} API {api_id} stage {stage}: apigateway:{operation} failed")]
    Call {
        account: AccountId,
        region: String,
        api_id: String,
        stage: String,
        operation: &'static str,
        #[source]
        source: aws_sdk_apigateway::Error,
    },
    #[error("account {account} region {region} API {api_id} stage {stage}: tracing is still off after UpdateStage")]
    NotConfirmed {
        account: AccountId,
        region: String,
        api_id: String,
        stage: String,
    },
}

impl RemediationError {
    pub fn code(&self) -> Option<String> {
        match self {
            Self::Call { source, .. } => source.code().map(str::to_owned),
            Self::NotConfirmed { .. } => None,
        }
    }
}

impl From<&RemediationError> for ErrorEntry {
    fn from(e: &RemediationError) -> Self {
        let (RemediationError::Call {
            account,
            region,
            api_id,
            ..
        }
        | RemediationError::NotConfirmed {
            account,
            region,
            api_id,
            ..
        }) = e;
        Self {
            api_id: Some(api_id.clone()),
            code: e.code(),
            ..Self::new(
                ErrorKind::Remediation,
                account.as_str(),
                Some(region),
                chain(e),
            )
        }
    }
}

/// UpdateStage `op=replace,path=/tracingEnabled,value=true`, then GetStage:
/// `Ok` only when the stage reads back with tracing on.
pub async fn enable_tracing(
    client: &aws_sdk_apigateway::Client,
    account: &AccountId,
    region: &str,
    api_id: &str,
    stage: &str,
) -> Result<(), RemediationError> {
    use aws_sdk_apigateway::types::{Op, PatchOperation};
    let fail = |operation, source: aws_sdk_apigateway::Error| RemediationError::Call {
        account: account.clone(),
        region: region.to_owned(),
        api_id: api_id.to_owned(),
        stage: stage.to_owned(),
        operation,
        source,
    };
    client
        .update_stage()
        .rest_api_id(api_id)
        .stage_name(stage)
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path(PATCH_PATH)
                .value(PATCH_VALUE)
                .build(),
        )
        .send()
        .await
        .map_err(|e| fail("UpdateStage", e.into()))?;
    let after = client
        .get_stage()
        .rest_api_id(api_id)
        .stage_name(stage)
        .send()
        .await
        .map_err(|e| fail("GetStage", e.into()))?;
    if after.tracing_enabled() {
        Ok(())
    } else {
        Err(RemediationError::NotConfirmed {
            account: account.clone(),
            region: region.to_owned(),
            api_id: api_id.to_owned(),
            stage: stage.to_owned(),
        })
    }
}

/// One stage as it is now; `None` when it (or its API) is gone.
pub async fn get_stage(
    client: &aws_sdk_apigateway::Client,
    account: &AccountId,
    region: &str,
    api_id: &str,
    stage: &str,
) -> Result<Option<StageRecord>, RemediationError> {
    let out = match client
        .get_stage()
        .rest_api_id(api_id)
        .stage_name(stage)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            let e: aws_sdk_apigateway::Error = e.into();
            if matches!(e, aws_sdk_apigateway::Error::NotFoundException(_)) {
                return Ok(None);
            }
            return Err(RemediationError::Call {
                account: account.clone(),
                region: region.to_owned(),
                api_id: api_id.to_owned(),
                stage: stage.to_owned(),
                operation: "GetStage",
                source: e,
            });
        }
    };
    let time = |t: Option<&aws_sdk_apigateway::primitives::DateTime>| {
        t.and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos()))
    };
    Ok(Some(StageRecord {
        account_id: account.clone(),
        region: region.to_owned(),
        api_id: api_id.to_owned(),
        api_name: None,
        stage_name: out.stage_name().unwrap_or(stage).to_owned(),
        deployment_id: out.deployment_id().map(str::to_owned),
        tracing_enabled: out.tracing_enabled(),
        description: out
            .description()
            .filter(|d| !d.is_empty())
            .map(str::to_owned),
        cache_cluster_enabled: out.cache_cluster_enabled(),
        web_acl_arn: out.web_acl_arn().map(str::to_owned),
        created_date: time(out.created_date()),
        last_updated_date: time(out.last_updated_date()),
        tags: out
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
    }))
}
