//! Seeding the trace path on moto: execution roles, functions with a
//! tracing mode set at creation (moto's UpdateFunctionConfiguration ignores
//! TracingConfig), and REST APIs whose methods integrate with them. Shared
//! by the integration tests and `make bench-moto`.
#![allow(dead_code)] // each user needs a part

use aws_config::SdkConfig;
use aws_sdk_apigateway::types::IntegrationType;

/// The execution role every seeded function uses (moto's Lambda refuses a
/// role its IAM does not hold). Created once per account.
pub async fn ensure_role(cfg: &SdkConfig) -> String {
    let iam = aws_sdk_iam::Client::new(cfg);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    match iam
        .create_role()
        .role_name("seeded-function-role")
        .assume_role_policy_document(trust)
        .send()
        .await
    {
        Ok(out) => out.role.unwrap().arn,
        Err(_) => {
            iam.get_role()
                .role_name("seeded-function-role")
                .send()
                .await
                .unwrap()
                .role
                .unwrap()
                .arn
        }
    }
}

/// An empty zip archive: moto without Docker never runs the code.
pub const EMPTY_ZIP: [u8; 22] = [
    0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

/// Creates function `name` with X-Ray `Active` or `PassThrough`; its ARN.
pub async fn create_function(cfg: &SdkConfig, name: &str, active: bool, role: &str) -> String {
    use aws_sdk_lambda::types::{FunctionCode, Runtime, TracingConfig, TracingMode};
    let mode = if active {
        TracingMode::Active
    } else {
        TracingMode::PassThrough
    };
    aws_sdk_lambda::Client::new(cfg)
        .create_function()
        .function_name(name)
        .runtime(Runtime::Python312)
        .handler("index.handler")
        .role(role)
        .code(
            FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(EMPTY_ZIP.to_vec()))
                .build(),
        )
        .tracing_config(TracingConfig::builder().mode(mode).build())
        .send()
        .await
        .unwrap()
        .function_arn
        .unwrap()
}

/// The integration URI API Gateway stores for a Lambda function ARN (or a
/// template of one with `${stageVariables.x}`).
pub fn lambda_uri(region: &str, function_arn: &str) -> String {
    format!(
        "arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    )
}

/// Where one seeded method leads.
pub enum Target {
    /// AWS_PROXY to this URI.
    Lambda(String),
    Mock,
    Http(&'static str),
}

/// `GET /<path>` to `target`, behind a TOKEN authorizer with this URI.
pub struct Route {
    pub path: &'static str,
    pub target: Target,
    pub authorizer: Option<String>,
}

impl Route {
    pub fn new(path: &'static str, target: Target) -> Self {
        Self {
            path,
            target,
            authorizer: None,
        }
    }
}

/// One stage: name, tracing, stage variables.
pub type StageSpec<'a> = (&'a str, bool, &'a [(&'a str, &'a str)]);

/// A REST API with `routes`, one deployment and `stages`; its id.
pub async fn create_wired_api(
    cfg: &SdkConfig,
    name: &str,
    routes: &[Route],
    stages: &[StageSpec<'_>],
) -> String {
    let api = aws_sdk_apigateway::Client::new(cfg);
    let id = api
        .create_rest_api()
        .name(name)
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    let root = crate::support::root_resource(&api, &id).await;
    for r in routes {
        let res = api
            .create_resource()
            .rest_api_id(&id)
            .parent_id(&root)
            .path_part(r.path)
            .send()
            .await
            .unwrap()
            .id
            .unwrap();
        let mut method = api
            .put_method()
            .rest_api_id(&id)
            .resource_id(&res)
            .http_method("GET")
            .authorization_type("NONE");
        if let Some(uri) = &r.authorizer {
            let authorizer = api
                .create_authorizer()
                .rest_api_id(&id)
                .name(format!("auth-{}", r.path))
                .r#type(aws_sdk_apigateway::types::AuthorizerType::Token)
                .authorizer_uri(uri)
                .identity_source("method.request.header.Authorization")
                .send()
                .await
                .unwrap()
                .id
                .unwrap();
            method = method
                .authorization_type("CUSTOM")
                .authorizer_id(authorizer);
        }
        method.send().await.unwrap();
        let integration = api
            .put_integration()
            .rest_api_id(&id)
            .resource_id(&res)
            .http_method("GET");
        let integration = match &r.target {
            Target::Lambda(uri) => integration
                .r#type(IntegrationType::AwsProxy)
                .integration_http_method("POST")
                .uri(uri),
            Target::Mock => integration.r#type(IntegrationType::Mock),
            Target::Http(url) => integration
                .r#type(IntegrationType::HttpProxy)
                .integration_http_method("GET")
                .uri(*url),
        };
        integration.send().await.unwrap();
    }
    let dep = api
        .create_deployment()
        .rest_api_id(&id)
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    for (stage, tracing, vars) in stages {
        let mut req = api
            .create_stage()
            .rest_api_id(&id)
            .stage_name(*stage)
            .deployment_id(&dep)
            .tracing_enabled(*tracing);
        for (k, v) in *vars {
            req = req.variables(*k, *v);
        }
        req.send().await.unwrap();
    }
    id
}
