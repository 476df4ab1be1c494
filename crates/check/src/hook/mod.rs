//! `hook`: refuse at deploy time. A CloudFormation Lambda hook is invoked
//! for each `AWS::ApiGateway::Stage`, `AWS::ApiGateway::Deployment` and
//! `AWS::XRay::SamplingRule` before CloudFormation creates or updates it,
//! and answers with the rule `check` applies to templates: the same judge (`check::template`), the
//! same `evaluate::compliance` and `exempt` tags. Pure: no AWS call; what
//! it decides is logged, one line per decision.

use chrono::NaiveDate;

use crate::check::yaml::{Node, Value as Tree};
use crate::check::{judge, template, Verdict};

mod request;
mod sampling;

pub use crate::model::strict_json::Event as HookEvent;
pub use request::{
    ErrorCode, HookRequest, HookResponse, HookStatus, InvalidRequest, InvocationPoint,
};

/// The resource types the hook judges (its target filters name these).
pub const TARGETS: [&str; 3] = [
    "AWS::ApiGateway::Stage",
    "AWS::ApiGateway::Deployment",
    crate::check::SAMPLING_RULE_TYPE,
];

/// CloudFormation truncates a hook's message at 4,096 characters.
const MAX_MESSAGE: usize = 4000;

/// What the hook decided, and of what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub response: HookResponse,
    /// PASSED, FAILED, EXEMPT, UNKNOWN, or SKIPPED (not a stage this hook
    /// judges).
    pub verdict: &'static str,
    pub stage: Option<String>,
}

/// Decides one resource operation.
pub fn decide(req: &HookRequest, today: NaiveDate) -> Decision {
    let id = &req.request_data.target_logical_id;
    // Type names as CloudFormation spells them, whatever the case or
    // padding of the request (a judged type is never skipped by spelling).
    let named_kind = req.request_data.target_name.trim();
    let kind = TARGETS
        .iter()
        .find(|t| t.eq_ignore_ascii_case(named_kind))
        .copied()
        .unwrap_or(named_kind);
    let answer =
        |status: HookStatus, verdict: &'static str, stage: Option<String>, message: String| {
            Decision {
                response: HookResponse {
                    hook_status: status,
                    error_code: (status == HookStatus::Failed).then_some(ErrorCode::NonCompliant),
                    message: crate::model::cut_to(&message, MAX_MESSAGE),
                    client_request_token: req.client_request_token.clone(),
                },
                verdict,
                stage,
            }
        };
    let skip = |why: String| answer(HookStatus::Success, "SKIPPED", None, why);
    let refuse = |why: String| answer(HookStatus::Failed, "REFUSED", None, why);
    // Only resource operations are judged; anything else is refused, never
    // passed unread (the hook's TargetOperations is RESOURCE).
    if !req
        .request_data
        .target_type
        .trim()
        .eq_ignore_ascii_case("RESOURCE")
    {
        return refuse(format!(
            "apigw-tracing judges resource operations only; a {} operation is refused",
            crate::model::quote(&req.request_data.target_type)
        ));
    }
    if req.action_invocation_point == InvocationPoint::DeletePreProvision {
        return skip(format!("{id}: deleting a resource is not checked"));
    }
    if !TARGETS.contains(&kind) {
        return skip(format!(
            "{id}: {kind} is not an API Gateway REST API stage; not checked"
        ));
    }
    let empty = Node {
        line: 0,
        key_line: None,
        value: Tree::Map(Vec::new()),
    };
    let Some(resource) = req.resource(kind) else {
        return refuse(format!(
            "{}: the request carries no resource properties for this {kind}; refused, not judged",
            crate::model::quote(id)
        ));
    };
    if kind == crate::check::SAMPLING_RULE_TYPE {
        let (passes, verdict, message) = sampling::decide(id, &resource, today);
        let status = match passes {
            true => HookStatus::Success,
            false => HookStatus::Failed,
        };
        return answer(status, verdict, None, message);
    }
    let mut stages = template::Stages::new(&empty);
    stages.resource_as_is(id, &resource);
    let Some(planned) = stages.finish().into_iter().next() else {
        return skip(format!(
            "{id}: this {kind} sets no StageName, so it creates no stage"
        ));
    };
    let (r, warnings) = judge(id, planned, today);
    let stage = r.stage.clone();
    let named = format!(
        "{id} ({kind}) stage {}",
        crate::model::quote(stage.as_deref().unwrap_or("?"))
    );
    match r.status {
        // The stage rule never warns.
        Verdict::Passed | Verdict::Warning => answer(
            HookStatus::Success,
            "PASSED",
            stage,
            format!("{named}: X-Ray tracing is on"),
        ),
        Verdict::Exempt => answer(
            HookStatus::Success,
            "EXEMPT",
            stage,
            format!(
                "{named}: X-Ray tracing is off, exempted by its apigw-tracing:exempt tag: {}",
                r.exemption.unwrap_or_default()
            ),
        ),
        Verdict::Failed => {
            // A malformed exemption fails, and says why.
            let why = warnings
                .iter()
                .map(|w| w.trim_start_matches(&format!("{id}: {id}: ")).to_owned())
                .collect::<Vec<_>>()
                .join("; ");
            let why = if why.is_empty() {
                why
            } else {
                format!(" ({why})")
            };
            answer(
                HookStatus::Failed,
                "FAILED",
                stage,
                format!(
                    "{named} would be created without X-Ray tracing{why}; fix: {}",
                    r.fix.unwrap_or_default()
                ),
            )
        }
        // Values are resolved at deploy time; one still unknown cannot be
        // shown to trace, so the stage is refused (fail closed).
        Verdict::Unknown => answer(
            HookStatus::Failed,
            "UNKNOWN",
            stage,
            format!("{named}: {}", r.message),
        ),
    }
}

/// Longest request field a log line carries (a logical id may be 200 KB).
const MAX_LOGGED: usize = 256;

/// One hook invocation: parse, decide, log the decision.
pub fn handle(event: HookEvent, today: NaiveDate) -> Result<HookResponse, InvalidRequest> {
    let req = HookRequest::parse(event.0.map_err(InvalidRequest::Parse)?)?;
    let d = decide(&req, today);
    let cut = |s: &str| crate::model::cut_to(s, MAX_LOGGED);
    tracing::info!(
        account = cut(req.aws_account_id.as_deref().unwrap_or_default()),
        stack = cut(req.stack_id.as_deref().unwrap_or_default()),
        logical_id = cut(&req.request_data.target_logical_id),
        resource_type = cut(&req.request_data.target_name),
        stage = cut(d.stage.as_deref().unwrap_or_default()),
        verdict = d.verdict,
        hook_status = ?d.response.hook_status,
        "hook decision"
    );
    Ok(d.response)
}

#[cfg(test)]
mod tests;
