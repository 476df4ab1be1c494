//! What an integration or authorizer URI names: a Lambda function (ARN and
//! qualifier), after the stage's own `${stageVariables.x}` are put in.
//! Pure.
//!
//! API Gateway stores a Lambda target as
//! `arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{functionArn}/invocations`;
//! the function ARN may carry a version or alias, and any part of it may be
//! a stage variable that each stage resolves from its own `variables`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::model::{AccountId, Region};

/// A Lambda function as an integration names it: the qualifier (a version,
/// an alias, `$LATEST`) is part of what is invoked, so it is part of the
/// key (each distinct ARN + qualifier is read once per run).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FunctionRef {
    pub account: AccountId,
    pub region: Region,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
}

/// What a qualified ARN pins, which decides what a fix may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pin {
    /// Unqualified or `$LATEST`: the function's own configuration.
    Latest,
    /// A published version: its configuration can never change.
    Version,
    /// An alias: it points at a version (or `$LATEST`).
    Alias,
}

impl FunctionRef {
    /// `arn:{partition}:lambda:{region}:{account}:function:{name}[:{qualifier}]`.
    pub fn parse_arn(arn: &str) -> Option<Self> {
        let parts: Vec<&str> = arn.split(':').collect();
        let (region, account, name, qualifier) = match parts[..] {
            ["arn", _, "lambda", region, account, "function", name] => {
                (region, account, name, None)
            }
            ["arn", _, "lambda", region, account, "function", name, q] => {
                (region, account, name, Some(q))
            }
            _ => return None,
        };
        let region = Region::parse(region).ok()?;
        // Lambda names: 1-64 of letters, digits, hyphens and underscores;
        // qualifiers: 1-128 of letters, digits, `$`, hyphens and underscores.
        let name_ok = (1..=64).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        let qualifier_ok = qualifier.is_none_or(|q| {
            (1..=128).contains(&q.len())
                && q.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "$-_".contains(c))
        });
        if !name_ok || !qualifier_ok || !arn.starts_with(&format!("arn:{}:", region.partition())) {
            return None;
        }
        Some(Self {
            account: AccountId::parse(account).ok()?,
            region,
            name: name.to_owned(),
            qualifier: qualifier.map(str::to_owned),
        })
    }

    /// The ARN without qualifier.
    pub fn unqualified_arn(&self) -> String {
        format!(
            "arn:{}:lambda:{}:{}:function:{}",
            self.region.partition(),
            self.region,
            self.account,
            self.name
        )
    }

    /// The ARN as the integration names it (qualifier included).
    pub fn arn(&self) -> String {
        match &self.qualifier {
            Some(q) => format!("{}:{q}", self.unqualified_arn()),
            None => self.unqualified_arn(),
        }
    }

    pub fn pin(&self) -> Pin {
        match self.qualifier.as_deref() {
            None | Some("$LATEST") => Pin::Latest,
            Some(q) if q.bytes().all(|b| b.is_ascii_digit()) => Pin::Version,
            Some(_) => Pin::Alias,
        }
    }
}

impl fmt::Display for FunctionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn())
    }
}

/// Where an integration or authorizer leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hop {
    Function(FunctionRef),
    /// HTTP, AWS service, MOCK, VPC link: nothing AWS can trace into.
    NotTraceable(String),
    /// A Lambda target this stage's variables do not resolve, or a URI
    /// that does not read as one: the path cannot be judged.
    Unresolved(String),
}

const LAMBDA_PATH: &str = ":lambda:path/";
const FUNCTIONS: &str = "/functions/";
/// How an invocation URI ends: a plain invoke, or REST API response
/// streaming (`.../2021-11-15/functions/{arn}/response-streaming-invocations`).
const INVOCATIONS: [&str; 2] = ["/invocations", "/response-streaming-invocations"];

/// Where an integration of `integration_type` (and `connection_type`) with
/// `uri` leads, for a stage with `variables`.
pub fn integration_hop(
    integration_type: &str,
    connection_type: Option<&str>,
    uri: Option<&str>,
    variables: &BTreeMap<String, String>,
) -> Hop {
    match integration_type {
        "AWS" | "AWS_PROXY" => {}
        "MOCK" => return Hop::NotTraceable("MOCK integration".into()),
        "HTTP" | "HTTP_PROXY" if connection_type == Some("VPC_LINK") => {
            return Hop::NotTraceable("VPC link integration".into())
        }
        "HTTP" | "HTTP_PROXY" => return Hop::NotTraceable("HTTP integration".into()),
        other => return Hop::NotTraceable(format!("{other} integration")),
    }
    let Some(uri) = uri.filter(|u| !u.is_empty()) else {
        return Hop::Unresolved("the integration has no URI".into());
    };
    // A function ARN written as the URI itself, which the console and some
    // tools accept for a Lambda integration.
    if uri.starts_with("arn:") && uri.split(':').nth(2) == Some("lambda") {
        return match resolve_variables(uri, variables) {
            Ok(arn) => match FunctionRef::parse_arn(&arn) {
                Some(f) => Hop::Function(f),
                None => Hop::Unresolved(format!(
                    "{} does not name a Lambda function",
                    crate::model::quote(&arn)
                )),
            },
            Err(missing) => {
                Hop::Unresolved(format!("stage variable {missing} is not set on this stage"))
            }
        };
    }
    if !uri.contains(LAMBDA_PATH) {
        // arn:aws:apigateway:{region}:{service}:path|action/...
        let service = uri.split(':').nth(4).unwrap_or("AWS");
        return Hop::NotTraceable(format!("AWS service integration ({service})"));
    }
    lambda_hop(uri, variables)
}

/// Where a Lambda authorizer's URI leads.
pub fn authorizer_hop(uri: Option<&str>, variables: &BTreeMap<String, String>) -> Hop {
    match uri.filter(|u| !u.is_empty()) {
        Some(uri) => lambda_hop(uri, variables),
        None => Hop::Unresolved("the authorizer has no URI".into()),
    }
}

fn lambda_hop(uri: &str, variables: &BTreeMap<String, String>) -> Hop {
    let uri = match resolve_variables(uri, variables) {
        Ok(u) => u,
        Err(missing) => {
            return Hop::Unresolved(format!("stage variable {missing} is not set on this stage"))
        }
    };
    let arn = uri
        .split_once(FUNCTIONS)
        .and_then(|(_, rest)| INVOCATIONS.iter().find_map(|end| rest.strip_suffix(end)));
    match arn.and_then(FunctionRef::parse_arn) {
        Some(f) => Hop::Function(f),
        None => Hop::Unresolved(format!(
            "{} does not name a Lambda function",
            crate::model::quote(&uri)
        )),
    }
}

/// `${stageVariables.name}` replaced by the stage's value; the first
/// variable the stage does not set is the error.
fn resolve_variables(s: &str, variables: &BTreeMap<String, String>) -> Result<String, String> {
    const OPEN: &str = "${stageVariables.";
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find(OPEN) {
        out.push_str(&rest[..at]);
        let after = &rest[at + OPEN.len()..];
        let Some(end) = after.find('}') else {
            return Err(crate::model::quote(after));
        };
        let name = &after[..end];
        match variables.get(name) {
            Some(v) => out.push_str(v),
            None => return Err(name.to_owned()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(arn: &str) -> String {
        format!("arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/{arn}/invocations")
    }

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn streaming_uris_and_plain_function_arns_name_their_functions() {
        let arn = "arn:aws:lambda:eu-west-1:111111111111:function:orders";
        let streaming = format!(
            "arn:aws:apigateway:eu-west-1:lambda:path/2021-11-15/functions/{arn}:live/response-streaming-invocations"
        );
        let Hop::Function(f) = integration_hop("AWS_PROXY", None, Some(&streaming), &vars(&[]))
        else {
            panic!("{streaming}")
        };
        assert_eq!(
            (f.name.as_str(), f.qualifier.as_deref()),
            ("orders", Some("live"))
        );
        let Hop::Function(f) = integration_hop("AWS", None, Some(arn), &vars(&[])) else {
            panic!("a plain ARN")
        };
        assert_eq!(f.arn(), arn);
        let plain_var = "arn:aws:lambda:eu-west-1:111111111111:function:${stageVariables.fn}";
        assert!(matches!(
            integration_hop("AWS_PROXY", None, Some(plain_var), &vars(&[])),
            Hop::Unresolved(_)
        ));
        // Another suffix is still no function.
        let odd =
            format!("arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/{arn}/other");
        assert!(matches!(
            integration_hop("AWS_PROXY", None, Some(&odd), &vars(&[])),
            Hop::Unresolved(_)
        ));
    }

    #[test]
    fn lambda_uris_name_functions_with_their_qualifier() {
        let arn = "arn:aws:lambda:eu-west-1:111111111111:function:orders";
        let hop = |a: &str, v: &BTreeMap<String, String>| {
            integration_hop("AWS_PROXY", None, Some(&uri(a)), v)
        };
        let Hop::Function(f) = hop(arn, &vars(&[])) else {
            panic!()
        };
        assert_eq!((f.name.as_str(), f.qualifier.as_deref()), ("orders", None));
        assert_eq!(f.arn(), arn);
        assert_eq!(f.pin(), Pin::Latest);
        let Hop::Function(f) = hop(&format!("{arn}:live"), &vars(&[])) else {
            panic!()
        };
        assert_eq!(
            (f.qualifier.as_deref(), f.pin()),
            (Some("live"), Pin::Alias)
        );
        let Hop::Function(f) = hop(&format!("{arn}:7"), &vars(&[])) else {
            panic!()
        };
        assert_eq!(f.pin(), Pin::Version);
        // Stage variables: each stage its own.
        let templated = "arn:aws:lambda:eu-west-1:222222222222:function:${stageVariables.fn}:${stageVariables.alias}";
        let Hop::Function(f) = hop(templated, &vars(&[("fn", "pay"), ("alias", "prod")])) else {
            panic!()
        };
        assert_eq!(
            f.arn(),
            "arn:aws:lambda:eu-west-1:222222222222:function:pay:prod"
        );
        assert_eq!(
            hop(templated, &vars(&[("fn", "pay")])),
            Hop::Unresolved("stage variable alias is not set on this stage".into())
        );
    }

    #[test]
    fn other_integrations_are_not_traceable_and_bad_uris_unresolved() {
        let none = vars(&[]);
        for (t, conn, u, want) in [
            ("MOCK", None, None, "MOCK integration"),
            ("HTTP_PROXY", None, Some("https://x"), "HTTP integration"),
            (
                "HTTP",
                Some("VPC_LINK"),
                Some("http://nlb"),
                "VPC link integration",
            ),
            (
                "AWS",
                None,
                Some("arn:aws:apigateway:eu-west-1:sqs:path/1/q"),
                "AWS service integration (sqs)",
            ),
        ] {
            assert_eq!(
                integration_hop(t, conn, u, &none),
                Hop::NotTraceable(want.into())
            );
        }
        assert!(matches!(
            integration_hop(
                "AWS_PROXY",
                None,
                Some(&uri("arn:aws:lambda:eu-west-1:1:function:x")),
                &none
            ),
            Hop::Unresolved(_)
        ));
        assert!(matches!(authorizer_hop(None, &none), Hop::Unresolved(_)));
        for bad in [
            "arn:aws:lambda:eu-west-1:111111111111:function:a b",
            "arn:aws-cn:lambda:eu-west-1:111111111111:function:a",
            "arn:aws:lambda:mars-1:111111111111:function:a",
            "arn:aws:lambda:eu-west-1:111111111111:layer:a",
        ] {
            assert_eq!(FunctionRef::parse_arn(bad), None, "{bad}");
        }
    }
}
