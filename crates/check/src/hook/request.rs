//! A CloudFormation Lambda hook's request and response, in the shapes the
//! CloudFormation Hooks User Guide gives ("Create Lambda functions to
//! evaluate resources for Lambda Hooks": resource operations). Fields this
//! hook does not use are ignored (AWS may add some); the ones it decides by
//! are required, and a request without them is refused, never passed.

use serde::{Deserialize, Serialize};

use crate::check::yaml::{Node, Text, Value as Tree};

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookRequest {
    pub client_request_token: String,
    #[serde(default)]
    pub aws_account_id: Option<String>,
    #[serde(default)]
    pub stack_id: Option<String>,
    pub action_invocation_point: InvocationPoint,
    pub request_data: RequestData,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InvocationPoint {
    CreatePreProvision,
    UpdatePreProvision,
    DeletePreProvision,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestData {
    /// The resource type, for resource operations (`AWS::ApiGateway::Stage`).
    pub target_name: String,
    /// `RESOURCE`, `STACK` or `CHANGE_SET`.
    pub target_type: String,
    pub target_logical_id: String,
    #[serde(default)]
    pub target_model: Option<TargetModel>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetModel {
    /// The properties the resource will be created or updated with (values
    /// may arrive as strings: `"true"`).
    #[serde(default)]
    pub resource_properties: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HookStatus {
    Success,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ErrorCode {
    NonCompliant,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HookResponse {
    pub hook_status: HookStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<ErrorCode>,
    pub message: String,
    /// Echoed from the request, as the guide requires.
    pub client_request_token: String,
}

/// Why a request is refused.
#[derive(Debug, thiserror::Error)]
pub enum InvalidRequest {
    #[error("the hook request does not parse: {0}")]
    Parse(String),
    #[error("the hook request has an empty {0}")]
    Empty(&'static str),
}

impl HookRequest {
    /// Parses and checks a request: what the decision needs is present.
    pub fn parse(v: serde_json::Value) -> Result<Self, InvalidRequest> {
        let req: HookRequest = serde_json::from_value(v)
            .map_err(|e| InvalidRequest::Parse(crate::model::cut(&e.to_string())))?;
        if req.client_request_token.is_empty() {
            return Err(InvalidRequest::Empty("clientRequestToken"));
        }
        if req.request_data.target_name.is_empty() {
            return Err(InvalidRequest::Empty("requestData.targetName"));
        }
        if req.request_data.target_logical_id.is_empty() {
            return Err(InvalidRequest::Empty("requestData.targetLogicalId"));
        }
        Ok(req)
    }

    /// The resource as a template entry (`Type` = `kind`, `Properties`),
    /// for the same judge `check` uses; none when the request carries no
    /// properties (nothing to judge is never a pass).
    pub fn resource(&self, kind: &str) -> Option<Node> {
        let props = self
            .request_data
            .target_model
            .as_ref()
            .and_then(|m| m.resource_properties.clone())?;
        let entries = vec![
            (Text::from("Type"), leaf(Tree::Str(Text::from(kind)))),
            (
                Text::from("Properties"),
                tree(&serde_json::Value::Object(props)),
            ),
        ];
        Some(leaf(Tree::Map(entries)))
    }
}

fn leaf(value: Tree) -> Node {
    Node {
        line: 0,
        key_line: None,
        value,
    }
}

/// JSON as the template tree (serde_json bounds its nesting at 128, so
/// this recursion is bounded too).
fn tree(v: &serde_json::Value) -> Node {
    use serde_json::Value as J;
    leaf(match v {
        J::Null => Tree::Null,
        J::Bool(b) => Tree::Bool(*b),
        J::Number(n) => Tree::Number(n.as_f64().unwrap_or_default()),
        J::String(s) => Tree::Str(Text::from(s.as_str())),
        J::Array(items) => Tree::Seq(items.iter().map(tree).collect()),
        J::Object(o) => Tree::Map(
            o.iter()
                .map(|(k, v)| (Text::from(k.as_str()), tree(v)))
                .collect(),
        ),
    })
}

impl InvalidRequest {
    /// The Lambda error type a refused request answers with (the hook's
    /// binary maps it; this package links no Lambda runtime).
    pub const ERROR_TYPE: &'static str = "InvalidEvent";
}
