//! Does a rule's `ServiceName`, `ServiceType` and `ResourceARN` match a
//! stage? Three answers: before deploy a stage's API name, id or account
//! may not be known, and a name-specific pattern then matches UNKNOWN, not
//! a guess.

use wildmatch::WildMatch;

use super::{is_any, SamplingRule, SERVICE_TYPE};

/// Yes, no, or not known before deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    Yes,
    No,
    Unknown,
}

impl Tri {
    pub fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::No, _) | (_, Tri::No) => Tri::No,
            (Tri::Yes, Tri::Yes) => Tri::Yes,
            _ => Tri::Unknown,
        }
    }

    pub fn or(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::Yes, _) | (_, Tri::Yes) => Tri::Yes,
            (Tri::No, Tri::No) => Tri::No,
            _ => Tri::Unknown,
        }
    }
}

/// X-Ray's wildcard match: `*` any run, `?` one character, case ignored
/// (the X-Ray SDKs' `wildcardMatch(pattern, text, caseInsensitive=true)`).
pub fn glob(pattern: &str, text: &str) -> bool {
    is_any(pattern) || WildMatch::new_case_insensitive(pattern).matches(text)
}

/// A stage as a sampling rule sees it; `None` where it is not known before
/// deploy (SAM's implicit API is named after the stack; the id and account
/// come with the deploy).
#[derive(Debug, Clone, Copy, Default)]
pub struct Target<'a> {
    pub api_name: Option<&'a str>,
    pub stage: Option<&'a str>,
    pub api_id: Option<&'a str>,
    pub account: Option<&'a str>,
    pub region: Option<&'a str>,
    pub partition: Option<&'a str>,
}

/// `pattern` against a subject built from parts; a missing part makes any
/// pattern but `*` UNKNOWN.
fn against(pattern: Option<&str>, subject: Option<String>) -> Tri {
    match (pattern, subject) {
        (None, _) => Tri::Unknown,
        (Some(p), _) if is_any(p) => Tri::Yes,
        (Some(_), None) => Tri::Unknown,
        (Some(p), Some(s)) => match glob(p, &s) {
            true => Tri::Yes,
            false => Tri::No,
        },
    }
}

impl Target<'_> {
    fn service_name(&self) -> Option<String> {
        Some(format!("{}/{}", self.api_name?, self.stage?))
    }

    /// The two documented forms of a stage's ARN in a rule's `ResourceARN`.
    fn arns(&self) -> Option<[String; 2]> {
        let (part, region, account) = (self.partition?, self.region?, self.account?);
        let (api, stage) = (self.api_id?, self.stage?);
        Some([
            format!("arn:{part}:execute-api:{region}:{account}:{api}/{stage}"),
            format!("arn:{part}:apigateway:{region}::/restapis/{api}/stages/{stage}"),
        ])
    }

    /// `ServiceName` against `{api-name}/{stage}`. With the name unknown
    /// and the stage known, some patterns still answer: a leading `*`
    /// takes any name (`*/prod`), and a literal last segment other than
    /// the stage never matches (stage names hold no `/`).
    fn service(&self, pattern: Option<&str>) -> Tri {
        match (pattern, self.api_name, self.stage) {
            (Some(p), None, Some(stage)) if !is_any(p) => {
                if p.starts_with('*') && glob(p, &format!("/{stage}")) {
                    return Tri::Yes;
                }
                match p.rsplit_once('/') {
                    Some((_, last))
                        if !last.contains(['*', '?']) && !last.eq_ignore_ascii_case(stage) =>
                    {
                        Tri::No
                    }
                    _ => Tri::Unknown,
                }
            }
            (p, _, _) => against(p, self.service_name()),
        }
    }

    /// Whether `rule` applies to this stage (its request conditions apart).
    pub fn applies(&self, rule: &SamplingRule) -> Tri {
        let name = self.service(rule.service_name.as_deref());
        let kind = against(rule.service_type.as_deref(), Some(SERVICE_TYPE.into()));
        let arn = match (rule.resource_arn.as_deref(), self.arns()) {
            (Some(p), Some([a, b])) if !is_any(p) => {
                against(Some(p), Some(a)).or(against(Some(p), Some(b)))
            }
            (p, _) => against(p, None),
        };
        name.and(kind).and(arn)
    }
}
