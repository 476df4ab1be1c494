//! Which stages remediation changes, and why not the others. Pure.
//!
//! Changed: a stage that fails the check, is not exempt, is not tagged
//! `apigw-tracing:no-remediate`, and is in scope (the named stage ARNs, if
//! any). Never touched: everything else, and anything of an account-region
//! whose inventory failed.

use std::fmt;

use serde::Serialize;

use crate::evaluate::{Evaluation, Status};
use crate::model::{partition_of, quote, validate_region, AccountId};

/// Tag (any value) that keeps remediation away from a stage.
pub const TAG_NO_REMEDIATE: &str = "apigw-tracing:no-remediate";
/// The one change remediation makes: an UpdateStage patch operation
/// `replace` of this path with this value (the adapter sends exactly these).
pub const PATCH_PATH: &str = "/tracingEnabled";
pub const PATCH_VALUE: &str = "true";

/// The patch as the AWS CLI spells it, for the report.
pub fn patch() -> String {
    format!("op=replace,path={PATCH_PATH},value={PATCH_VALUE}")
}

/// Who asked for the change (logged with every change).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Requester {
    Cli,
    CustomAction,
    Automatic,
}

impl Requester {
    pub fn as_str(self) -> &'static str {
        match self {
            Requester::Cli => "cli",
            Requester::CustomAction => "custom-action",
            Requester::Automatic => "automatic",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Enabled,
    WouldEnable,
    Skipped,
    Failed,
}

/// One stage in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageAction {
    pub account: String,
    pub region: String,
    pub api_id: String,
    pub stage: String,
    pub action: Action,
    /// What is (or would be) sent: the UpdateStage patch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    /// Why skipped, or the AWS error for `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A stage named by its ARN: `arn:<partition>:apigateway:<region>::/restapis/<id>/stages/<name>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StageArn {
    pub region: String,
    pub api_id: String,
    pub stage: String,
}

impl StageArn {
    pub fn parse(arn: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            format!("{} is not a stage ARN ({why}); expected arn:aws:apigateway:<region>::/restapis/<id>/stages/<name>", quote(arn))
        };
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [a, partition, service, region, account, resource] = parts[..] else {
            return Err(bad("too few parts"));
        };
        if a != "arn" || service != "apigateway" || !account.is_empty() {
            return Err(bad("not an API Gateway ARN"));
        }
        validate_region(region).map_err(|e| bad(&e.to_string()))?;
        if partition != partition_of(region).as_str() {
            return Err(bad("partition and region disagree"));
        }
        let tail = resource
            .strip_prefix("/restapis/")
            .ok_or_else(|| bad("no /restapis/"))?;
        let (api_id, stage) = tail
            .split_once("/stages/")
            .ok_or_else(|| bad("no /stages/"))?;
        let ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        if !ok(api_id) || !ok(stage) {
            return Err(bad("API id or stage name is empty or malformed"));
        }
        Ok(Self {
            region: region.to_owned(),
            api_id: api_id.to_owned(),
            stage: stage.to_owned(),
        })
    }
}

impl fmt::Display for StageArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:apigateway:{}::/restapis/{}/stages/{}",
            partition_of(&self.region),
            self.region,
            self.api_id,
            self.stage
        )
    }
}

/// What to do with one evaluated stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Enable,
    Skip(String),
    /// Out of scope, or already traced and not asked for: not reported.
    Leave,
}

/// `named`: the stage ARNs asked for (empty: every stage in scope).
pub fn decide(ev: &Evaluation, named: &[StageArn]) -> Decision {
    let s = &ev.stage;
    let asked = named
        .iter()
        .any(|a| a.region == s.region && a.api_id == s.api_id && a.stage == s.stage_name);
    if !named.is_empty() && !asked {
        return Decision::Leave;
    }
    match ev.status() {
        Status::Passing if asked => Decision::Skip("already traced".into()),
        Status::Passing => Decision::Leave,
        Status::Exempt => Decision::Skip(format!(
            "exempt: {}",
            ev.exemption
                .as_ref()
                .map(|e| e.reason.as_str())
                .unwrap_or_default()
        )),
        Status::Failing if s.tags.contains_key(TAG_NO_REMEDIATE) => {
            Decision::Skip(format!("tagged {TAG_NO_REMEDIATE}"))
        }
        Status::Failing => Decision::Enable,
    }
}

/// The report line for a stage.
pub fn action(
    account: &AccountId,
    ev: &Evaluation,
    action: Action,
    reason: Option<String>,
) -> StageAction {
    StageAction {
        account: account.to_string(),
        region: ev.stage.region.clone(),
        api_id: ev.stage.api_id.clone(),
        stage: ev.stage.stage_name.clone(),
        action,
        patch: matches!(action, Action::Enabled | Action::WouldEnable).then(patch),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::tests::{eval, stage};

    #[test]
    fn only_failing_unexempt_unprotected_stages_in_scope_are_changed() {
        let mut exempt = stage("a", "legacy", false);
        exempt
            .tags
            .insert(crate::exempt::TAG_EXEMPT.into(), "vendor".into());
        let mut protected = stage("a", "frozen", false);
        protected
            .tags
            .insert(TAG_NO_REMEDIATE.into(), String::new());
        let cases = [
            (stage("a", "prod", false), Decision::Enable),
            (stage("a", "ok", true), Decision::Leave),
            (exempt, Decision::Skip("exempt: vendor".into())),
            (
                protected,
                Decision::Skip("tagged apigw-tracing:no-remediate".into()),
            ),
        ];
        for (s, want) in cases {
            assert_eq!(decide(&eval(s.clone()), &[]), want, "{}", s.stage_name);
        }
        let named =
            [StageArn::parse("arn:aws:apigateway:eu-west-1::/restapis/a/stages/ok").unwrap()];
        assert_eq!(
            decide(&eval(stage("a", "prod", false)), &named),
            Decision::Leave,
            "not named"
        );
        assert_eq!(
            decide(&eval(stage("a", "ok", true)), &named),
            Decision::Skip("already traced".into())
        );
    }

    #[test]
    fn stage_arns_are_checked() {
        let a =
            StageArn::parse("arn:aws:apigateway:eu-west-1::/restapis/abc123/stages/prod").unwrap();
        assert_eq!(
            a.to_string(),
            "arn:aws:apigateway:eu-west-1::/restapis/abc123/stages/prod"
        );
        for bad in [
            "arn:aws:apigateway:eu-west-1:111111111111:/restapis/abc/stages/prod",
            "arn:aws:apigateway:moon-1::/restapis/abc/stages/prod",
            "arn:aws-cn:apigateway:eu-west-1::/restapis/abc/stages/prod",
            "arn:aws:apigateway:eu-west-1::/restapis/abc",
            "arn:aws:apigateway:eu-west-1::/restapis//stages/prod",
            "abc/prod",
        ] {
            assert!(StageArn::parse(bad).is_err(), "{bad}");
        }
    }
}
