//! API Gateway writes for remediation: turn X-Ray tracing on for one stage
//! (UpdateStage, one patch operation: no redeploy, no routing change), then
//! read the stage back to confirm. Also reads one stage, for a custom action
//! (the stage may have changed since the finding was written).

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, Utc};

use crate::model::{StageRecord, StageRef, PATCH_PATH, PATCH_VALUE};
use crate::report::{chain, ErrorEntry, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum RemediationError {
    #[error("{stage}: apigateway:{operation} failed")]
    Call {
        stage: StageRef,
        operation: &'static str,
        #[source]
        source: aws_sdk_apigateway::Error,
    },
    #[error("{stage}: tracing is still off after UpdateStage")]
    NotConfirmed { stage: StageRef },
}

impl RemediationError {
    pub fn code(&self) -> Option<String> {
        match self {
            Self::Call { source, .. } => source.code().map(str::to_owned),
            Self::NotConfirmed { .. } => None,
        }
    }

    pub fn stage(&self) -> &StageRef {
        match self {
            Self::Call { stage, .. } | Self::NotConfirmed { stage } => stage,
        }
    }
}

impl From<&RemediationError> for ErrorEntry {
    fn from(e: &RemediationError) -> Self {
        let stage = e.stage();
        Self {
            api_id: Some(stage.api_id.clone()),
            code: e.code(),
            ..Self::at(ErrorKind::Remediation, &stage.account_region(), chain(e))
        }
    }
}

/// UpdateStage `op=replace,path=/tracingEnabled,value=true`, then GetStage:
/// `Ok` only when the stage reads back with tracing on.
pub async fn enable_tracing(
    client: &aws_sdk_apigateway::Client,
    stage: &StageRef,
) -> Result<(), RemediationError> {
    use aws_sdk_apigateway::types::{Op, PatchOperation};
    let fail = |operation, source: aws_sdk_apigateway::Error| RemediationError::Call {
        stage: stage.clone(),
        operation,
        source,
    };
    client
        .update_stage()
        .rest_api_id(&stage.api_id)
        .stage_name(&stage.stage)
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
        .rest_api_id(&stage.api_id)
        .stage_name(&stage.stage)
        .send()
        .await
        .map_err(|e| fail("GetStage", e.into()))?;
    if after.tracing_enabled() {
        Ok(())
    } else {
        Err(RemediationError::NotConfirmed {
            stage: stage.clone(),
        })
    }
}

/// One stage as it is now; `None` when it (or its API) is gone.
pub async fn get_stage(
    client: &aws_sdk_apigateway::Client,
    stage: &StageRef,
) -> Result<Option<StageRecord>, RemediationError> {
    let out = match client
        .get_stage()
        .rest_api_id(&stage.api_id)
        .stage_name(&stage.stage)
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
                stage: stage.clone(),
                operation: "GetStage",
                source: e,
            });
        }
    };
    let time = |t: Option<&aws_sdk_apigateway::primitives::DateTime>| {
        t.and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos()))
    };
    Ok(Some(StageRecord {
        place: stage.clone(),
        api_name: None,
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
        variables: out
            .variables()
            .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
    }))
}
