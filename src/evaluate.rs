//! The rule: a REST API stage must have X-Ray active tracing on. Pure.

use serde::Serialize;

use crate::model::StageRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Compliance {
    Passed,
    Failed,
}

impl Compliance {
    pub fn as_str(self) -> &'static str {
        match self {
            Compliance::Passed => "PASSED",
            Compliance::Failed => "FAILED",
        }
    }
}

/// A stage with its verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub stage: StageRecord,
    pub compliance: Compliance,
}

pub fn evaluate(stage: StageRecord) -> Evaluation {
    let compliance = if stage.tracing_enabled {
        Compliance::Passed
    } else {
        Compliance::Failed
    };
    Evaluation { stage, compliance }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::AccountId;

    pub fn stage(api: &str, name: &str, tracing: bool) -> StageRecord {
        StageRecord {
            account_id: AccountId::parse("111111111111").unwrap(),
            region: "eu-west-1".into(),
            api_id: api.into(),
            api_name: Some(format!("{api}-name")),
            stage_name: name.into(),
            deployment_id: Some("dep1".into()),
            tracing_enabled: tracing,
            description: None,
            cache_cluster_enabled: false,
            web_acl_arn: None,
            created_date: None,
            last_updated_date: None,
            tags: Default::default(),
        }
    }

    #[test]
    fn tracing_decides_compliance() {
        let table = [(true, Compliance::Passed), (false, Compliance::Failed)];
        for (tracing, want) in table {
            assert_eq!(evaluate(stage("a1", "prod", tracing)).compliance, want);
        }
    }
}
