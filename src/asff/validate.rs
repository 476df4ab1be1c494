//! Security Hub's ASFF rules, checked on our side before import.
//! Limits from the Security Hub API reference (AwsSecurityFinding) and the
//! BatchImportFindings documentation.

use super::{Finding, SCHEMA_VERSION};
use crate::model::{AccountId, Region};

/// BatchImportFindings rejects a finding larger than 240 KB.
pub const MAX_FINDING_BYTES: usize = 240 * 1024;

const TYPE_NAMESPACES: &[&str] = &[
    "Software and Configuration Checks",
    "TTPs",
    "Effects",
    "Unusual Behaviors",
    "Sensitive Data Identifications",
];

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingProblem {
    pub field: &'static str,
    pub problem: String,
}

/// A finding that must not be sent, with every rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("finding {id} breaks the ASFF rules: {}", .problems.iter().map(|p| format!("{}: {}", p.field, p.problem)).collect::<Vec<_>>().join("; "))]
pub struct InvalidFinding {
    pub id: String,
    pub account: AccountId,
    pub region: Region,
    pub problems: Vec<FindingProblem>,
}

struct Problems(Vec<FindingProblem>);

impl Problems {
    fn fail(&mut self, field: &'static str, problem: impl Into<String>) {
        self.0.push(FindingProblem {
            field,
            problem: problem.into(),
        });
    }

    fn text(&mut self, field: &'static str, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.fail(field, "is required and empty");
        } else if value.chars().count() > max {
            self.fail(
                field,
                format!(
                    "is {} characters, at most {max} allowed",
                    value.chars().count()
                ),
            );
        }
    }
}

/// Checks one finding against the ASFF rules; returns its serialised size
/// in bytes, which batching needs too (so the finding is serialised once).
pub fn validate(f: &Finding) -> Result<usize, InvalidFinding> {
    let mut c = Problems(Vec::new());
    if f.schema_version != SCHEMA_VERSION {
        c.fail("SchemaVersion", format!("must be {SCHEMA_VERSION}"));
    }
    c.text("Id", &f.id, 512);
    c.text("GeneratorId", &f.generator_id, 512);
    c.text("Title", &f.title, 256);
    c.text("Description", &f.description, 1024);
    c.text("ProductName", &f.product_name, 128);
    c.text("CompanyName", &f.company_name, 128);

    // AwsAccountId is an AccountId and Region a Region: they cannot be
    // malformed.
    // The default product ARN must name the finding's own account and the
    // region it is imported into, or Security Hub refuses the import.
    let arn_parts: Vec<&str> = f.product_arn.splitn(6, ':').collect();
    let expected_resource = format!("product/{0}/default", f.aws_account_id);
    let arn_ok = arn_parts.len() == 6
        && arn_parts[0] == "arn"
        && arn_parts[2] == "securityhub"
        && arn_parts[3] == f.region.as_str()
        && arn_parts[4] == f.aws_account_id.as_str()
        && arn_parts[5] == expected_resource;
    if !arn_ok {
        c.fail(
            "ProductArn",
            format!(
                "{:?} is not arn:<partition>:securityhub:{}:{}:{expected_resource}",
                f.product_arn, f.region, f.aws_account_id
            ),
        );
    }

    if f.types.is_empty() || f.types.len() > 50 {
        c.fail(
            "Types",
            format!("holds {} types, 1 to 50 required", f.types.len()),
        );
    }
    for t in f.types.iter().chain(&f.finding_provider_fields.types) {
        let parts: Vec<&str> = t.split('/').collect();
        if parts.len() > 3
            || !TYPE_NAMESPACES.contains(&parts[0])
            || parts.iter().any(|p| p.is_empty())
        {
            c.fail(
                "Types",
                format!("{t:?} is not namespace/category/classifier"),
            );
        }
    }

    // Timestamps are `DateTime`s, written in ASFF's format by `asff::ts`.
    if f.updated_at < f.created_at {
        c.fail("UpdatedAt", "is before CreatedAt");
    }
    if f.last_observed_at < f.first_observed_at {
        c.fail("LastObservedAt", "is before FirstObservedAt");
    }

    // Severity labels, compliance status, record state and partition are
    // enums: a finding cannot hold a value outside ASFF's.

    c.text(
        "Remediation.Recommendation.Text",
        &f.remediation.recommendation.text,
        512,
    );
    c.text(
        "Remediation.Recommendation.Url",
        &f.remediation.recommendation.url,
        512,
    );

    if f.product_fields.len() > 50 {
        c.fail(
            "ProductFields",
            format!("holds {} pairs, at most 50", f.product_fields.len()),
        );
    }
    for (k, v) in &f.product_fields {
        if k.starts_with("aws/") {
            c.fail(
                "ProductFields",
                format!("key {k:?} uses the reserved aws/ prefix"),
            );
        }
        if k.is_empty() || k.chars().count() > 128 {
            c.fail(
                "ProductFields",
                format!("key {k:?} must be 1-128 characters"),
            );
        }
        if v.chars().count() > 2048 {
            c.fail(
                "ProductFields",
                format!("value of {k:?} is over 2048 characters"),
            );
        }
    }

    if f.resources.is_empty() || f.resources.len() > 32 {
        c.fail(
            "Resources",
            format!("holds {} resources, 1 to 32 required", f.resources.len()),
        );
    }
    for r in &f.resources {
        c.text("Resources.Type", &r.r#type, 256);
        c.text("Resources.Id", &r.id, 512);
        if r.tags.len() > 50 {
            c.fail(
                "Resources.Tags",
                format!("holds {} tags, at most 50", r.tags.len()),
            );
        }
        for (k, v) in &r.tags {
            if k.is_empty() || k.chars().count() > 128 || v.chars().count() > 256 {
                c.fail(
                    "Resources.Tags",
                    format!("tag {k:?} breaks the 128/256 character limits"),
                );
            }
        }
    }

    // Cheap enough: findings are a few KB, and an oversized one would be
    // rejected by BatchImportFindings anyway.
    let size = serde_json::to_vec(f).map(|v| v.len()).unwrap_or(usize::MAX);
    if size > MAX_FINDING_BYTES {
        c.fail(
            "(finding)",
            format!("is {size} bytes, at most {MAX_FINDING_BYTES}"),
        );
    }

    if c.0.is_empty() {
        Ok(size)
    } else {
        Err(InvalidFinding {
            id: f.id.clone(),
            account: f.aws_account_id.clone(),
            region: f.region,
            problems: c.0,
        })
    }
}
