//! The ASFF resource shapes this product writes: the stage, and the
//! functions behind it (trace-path findings).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ts_opt, Severity};
use crate::model::{Partition, Region};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FindingProviderFields {
    pub severity: Severity,
    pub types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource {
    pub r#type: String,
    pub id: String,
    pub partition: Partition,
    pub region: Region,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    pub details: ResourceDetails,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_api_gateway_stage: Option<StageDetails>,
    /// The functions behind a traced stage (trace-path findings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_lambda_function: Option<LambdaDetails>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LambdaDetails {
    pub function_name: String,
    /// Absent when the function could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracing_config: Option<LambdaTracingConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The qualifier the integration names (a version or alias).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LambdaTracingConfig {
    pub mode: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StageDetails {
    pub stage_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub cache_cluster_enabled: bool,
    pub tracing_enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "ts_opt")]
    pub created_date: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "ts_opt")]
    pub last_updated_date: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_acl_arn: Option<String>,
}
