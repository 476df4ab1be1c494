//! The verdict: the rules that apply to a stage, in order; the first
//! unconditional one decides every request no earlier (conditional) rule
//! took. What is not known before deploy is tried both ways: a verdict
//! that holds either way stands, one that does not is UNKNOWN.

use serde::Serialize;

use super::{Recording, SamplingRule, SamplingStatus, Target, Tri, DEFAULT_RULE};

/// Past this many unknowns the verdict is UNKNOWN without trying them all
/// (2^8 orderings of a handful of rules each: microseconds).
const MAX_UNKNOWNS: u32 = 8;

/// The rule that decides, and the rules that apply in front of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decided {
    pub rule: SamplingRule,
    pub recording: Recording,
    /// Conditional rules tried before it, in order, with what each records
    /// (a 0/0 one is a deliberate exclusion: named, not failed on).
    pub in_front: Vec<(SamplingRule, Recording)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SamplingVerdict {
    pub status: SamplingStatus,
    /// `None` only when UNKNOWN.
    pub decided: Option<Decided>,
    /// Why UNKNOWN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown: Option<String>,
}

impl SamplingVerdict {
    pub fn unknown(why: impl Into<String>) -> Self {
        Self {
            status: SamplingStatus::Unknown,
            decided: None,
            unknown: Some(why.into()),
        }
    }
}

/// One rule with each unknown settled one way.
#[derive(Clone)]
struct Settled<'a> {
    rule: &'a SamplingRule,
    priority: i64,
    applies: bool,
    unconditional: bool,
    recording: Recording,
}

/// One rule's open questions: each `Some` is settled both ways.
struct Open<'a> {
    rule: &'a SamplingRule,
    applies: Tri,
    unconditional: Tri,
    recording: Option<Recording>,
    priority: Option<i64>,
}

impl Open<'_> {
    fn unknowns(&self) -> u32 {
        u32::from(self.applies == Tri::Unknown)
            + u32::from(self.unconditional == Tri::Unknown)
            + u32::from(self.recording.is_none())
            + u32::from(self.priority.is_none())
    }

    /// Settles this rule's unknowns from the low bits of `bits`, shifting
    /// them out.
    fn settle(&self, bits: &mut u32) -> Settled<'_> {
        let mut take = || {
            let b = *bits & 1 == 1;
            *bits >>= 1;
            b
        };
        let mut tri = |t: Tri| match t {
            Tri::Yes => true,
            Tri::No => false,
            Tri::Unknown => take(),
        };
        let applies = tri(self.applies);
        let unconditional = tri(self.unconditional);
        let recording = self.recording.unwrap_or_else(|| match take() {
            true => Recording::Records,
            false => Recording::Nothing,
        });
        // An unknown priority puts the rule first or last.
        let priority = self.priority.unwrap_or_else(|| match take() {
            true => i64::MIN,
            false => i64::MAX,
        });
        Settled {
            rule: self.rule,
            priority,
            applies,
            unconditional,
            recording,
        }
    }
}

/// Judges `target` against `rules` (all of an account-region's, or all a
/// template or plan defines). AWS's Default rule is added when no rule is
/// named `Default` (a template cannot create it; every account has it).
pub fn judge(target: &Target<'_>, rules: &[SamplingRule]) -> SamplingVerdict {
    let default = SamplingRule::aws_default();
    let mut all: Vec<&SamplingRule> = rules.iter().collect();
    if !rules.iter().any(|r| r.name == DEFAULT_RULE) {
        all.push(&default);
    }
    let mut open: Vec<Open<'_>> = all
        .into_iter()
        .map(|rule| Open {
            rule,
            applies: target.applies(rule),
            unconditional: rule.unconditional(),
            recording: rule.recording(),
            priority: rule.priority,
        })
        .filter(|o| o.applies != Tri::No)
        .collect();
    open.sort_by(|a, b| order(a.priority, &a.rule.name, b.priority, &b.rule.name));
    // Rules behind the first one that surely decides never matter.
    if let Some(cut) = open
        .iter()
        .position(|o| o.applies == Tri::Yes && o.unconditional == Tri::Yes && o.priority.is_some())
    {
        let mut i = 0;
        open.retain(|o| {
            i += 1;
            i <= cut + 1 || o.priority.is_none()
        });
    }
    let unknowns: u32 = open.iter().map(Open::unknowns).sum();
    if unknowns > MAX_UNKNOWNS {
        return SamplingVerdict::unknown(format!(
            "{unknowns} values of the sampling rules that may apply are not known before deploy"
        ));
    }
    let mut first: Option<Decided> = None;
    let mut statuses = Vec::new();
    for scenario in 0..(1u32 << unknowns) {
        let mut bits = scenario;
        let mut settled: Vec<Settled<'_>> = open.iter().map(|o| o.settle(&mut bits)).collect();
        settled.retain(|s| s.applies);
        settled.sort_by(|a, b| {
            order(
                Some(a.priority),
                &a.rule.name,
                Some(b.priority),
                &b.rule.name,
            )
        });
        let decided = decide(&settled);
        let status = status_of(&decided);
        if !statuses.contains(&status) {
            statuses.push(status);
        }
        first.get_or_insert(decided);
    }
    match statuses.as_slice() {
        [status] => SamplingVerdict {
            status: *status,
            decided: first,
            unknown: None,
        },
        _ => {
            let names: Vec<String> = open
                .iter()
                .filter(|o| o.unknowns() > 0)
                .map(|o| format!("'{}'", crate::model::cut(&o.rule.name)))
                .collect();
            SamplingVerdict::unknown(format!(
                "whether sampling rule(s) {} leave the stage blind is not known before deploy",
                names.join(", ")
            ))
        }
    }
}

/// X-Ray's order: ascending priority, ties by rule name. Unknown last.
fn order(pa: Option<i64>, na: &str, pb: Option<i64>, nb: &str) -> std::cmp::Ordering {
    (pa.unwrap_or(i64::MAX), na).cmp(&(pb.unwrap_or(i64::MAX), nb))
}

/// The first unconditional rule and the conditional ones before it. There
/// is always one: the Default rule matches everything unless edited, and
/// with none left nothing is recorded.
fn decide(settled: &[Settled<'_>]) -> Decided {
    let mut in_front = Vec::new();
    for s in settled {
        if s.unconditional {
            return Decided {
                rule: s.rule.clone(),
                recording: s.recording,
                in_front,
            };
        }
        in_front.push((s.rule.clone(), s.recording));
    }
    // No rule takes every request: those no conditional rule took are not
    // recorded, as under an unconditional 0/0 rule.
    Decided {
        rule: SamplingRule {
            name: "(no rule takes the remaining requests)".into(),
            reservoir: Some(0.0),
            rate: Some(0.0),
            ..SamplingRule::aws_default()
        },
        recording: Recording::Nothing,
        in_front,
    }
}

fn status_of(d: &Decided) -> SamplingStatus {
    match d.recording {
        Recording::Records => SamplingStatus::Passed,
        Recording::BoostOnly => SamplingStatus::Warning,
        Recording::Nothing if d.in_front.iter().any(|(_, r)| *r != Recording::Nothing) => {
            SamplingStatus::Warning
        }
        Recording::Nothing => SamplingStatus::Failed,
    }
}
