//! Our ASFF struct to the SDK's `AwsSecurityFinding` and back, field for
//! field (`from_sdk(&to_sdk(f)) == f`).

use aws_sdk_securityhub::types as sh;

use chrono::{DateTime, Utc};

use crate::asff::{
    parse_timestamp, timestamp, Compliance, Finding, RecordState, Severity, SeverityLabel,
};
use crate::model::{AccountId, Partition, Region};

fn severity(s: &Severity) -> sh::Severity {
    sh::Severity::builder()
        .label(sh::SeverityLabel::from(s.label.as_str()))
        .original(&s.original)
        .build()
}

pub fn to_sdk(f: &Finding) -> sh::AwsSecurityFinding {
    let resources = f
        .resources
        .iter()
        .map(|r| {
            sh::Resource::builder()
                .r#type(&r.r#type)
                .id(&r.id)
                .partition(sh::Partition::from(r.partition.as_str()))
                .region(r.region.as_str())
                .set_tags((!r.tags.is_empty()).then(|| r.tags.clone().into_iter().collect()))
                .details(details_to_sdk(&r.details))
                .build()
        })
        .collect();
    let provider_fields = sh::FindingProviderFields::builder()
        .severity(
            sh::FindingProviderSeverity::builder()
                .label(sh::SeverityLabel::from(
                    f.finding_provider_fields.severity.label.as_str(),
                ))
                .original(&f.finding_provider_fields.severity.original)
                .build(),
        )
        .set_types(Some(f.finding_provider_fields.types.clone()))
        .build();
    sh::AwsSecurityFinding::builder()
        .schema_version(&f.schema_version)
        .id(&f.id)
        .product_arn(&f.product_arn)
        .product_name(&f.product_name)
        .company_name(&f.company_name)
        .region(f.region.as_str())
        .generator_id(&f.generator_id)
        .aws_account_id(f.aws_account_id.as_str())
        .set_types(Some(f.types.clone()))
        .first_observed_at(timestamp(f.first_observed_at))
        .last_observed_at(timestamp(f.last_observed_at))
        .created_at(timestamp(f.created_at))
        .updated_at(timestamp(f.updated_at))
        .severity(severity(&f.severity))
        .title(&f.title)
        .description(&f.description)
        .remediation(
            sh::Remediation::builder()
                .recommendation(
                    sh::Recommendation::builder()
                        .text(&f.remediation.recommendation.text)
                        .url(&f.remediation.recommendation.url)
                        .build(),
                )
                .build(),
        )
        .set_product_fields(Some(f.product_fields.clone().into_iter().collect()))
        .set_resources(Some(resources))
        .compliance(
            sh::Compliance::builder()
                .status(sh::ComplianceStatus::from(f.compliance.status.as_str()))
                .set_related_requirements(
                    (!f.compliance.related_requirements.is_empty())
                        .then(|| f.compliance.related_requirements.clone()),
                )
                .build(),
        )
        .record_state(match f.record_state {
            RecordState::Active => sh::RecordState::Active,
            RecordState::Archived => sh::RecordState::Archived,
        })
        .finding_provider_fields(provider_fields)
        .build()
}

fn details_to_sdk(d: &crate::asff::ResourceDetails) -> sh::ResourceDetails {
    let stage = d.aws_api_gateway_stage.as_ref().map(|d| {
        sh::AwsApiGatewayStageDetails::builder()
            .stage_name(&d.stage_name)
            .set_deployment_id(d.deployment_id.clone())
            .set_description(d.description.clone())
            .cache_cluster_enabled(d.cache_cluster_enabled)
            .tracing_enabled(d.tracing_enabled)
            .set_created_date(d.created_date.map(timestamp))
            .set_last_updated_date(d.last_updated_date.map(timestamp))
            .set_web_acl_arn(d.web_acl_arn.clone())
            .build()
    });
    let function = d.aws_lambda_function.as_ref().map(|f| {
        sh::AwsLambdaFunctionDetails::builder()
            .function_name(&f.function_name)
            .set_tracing_config(f.tracing_config.as_ref().map(|t| {
                sh::AwsLambdaFunctionTracingConfig::builder()
                    .mode(&t.mode)
                    .build()
            }))
            .set_role(f.role.clone())
            .set_version(f.version.clone())
            .build()
    });
    sh::ResourceDetails::builder()
        .set_aws_api_gateway_stage(stage)
        .set_aws_lambda_function(function)
        .build()
}

/// The SDK's finding back to ours (for findings this product wrote). Fields
/// we never set are dropped; ones we always set default when missing. A
/// value our model cannot hold (a severity, status, state or partition we
/// never write) is an error naming the field: such a finding is not ours.
pub fn from_sdk(f: &sh::AwsSecurityFinding) -> Result<Finding, String> {
    use crate::asff::{ComplianceField, FindingProviderFields, Recommendation, Remediation};
    let sev = |field: &str, label: Option<&sh::SeverityLabel>, original: Option<&str>| {
        let raw = label.map(|l| l.as_str()).unwrap_or_default();
        Ok::<_, String>(Severity {
            label: SeverityLabel::parse(raw).ok_or_else(|| format!("{field} {raw:?}"))?,
            original: original.unwrap_or_default().to_owned(),
        })
    };
    let s = |v: Option<&str>| v.unwrap_or_default().to_owned();
    let time = |field: &str, v: Option<&str>| time(field, v);
    let region =
        |v: Option<&str>| Region::parse(v.unwrap_or_default()).map_err(|e| format!("Region: {e}"));
    let fpf = f.finding_provider_fields();
    let rec = f.remediation().and_then(|r| r.recommendation());
    let compliance = f
        .compliance()
        .and_then(|c| c.status())
        .map(|c| c.as_str())
        .unwrap_or_default();
    let compliance = match compliance {
        "PASSED" => Compliance::Passed,
        "WARNING" => Compliance::Warning,
        "FAILED" => Compliance::Failed,
        other => return Err(format!("Compliance.Status {other:?}")),
    };
    let record_state = match f.record_state() {
        Some(sh::RecordState::Archived) => RecordState::Archived,
        Some(sh::RecordState::Active) | None => RecordState::Active,
        Some(other) => return Err(format!("RecordState {:?}", other.as_str())),
    };
    let severity = sev(
        "Severity.Label",
        f.severity().and_then(|x| x.label()),
        f.severity().and_then(|x| x.original()),
    )?;
    let provider_severity = match fpf.and_then(|p| p.severity()) {
        Some(x) => sev(
            "FindingProviderFields.Severity.Label",
            x.label(),
            x.original(),
        )?,
        None => severity.clone(),
    };
    let resources = f
        .resources()
        .iter()
        .map(|r| resource(r, &s))
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Finding {
        schema_version: s(f.schema_version()),
        id: s(f.id()),
        product_arn: s(f.product_arn()),
        product_name: s(f.product_name()),
        company_name: s(f.company_name()),
        region: region(f.region())?,
        generator_id: s(f.generator_id()),
        aws_account_id: AccountId::parse(f.aws_account_id().unwrap_or_default())
            .map_err(|e| format!("AwsAccountId: {e}"))?,
        types: f.types().to_vec(),
        first_observed_at: time("FirstObservedAt", f.first_observed_at().or(f.created_at()))?,
        last_observed_at: time("LastObservedAt", f.last_observed_at().or(f.updated_at()))?,
        created_at: time("CreatedAt", f.created_at())?,
        updated_at: time("UpdatedAt", f.updated_at())?,
        severity,
        title: s(f.title()),
        description: s(f.description()),
        remediation: Remediation {
            recommendation: Recommendation {
                text: s(rec.and_then(|r| r.text())),
                url: s(rec.and_then(|r| r.url())),
            },
        },
        product_fields: f
            .product_fields()
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| !k.starts_with("aws/"))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        resources,
        compliance: ComplianceField {
            status: compliance,
            related_requirements: f
                .compliance()
                .map(|c| c.related_requirements().to_vec())
                .unwrap_or_default(),
        },
        record_state,
        finding_provider_fields: FindingProviderFields {
            severity: provider_severity,
            types: fpf
                .map(|p| p.types().to_vec())
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| f.types().to_vec()),
        },
    })
}

fn resource(
    r: &sh::Resource,
    s: &dyn Fn(Option<&str>) -> String,
) -> Result<crate::asff::Resource, String> {
    use crate::asff::{
        LambdaDetails, LambdaTracingConfig, Resource, ResourceDetails, StageDetails,
    };
    let d = r.details().and_then(|d| d.aws_api_gateway_stage());
    let raw = r.partition().map(|p| p.as_str()).unwrap_or("aws");
    Ok(Resource {
        r#type: s(r.r#type()),
        id: s(r.id()),
        partition: Partition::parse(raw).ok_or_else(|| format!("Resources.Partition {raw:?}"))?,
        region: Region::parse(r.region().unwrap_or_default())
            .map_err(|e| format!("Resources.Region: {e}"))?,
        tags: r
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        details: ResourceDetails {
            aws_api_gateway_stage: d
                .map(|d| {
                    Ok::<_, String>(StageDetails {
                        stage_name: s(d.stage_name()),
                        deployment_id: d.deployment_id().map(str::to_owned),
                        description: d.description().map(str::to_owned),
                        cache_cluster_enabled: d.cache_cluster_enabled().unwrap_or(false),
                        tracing_enabled: d.tracing_enabled().unwrap_or(false),
                        created_date: optional_time("CreatedDate", d.created_date())?,
                        last_updated_date: optional_time("LastUpdatedDate", d.last_updated_date())?,
                        web_acl_arn: d.web_acl_arn().map(str::to_owned),
                    })
                })
                .transpose()?,
            aws_lambda_function: r.details().and_then(|d| d.aws_lambda_function()).map(|f| {
                LambdaDetails {
                    function_name: s(f.function_name()),
                    tracing_config: f.tracing_config().and_then(|t| t.mode()).map(|mode| {
                        LambdaTracingConfig {
                            mode: mode.to_owned(),
                        }
                    }),
                    role: f.role().map(str::to_owned),
                    version: f.version().map(str::to_owned),
                }
            }),
        },
    })
}

/// A timestamp Security Hub gave back; one we cannot read means the finding
/// is not ours (we always write RFC 3339).
fn time(field: &str, v: Option<&str>) -> Result<DateTime<Utc>, String> {
    let raw = v.unwrap_or_default();
    parse_timestamp(raw).map_err(|e| format!("{field} {}: {e}", crate::model::quote(raw)))
}

fn optional_time(field: &str, v: Option<&str>) -> Result<Option<DateTime<Utc>>, String> {
    v.map(|raw| time(field, Some(raw))).transpose()
}
