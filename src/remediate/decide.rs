//! Which stages remediation changes, and why not the others. Pure.
//!
//! Changed: a stage that fails the check, is not exempt, is not tagged
//! `apigw-tracing:no-remediate`, and is in scope (the named stage ARNs, if
//! any). Never touched: everything else, and anything of an account-region
//! whose inventory failed.

use serde::Serialize;

use crate::evaluate::{Evaluation, Status};
use crate::model::{patch, StageArn, StageRef};

/// Tag (any value) that keeps remediation away from a stage.
pub const TAG_NO_REMEDIATE: &str = "apigw-tracing:no-remediate";

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
    /// Already traced (an interrupted earlier run), but its finding still
    /// said FAILED: imported PASSED now.
    Resolved,
}

/// One stage in the report (`account`, `region`, `api_id`, `stage` at the
/// top level of its JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageAction {
    #[serde(flatten)]
    pub stage: StageRef,
    pub action: Action,
    /// What is (or would be) sent: the UpdateStage patch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    /// Why skipped, or the AWS error for `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What tracing it would cost (a stage turned on, or to turn on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate: Option<crate::cost::Estimate>,
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
    let asked = named.iter().any(|a| a.names(&s.place));
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
pub fn action(ev: &Evaluation, action: Action, reason: Option<String>) -> StageAction {
    StageAction {
        stage: ev.stage.place.clone(),
        action,
        patch: matches!(action, Action::Enabled | Action::WouldEnable).then(patch),
        reason,
        estimate: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apigw_tracing_rule::testing::{eval, stage};

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
            assert_eq!(decide(&eval(s.clone()), &[]), want, "{}", s.place.stage);
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
}
