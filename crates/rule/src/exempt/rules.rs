//! Configured exemptions (`APIGW_TRACING_EXEMPTIONS`, a JSON array), for
//! teams that cannot tag their stages. Checked strictly: an entry that
//! could never match, or that carries an unknown field, is a configuration
//! error naming the entry and the field, never a silent no-op.

use serde_json::Value;
use wildmatch::WildMatch;

use super::{parse_date, Exemption, Source};
use crate::model::{is_api_id_char, is_stage_name_char, quote, Region, StageRef};

/// One entry: `stage` (a stage ARN such as
/// `arn:aws:apigateway:eu-west-1::/restapis/a1b2c3/stages/prod`, or
/// `account/apiId/stage`), `reason`, optional `until`. `*` is the only
/// wildcard (any run of characters); `?` is refused so that it is never
/// mistaken for a literal.
struct RuleSpec {
    stage: String,
    reason: String,
    until: Option<String>,
}

const FIELDS: [&str; 3] = ["stage", "reason", "until"];

impl RuleSpec {
    /// Reads one entry, naming the field at fault.
    fn read(entry: &Value) -> Result<Self, (&'static str, String)> {
        let Value::Object(map) = entry else {
            return Err(("(entry)", "is not a JSON object".into()));
        };
        if let Some(unknown) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err((
                "(entry)",
                format!(
                    "unknown field {}; the fields are stage, reason, until",
                    quote(unknown)
                ),
            ));
        }
        let text = |field: &'static str| match map.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err((field, format!("must be a string, got {other}"))),
        };
        Ok(Self {
            stage: text("stage")?.ok_or(("stage", "is required".to_owned()))?,
            reason: text("reason")?.ok_or(("reason", "is required".to_owned()))?,
            until: text("until")?,
        })
    }
}

#[derive(Debug)]
struct Rule {
    pattern: WildMatch,
    text: String,
    is_arn: bool,
    exemption: Exemption,
}

/// The configured exemptions, checked and compiled.
#[derive(Debug, Default)]
pub struct Rules(Vec<Rule>);

pub const EXPECTED: &str = r#"a JSON array of {"stage": "<stage ARN or account/apiId/stage>", "reason": "...", "until": "YYYY-MM-DD"}"#;

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("must be {EXPECTED}: {0}")]
    Json(String),
    #[error("entry {index}, field \"{field}\": {problem}")]
    Entry {
        index: usize,
        field: &'static str,
        problem: String,
    },
}

impl Rules {
    pub fn parse(json: &str) -> Result<Self, RulesError> {
        if json.trim().is_empty() {
            return Ok(Self::default());
        }
        let entries: Vec<Value> =
            serde_json::from_str(json).map_err(|e| RulesError::Json(e.to_string()))?;
        let mut rules = Vec::with_capacity(entries.len());
        for (index, entry) in entries.into_iter().enumerate() {
            let fail = |field: &'static str, problem: String| RulesError::Entry {
                index,
                field,
                problem,
            };
            let spec = RuleSpec::read(&entry).map_err(|(field, p)| fail(field, p))?;
            if spec.reason.trim().is_empty() {
                return Err(fail("reason", "a reason is required".into()));
            }
            let until = match &spec.until {
                Some(d) => Some(parse_date(d).map_err(|p| fail("until", p))?),
                None => None,
            };
            check_pattern(&spec.stage)
                .map_err(|p| fail("stage", format!("{}: {p}", quote(&spec.stage))))?;
            rules.push(Rule {
                pattern: WildMatch::new(&spec.stage),
                text: spec.stage.clone(),
                is_arn: spec.stage.starts_with("arn:"),
                exemption: Exemption {
                    reason: spec.reason.trim().to_owned(),
                    until,
                    source: Source::Config,
                },
            });
        }
        Ok(Self(rules))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The pattern of entry `index`, as configured.
    pub fn pattern(&self, index: usize) -> Option<&str> {
        self.0.get(index).map(|r| r.text.as_str())
    }

    /// The first entry matching `stage`: its index and exemption.
    pub(super) fn find(&self, stage: &StageRef) -> Option<(usize, &Exemption)> {
        let arn = stage.arn();
        let path = stage.path();
        self.0
            .iter()
            .enumerate()
            .find(|(_, r)| r.pattern.matches(if r.is_arn { &arn } else { &path }))
            .map(|(i, r)| (i, &r.exemption))
    }
}

/// A segment of a pattern: non-empty, no white space; `*` is a wildcard.
fn segment(value: &str, what: &str, ok: impl Fn(char) -> bool) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("the {what} is empty"));
    }
    if let Some(c) = value.chars().find(|&c| c != '*' && !ok(c)) {
        return Err(format!("the {what} {} holds {c:?}", quote(value)));
    }
    Ok(())
}

/// Refuses a pattern that can never match a stage.
fn check_pattern(p: &str) -> Result<(), String> {
    if p.contains('?') {
        return Err("only * is a wildcard; ? is not allowed".into());
    }
    if p.trim() != p || p.chars().any(char::is_whitespace) {
        return Err("holds white space".into());
    }
    if let Some(rest) = p.strip_prefix("arn:") {
        // arn:<partition>:apigateway:<region>::/restapis/<api>/stages/<stage>
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [partition, service, region, account, resource] = parts[..] else {
            return Err(
                "expected arn:<partition>:apigateway:<region>::/restapis/<apiId>/stages/<stage>"
                    .into(),
            );
        };
        if !["aws", "aws-cn", "aws-us-gov", "*"].contains(&partition) {
            return Err(format!("unknown partition {}", quote(partition)));
        }
        if service != "apigateway" || !account.is_empty() {
            return Err("expected arn:<partition>:apigateway:<region>::/restapis/<apiId>/stages/<stage> (API Gateway ARNs have no account)".into());
        }
        if !region.contains('*') {
            Region::parse(region).map_err(|e| e.to_string())?;
        }
        let Some(tail) = resource.strip_prefix("/restapis/") else {
            return Err("the resource must be /restapis/<apiId>/stages/<stage>".into());
        };
        let Some((api, stage)) = tail.split_once("/stages/") else {
            return Err("the resource must be /restapis/<apiId>/stages/<stage>".into());
        };
        segment(api, "API id", is_api_id_char)?;
        return segment(stage, "stage name", is_stage_name_char);
    }
    let parts: Vec<&str> = p.split('/').collect();
    let [account, api, stage] = parts[..] else {
        return Err("expected a stage ARN or account/apiId/stage".into());
    };
    segment(account, "account", |c| c.is_ascii_digit())?;
    if !account.contains('*') && account.len() != 12 {
        return Err(format!("the account {} is not 12 digits", quote(account)));
    }
    segment(api, "API id", is_api_id_char)?;
    segment(stage, "stage name", is_stage_name_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_that_can_never_match_are_refused_with_the_entry_and_field() {
        let entry = |stage: &str| {
            format!(
                r#"[{{"stage": "111111111111/*/*", "reason": "ok"}}, {{"stage": {stage:?}, "reason": "r"}}]"#
            )
        };
        for (stage, want) in [
            ("11111111111/*/*", "is not 12 digits"),
            ("abc/*/*", "the account \"abc\" holds 'a'"),
            (" 111111111111/*/*", "holds white space"),
            ("111111111111//prod", "the API id is empty"),
            ("arn:garbage", "expected arn:<partition>:apigateway"),
            (
                "arn:aws:apigateway:eu-moon-1::/restapis/*/stages/*",
                "not a known AWS region",
            ),
            (
                "arn:aws:apigateway:eu-west-1:111111111111:/restapis/*/stages/*",
                "have no account",
            ),
            ("111111111111/a?c/prod", "only * is a wildcard"),
            (
                "111111111111/abc",
                "expected a stage ARN or account/apiId/stage",
            ),
        ] {
            let err = crate::report::chain(&Rules::parse(&entry(stage)).unwrap_err());
            assert!(
                err.starts_with("entry 1, field \"stage\""),
                "{stage}: {err}"
            );
            assert!(err.contains(want), "{stage}: {err}");
        }
    }

    #[test]
    fn an_unknown_field_or_a_wrong_type_names_the_entry() {
        for (json, want) in [
            (
                r#"[{"stage": "a/b/c", "reason": "r", "typo": 1}]"#,
                "entry 0, field \"(entry)\": unknown field \"typo\"",
            ),
            (
                r#"[{"stage": 5, "reason": "r"}]"#,
                "entry 0, field \"stage\": must be a string, got 5",
            ),
            (
                r#"[{"stage": "111111111111/*/*"}]"#,
                "entry 0, field \"reason\": is required",
            ),
            (r#"[1]"#, "entry 0, field \"(entry)\": is not a JSON object"),
            (r#"{"stage": "a/b/c"}"#, "must be a JSON array"),
        ] {
            let err = Rules::parse(json).unwrap_err().to_string();
            assert!(err.contains(want), "{json}: {err}");
        }
    }

    #[test]
    fn good_patterns_compile() {
        let rules = Rules::parse(
            r#"[{"stage": "arn:*:apigateway:*::/restapis/*/stages/sandbox-*", "reason": "r"},
                {"stage": "*/*/*", "reason": "everything"},
                {"stage": "1111111111*/abc123/prod_v2", "reason": "r", "until": "2030-01-01"}]"#,
        )
        .unwrap();
        assert_eq!(rules.len(), 3);
        assert_eq!(rules.pattern(1), Some("*/*/*"));
    }
}
