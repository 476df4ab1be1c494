use super::*;
use crate::testing::stage;

const ACCOUNT: &str = "111111111111";

fn lambda_uri(name: &str) -> String {
    format!(
        "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:{ACCOUNT}:function:{name}/invocations"
    )
}

fn integration(
    method: &str,
    t: &str,
    uri: Option<String>,
    authorizer: Option<&str>,
) -> Integration {
    Integration {
        method: method.into(),
        integration_type: t.into(),
        connection_type: None,
        uri,
        authorizer_id: authorizer.map(str::to_owned),
    }
}

fn wiring() -> ApiWiring {
    let mut authorizers = BTreeMap::new();
    for (id, name, t, uri) in [
        ("a1", "jwt", "TOKEN", Some(lambda_uri("auth"))),
        ("a2", "unused", "REQUEST", Some(lambda_uri("never"))),
        ("a3", "pool", "COGNITO_USER_POOLS", None),
    ] {
        authorizers.insert(
            id.to_owned(),
            Authorizer {
                name: name.into(),
                authorizer_type: t.into(),
                uri,
            },
        );
    }
    ApiWiring {
        integrations: vec![
            integration(
                "GET /orders",
                "AWS_PROXY",
                Some(lambda_uri("orders")),
                Some("a1"),
            ),
            integration(
                "POST /orders",
                "AWS_PROXY",
                Some(lambda_uri("orders")),
                Some("a3"),
            ),
            integration("GET /health", "MOCK", None, None),
            integration(
                "GET /pay",
                "AWS_PROXY",
                Some(lambda_uri("${stageVariables.pay}")),
                None,
            ),
        ],
        authorizers,
    }
}

fn state(mode: FunctionMode) -> FunctionState {
    FunctionState {
        mode,
        role: None,
        otel: Default::default(),
    }
}

fn function(name: &str) -> FunctionRef {
    FunctionRef::parse_arn(&format!(
        "arn:aws:lambda:eu-west-1:{ACCOUNT}:function:{name}"
    ))
    .unwrap()
}

#[test]
fn steps_follow_methods_used_authorizers_and_the_stages_own_variables() {
    let mut prod = stage("api1", "prod", true);
    prod.variables.insert("pay".into(), "pay-prod".into());
    let s = steps(&prod, &wiring());
    let names: Vec<(&str, bool)> = s
        .functions
        .iter()
        .map(|(f, a)| (f.name.as_str(), *a))
        .collect();
    // `never` is an authorizer no method uses; Cognito is no function.
    assert_eq!(
        names,
        [("auth", true), ("orders", false), ("pay-prod", false)]
    );
    assert_eq!(
        s.not_traceable.iter().collect::<Vec<_>>(),
        ["GET /health: MOCK integration"]
    );
    assert!(s.unresolved.is_empty());
    // Another stage without the variable cannot resolve that method.
    let dev = stage("api1", "dev", true);
    let s = steps(&dev, &wiring());
    assert_eq!(s.functions.len(), 2);
    assert_eq!(
        s.unresolved.iter().collect::<Vec<_>>(),
        ["GET /pay: stage variable pay is not set on this stage"]
    );
}

#[test]
fn a_path_fails_on_a_passthrough_function_and_is_unknown_only_without_one() {
    let mut prod = stage("api1", "prod", true);
    prod.variables.insert("pay".into(), "pay".into());
    let all = |m: &[(&str, FunctionMode)]| -> BTreeMap<FunctionRef, FunctionState> {
        m.iter()
            .map(|(n, mode)| (function(n), state(mode.clone())))
            .collect()
    };
    let active = FunctionMode::Active;
    let pass = FunctionMode::PassThrough;
    let unknown = FunctionMode::Unknown("AccessDenied".into());
    let cases = [
        (
            all(&[
                ("auth", active.clone()),
                ("orders", active.clone()),
                ("pay", active.clone()),
            ]),
            PathStatus::Passed,
        ),
        (
            all(&[
                ("auth", active.clone()),
                ("orders", pass.clone()),
                ("pay", unknown.clone()),
            ]),
            PathStatus::Failed,
        ),
        (
            all(&[
                ("auth", active.clone()),
                ("orders", active.clone()),
                ("pay", unknown.clone()),
            ]),
            PathStatus::Unknown,
        ),
        // A function not read at all is unknown too.
        (
            all(&[("auth", active.clone()), ("orders", active.clone())]),
            PathStatus::Unknown,
        ),
    ];
    for (read, want) in cases {
        let ev = evaluate(prod.clone(), steps(&prod, &wiring()), &read);
        assert_eq!(ev.status, want, "{read:?}");
    }
    let read = all(&[("auth", active), ("orders", pass), ("pay", unknown)]);
    let ev = evaluate(prod.clone(), steps(&prod, &wiring()), &read);
    let order: Vec<&str> = ev
        .functions
        .iter()
        .map(|f| f.function.name.as_str())
        .collect();
    assert_eq!(
        order,
        ["orders", "pay", "auth"],
        "failing, unknown, then passing"
    );
    assert_eq!(ev.failing().count(), 1);
    // An unresolved stage variable alone makes it unknown.
    let dev = stage("api1", "dev", true);
    let read = all(&[
        ("auth", FunctionMode::Active),
        ("orders", FunctionMode::Active),
    ]);
    assert_eq!(
        evaluate(dev.clone(), steps(&dev, &wiring()), &read).status,
        PathStatus::Unknown
    );
    // A stage with no Lambda function behind it has nothing to fail.
    let only_mock = ApiWiring {
        integrations: vec![integration("GET /", "MOCK", None, None)],
        ..ApiWiring::default()
    };
    let ev = evaluate(dev.clone(), steps(&dev, &only_mock), &BTreeMap::new());
    assert_eq!((ev.status, ev.not_traceable.len()), (PathStatus::Passed, 1));
}
