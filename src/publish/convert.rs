//! Our ASFF struct to the SDK's `AwsSecurityFinding`, field for field.

use aws_sdk_securityhub::types as sh;

use crate::asff::{Finding, RecordState, Severity};

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
            let d = &r.details.aws_api_gateway_stage;
            let details = sh::AwsApiGatewayStageDetails::builder()
                .stage_name(&d.stage_name)
                .set_deployment_id(d.deployment_id.clone())
                .set_description(d.description.clone())
                .cache_cluster_enabled(d.cache_cluster_enabled)
                .tracing_enabled(d.tracing_enabled)
                .set_created_date(d.created_date.clone())
                .set_last_updated_date(d.last_updated_date.clone())
                .set_web_acl_arn(d.web_acl_arn.clone())
                .build();
            sh::Resource::builder()
                .r#type(&r.r#type)
                .id(&r.id)
                .partition(sh::Partition::from(r.partition.as_str()))
                .region(&r.region)
                .set_tags((!r.tags.is_empty()).then(|| r.tags.clone().into_iter().collect()))
                .details(
                    sh::ResourceDetails::builder()
                        .aws_api_gateway_stage(details)
                        .build(),
                )
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
        .region(&f.region)
        .generator_id(&f.generator_id)
        .aws_account_id(&f.aws_account_id)
        .set_types(Some(f.types.clone()))
        .first_observed_at(&f.first_observed_at)
        .last_observed_at(&f.last_observed_at)
        .created_at(&f.created_at)
        .updated_at(&f.updated_at)
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
                .build(),
        )
        .record_state(match f.record_state {
            RecordState::Active => sh::RecordState::Active,
            RecordState::Archived => sh::RecordState::Archived,
        })
        .finding_provider_fields(provider_fields)
        .build()
}
