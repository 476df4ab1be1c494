use super::*;

fn parse(argv: &[&str]) -> Result<Config, ConfigError> {
    ScanArgs::from_args(argv.iter().copied())
        .unwrap()
        .validate()
}

/// Settings from CLI-style arguments, for the other modules' tests.
pub(crate) fn config(argv: &[&str]) -> Config {
    parse(argv).unwrap()
}

#[test]
fn defaults_scan_the_organization_with_the_default_role() {
    let c = parse(&[]).unwrap();
    assert_eq!(c.accounts, AccountSource::Organization);
    assert_eq!(c.assume.role_name, "apigw-tracing-scan");
    assert_eq!(c.limits.apigw_rps.get(), 5);
    assert!(!c.dry_run);
    assert!(c.regions.is_empty());
}

#[test]
fn lists_are_split_trimmed_and_deduplicated() {
    let c = parse(&[
        "--accounts",
        "111111111111, 222222222222,111111111111,",
        "--regions",
        "eu-west-1,us-east-1,eu-west-1",
    ])
    .unwrap();
    let ids: Vec<_> = match c.accounts {
        AccountSource::Fixed(v) => v.into_iter().map(String::from).collect(),
        other => panic!("{other:?}"),
    };
    assert_eq!(ids, ["111111111111", "222222222222"]);
    assert_eq!(c.regions, ["eu-west-1", "us-east-1"]);
}

#[test]
fn bad_values_are_rejected_with_the_setting_named() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--accounts", "12345"],
            "--accounts (APIGW_TRACING_ACCOUNTS): invalid AWS account id \"12345\"",
        ),
        (
            &["--exclude-accounts", "abcdefghijkl"],
            "--exclude-accounts (APIGW_TRACING_EXCLUDE_ACCOUNTS): invalid AWS account id",
        ),
        (
            &["--regions", "EU_WEST_1"],
            "--regions (APIGW_TRACING_REGIONS): \"EU_WEST_1\" is not a region name",
        ),
        (
            &["--regions", "eu-west-9"],
            "\"eu-west-9\" is not a known AWS region",
        ),
        (
            &["--role-name", "bad role"],
            "--role-name (APIGW_TRACING_ROLE_NAME): \"bad role\" is not a valid IAM role name",
        ),
        (
            &["--external-id", "x"],
            "--external-id (APIGW_TRACING_EXTERNAL_ID): must be 2-1224",
        ),
        (
            &["--session-name", "a"],
            "--session-name (APIGW_TRACING_SESSION_NAME)",
        ),
        (
            &["--exemptions", "[{\"stage\": \"a/b/c\"}]"],
            "--exemptions (APIGW_TRACING_EXEMPTIONS): ",
        ),
    ];
    for (argv, want) in cases {
        let err = crate::report::chain(&parse(argv).unwrap_err());
        assert!(err.contains(want), "{argv:?}: {err}");
    }
}

#[test]
fn an_empty_external_id_means_none() {
    assert_eq!(
        parse(&["--external-id", ""]).unwrap().assume.external_id,
        None
    );
    assert_eq!(
        parse(&["--external-id", "abc-123"])
            .unwrap()
            .assume
            .external_id
            .as_deref(),
        Some("abc-123")
    );
}

#[test]
fn unreadable_values_name_the_variable() {
    let err = ScanArgs::from_args(["--apigw-rps", "fast"]).unwrap_err();
    let msg = ConfigError::from_clap(&err).to_string();
    assert!(
        msg.starts_with("--apigw-rps (APIGW_TRACING_APIGW_RPS): invalid value 'fast'"),
        "{msg}"
    );
    assert!(!msg.contains('\n'), "{msg}");
}

#[test]
fn the_trace_path_is_off_by_default_and_the_bare_flag_turns_it_on() {
    assert_eq!(parse(&[]).unwrap().trace_path, TracePathMode::Off);
    assert_eq!(
        parse(&["--trace-path"]).unwrap().trace_path,
        TracePathMode::On
    );
    assert_eq!(
        parse(&["--trace-path", "on"]).unwrap().trace_path,
        TracePathMode::On
    );
    assert_eq!(
        parse(&["--trace-path", "off"]).unwrap().trace_path,
        TracePathMode::Off
    );
    // A value it does not know is refused, naming the setting.
    let e = ScanArgs::from_args(["--trace-path", "yes"]).unwrap_err();
    let msg = ConfigError::from_clap(&e).to_string();
    assert!(
        msg.contains("--trace-path (APIGW_TRACING_TRACE_PATH)"),
        "{msg}"
    );
}
