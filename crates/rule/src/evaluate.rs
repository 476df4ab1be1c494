//! The rule: a REST API stage must have X-Ray active tracing on; a failing
//! stage may be exempted. Pure.

use chrono::NaiveDate;
use serde::Serialize;

use crate::exempt::{self, Exemption, Rules};
use crate::model::StageRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Compliance {
    Passed,
    /// ASFF's WARNING: only the sampling rule gives it (a stage partly
    /// seen); the stage rule passes or fails.
    Warning,
    Failed,
}

impl Compliance {
    pub fn as_str(self) -> &'static str {
        match self {
            Compliance::Passed => "PASSED",
            Compliance::Warning => "WARNING",
            Compliance::Failed => "FAILED",
        }
    }
}

/// How a stage is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Passing,
    Failing,
    /// Failing, with an exemption in force: reported ARCHIVED.
    Exempt,
}

/// A stage with its verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub stage: StageRecord,
    pub compliance: Compliance,
    /// An exemption in force; only for a failing stage.
    pub exemption: Option<Exemption>,
    /// An exemption whose date has passed; the stage fails again.
    pub lapsed: Option<Exemption>,
    /// Malformed exemption tags, ignored (reported as warnings).
    pub problems: Vec<String>,
    /// The configured exemption whose pattern matched, needed or not.
    pub matched_rule: Option<usize>,
}

impl Evaluation {
    pub fn status(&self) -> Status {
        match (self.compliance, &self.exemption) {
            (Compliance::Passed | Compliance::Warning, _) => Status::Passing,
            (Compliance::Failed, Some(_)) => Status::Exempt,
            (Compliance::Failed, None) => Status::Failing,
        }
    }
}

/// The rule itself: tracing on passes, off (false or unset) fails.
pub fn compliance(tracing_enabled: bool) -> Compliance {
    if tracing_enabled {
        Compliance::Passed
    } else {
        Compliance::Failed
    }
}

pub fn evaluate(stage: StageRecord, rules: &Rules, today: NaiveDate) -> Evaluation {
    let compliance = compliance(stage.tracing_enabled);
    let found = exempt::lookup(&stage, rules, today);
    // An exemption only matters while the stage fails the check.
    let failing = compliance == Compliance::Failed;
    Evaluation {
        stage,
        compliance,
        exemption: found.active.filter(|_| failing),
        lapsed: found.lapsed.filter(|_| failing),
        problems: found.problems,
        matched_rule: found.matched_rule,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{eval, stage};

    #[test]
    fn tracing_and_exemptions_decide_the_status() {
        let tag = |s: &mut StageRecord, k: &str, v: &str| {
            s.tags.insert(k.into(), v.into());
        };
        let mut exempt_on = stage("a", "p", true);
        tag(&mut exempt_on, exempt::TAG_EXEMPT, "reason");
        let mut exempt_off = stage("a", "p", false);
        tag(&mut exempt_off, exempt::TAG_EXEMPT, "reason");
        let mut lapsed = exempt_off.clone();
        tag(&mut lapsed, exempt::TAG_EXEMPT_UNTIL, "2020-01-01");
        let mut bad_date = exempt_off.clone();
        tag(&mut bad_date, exempt::TAG_EXEMPT_UNTIL, "2020-02-30");
        let table = [
            (
                stage("a", "p", true),
                Compliance::Passed,
                Status::Passing,
                0,
            ),
            (
                stage("a", "p", false),
                Compliance::Failed,
                Status::Failing,
                0,
            ),
            (exempt_on, Compliance::Passed, Status::Passing, 0),
            (exempt_off, Compliance::Failed, Status::Exempt, 0),
            (lapsed.clone(), Compliance::Failed, Status::Failing, 0),
            (bad_date, Compliance::Failed, Status::Failing, 1),
        ];
        for (s, compliance, status, problems) in table {
            let ev = eval(s.clone());
            assert_eq!(
                (ev.compliance, ev.status(), ev.problems.len()),
                (compliance, status, problems),
                "{:?}",
                s.tags
            );
        }
        assert!(eval(lapsed).lapsed.is_some());
    }
}
