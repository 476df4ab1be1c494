//! Exemptions: a known, accepted exception is not an active failure. Given
//! as stage tags (by the stage's owners) or in configuration (for teams that
//! cannot tag). Pure.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;

use crate::model::StageRecord;

/// Tag whose value is the reason (required, non-empty).
pub const TAG_EXEMPT: &str = "apigw-tracing:exempt";
/// Optional tag: the exemption lapses after this day (`YYYY-MM-DD`, UTC).
pub const TAG_EXEMPT_UNTIL: &str = "apigw-tracing:exempt-until";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Tag,
    Config,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Tag => "tag",
            Source::Config => "config",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exemption {
    pub reason: String,
    pub until: Option<NaiveDate>,
    pub source: Source,
}

/// What the exemption rules say of one stage.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lookup {
    /// In force today.
    pub active: Option<Exemption>,
    /// Given, but its date has passed.
    pub lapsed: Option<Exemption>,
    /// Malformed exemptions (ignored), for the report.
    pub problems: Vec<String>,
    /// The configured exemption (its index) whose pattern matched this
    /// stage, whether or not it was needed: the report counts them.
    pub matched_rule: Option<usize>,
}

mod rules;
pub use rules::{Rules, RulesError};

pub(crate) fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|e| format!("{s:?} is not a YYYY-MM-DD date ({e})"))
}

/// The exemption for `stage` on `today`: its tags first, then configuration.
pub fn lookup(stage: &StageRecord, rules: &Rules, today: NaiveDate) -> Lookup {
    let mut out = Lookup::default();
    let from_tags = from_tags(&stage.tags, &mut out.problems);
    let configured = rules.find(&stage.place);
    out.matched_rule = configured.map(|(index, _)| index);
    let exemption = from_tags.or_else(|| configured.map(|(_, e)| e.clone()));
    in_force(out, exemption, today)
}

/// The exemption a stage's tags give it on `today` (plan-time `check`:
/// tags are all a template or plan can carry).
pub fn lookup_tags(tags: &BTreeMap<String, String>, today: NaiveDate) -> Lookup {
    let mut out = Lookup::default();
    let exemption = from_tags(tags, &mut out.problems);
    in_force(out, exemption, today)
}

fn in_force(mut out: Lookup, exemption: Option<Exemption>, today: NaiveDate) -> Lookup {
    let Some(exemption) = exemption else {
        return out;
    };
    match exemption.until {
        // Valid through the whole `until` day.
        Some(until) if until < today => out.lapsed = Some(exemption),
        _ => out.active = Some(exemption),
    }
    out
}

fn from_tags(tags: &BTreeMap<String, String>, problems: &mut Vec<String>) -> Option<Exemption> {
    let reason = tags.get(TAG_EXEMPT)?;
    if reason.trim().is_empty() {
        problems.push(format!(
            "tag {TAG_EXEMPT} has no reason; an exemption needs one (ignored)"
        ));
        return None;
    }
    let until = match tags.get(TAG_EXEMPT_UNTIL) {
        None => None,
        Some(raw) => match parse_date(raw) {
            Ok(d) => Some(d),
            Err(e) => {
                problems.push(format!("tag {TAG_EXEMPT_UNTIL}: {e}; exemption ignored"));
                return None;
            }
        },
    };
    Some(Exemption {
        reason: reason.trim().to_owned(),
        until,
        source: Source::Tag,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{stage, today};

    fn tagged(tags: &[(&str, &str)]) -> StageRecord {
        let mut s = stage("abc123", "prod", false);
        s.tags = tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        s
    }

    #[test]
    fn tags_exempt_until_their_date_passes() {
        let none = Rules::default();
        // (tags, active, lapsed, problems)
        type Case<'a> = (&'a [(&'a str, &'a str)], bool, bool, usize);
        let cases: &[Case] = &[
            (&[], false, false, 0),
            (
                &[(TAG_EXEMPT, "vendor API, no tracing support")],
                true,
                false,
                0,
            ),
            (
                &[(TAG_EXEMPT, "r"), (TAG_EXEMPT_UNTIL, "2026-11-24")],
                true,
                false,
                0,
            ),
            (
                &[(TAG_EXEMPT, "r"), (TAG_EXEMPT_UNTIL, "2026-11-23")],
                false,
                true,
                0,
            ),
            (
                &[(TAG_EXEMPT, "r"), (TAG_EXEMPT_UNTIL, "2026-13-01")],
                false,
                false,
                1,
            ),
            (
                &[(TAG_EXEMPT, "r"), (TAG_EXEMPT_UNTIL, "next week")],
                false,
                false,
                1,
            ),
            (&[(TAG_EXEMPT, "  ")], false, false, 1),
            (&[(TAG_EXEMPT_UNTIL, "2030-01-01")], false, false, 0),
        ];
        for (tags, active, lapsed, problems) in cases {
            let c = lookup(&tagged(tags), &none, today());
            assert_eq!(
                (c.active.is_some(), c.lapsed.is_some(), c.problems.len()),
                (*active, *lapsed, *problems),
                "{tags:?}: {c:?}"
            );
        }
        let c = lookup(&tagged(&[(TAG_EXEMPT, " legacy ")]), &none, today());
        assert_eq!(c.active.unwrap().reason, "legacy");
    }

    #[test]
    fn config_rules_match_arns_and_patterns() {
        let rules = Rules::parse(
            r#"[
              {"stage": "arn:aws:apigateway:eu-west-1::/restapis/abc123/stages/prod", "reason": "by arn"},
              {"stage": "111111111111/*/sandbox-*", "reason": "sandboxes", "until": "2027-01-01"},
              {"stage": "222222222222/old/*", "reason": "expired", "until": "2026-01-01"}
            ]"#,
        )
        .unwrap();
        assert_eq!(rules.len(), 3);
        let by_arn = lookup(&stage("abc123", "prod", false), &rules, today());
        assert_eq!(
            by_arn.active.as_ref().map(|e| e.reason.as_str()),
            Some("by arn")
        );
        assert_eq!(by_arn.active.unwrap().source, Source::Config);
        let sandbox = lookup(&stage("zzz", "sandbox-7", false), &rules, today());
        assert_eq!(
            sandbox.active.unwrap().until,
            NaiveDate::from_ymd_opt(2027, 1, 1)
        );
        assert!(lookup(&stage("zzz", "prod", false), &rules, today())
            .active
            .is_none());
        let mut old = stage("old", "v1", false);
        old.place.account = crate::model::AccountId::parse("222222222222").unwrap();
        let lapsed = lookup(&old, &rules, today());
        assert!(lapsed.active.is_none() && lapsed.lapsed.is_some());
        // A tag wins over configuration.
        let mut both = stage("abc123", "prod", false);
        both.tags.insert(TAG_EXEMPT.into(), "by tag".into());
        assert_eq!(
            lookup(&both, &rules, today()).active.unwrap().source,
            Source::Tag
        );
    }

    #[test]
    fn bad_configuration_is_refused_with_the_rule_named() {
        for (json, want) in [
            ("{}", "JSON array"),
            (
                r#"[{"stage": "a/b/c"}]"#,
                "entry 0, field \"reason\": is required",
            ),
            (
                r#"[{"stage": "111111111111/b/c", "reason": " "}]"#,
                "entry 0, field \"reason\": a reason is required",
            ),
            (
                r#"[{"stage": "a/b", "reason": "r"}]"#,
                "account/apiId/stage",
            ),
            (
                r#"[{"stage": "111111111111/b/c", "reason": "r", "until": "soon"}]"#,
                "entry 0, field \"until\": \"soon\" is not a YYYY-MM-DD date",
            ),
            (
                r#"[{"stage": "a/b/c", "reason": "r", "typo": 1}]"#,
                "unknown field \"typo\"",
            ),
        ] {
            let err = Rules::parse(json).unwrap_err().to_string();
            assert!(err.contains(want), "{json}: {err}");
        }
        assert!(Rules::parse("  ").unwrap().is_empty());
    }
}
