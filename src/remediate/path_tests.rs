//! Which functions a trace-path fix may change.
use super::*;
use crate::trace_path::{FunctionMode, FunctionState, PathFunction, PathStatus};
use apigw_tracing_rule::testing::stage;

fn failing(arn: &str) -> PathFunction {
    PathFunction {
        function: FunctionRef::parse_arn(arn).unwrap(),
        authorizer: false,
        state: FunctionState {
            mode: FunctionMode::PassThrough,
            role: None,
            otel: Default::default(),
        },
    }
}

fn path(stage_name: &str, tags: &[(&str, &str)], arns: &[&str]) -> PathEvaluation {
    let mut s = stage("api1", stage_name, true);
    for (k, v) in tags {
        s.tags.insert((*k).into(), (*v).into());
    }
    PathEvaluation {
        stage: s,
        status: PathStatus::Failed,
        functions: arns.iter().map(|a| failing(a)).collect(),
        not_traceable: vec![],
        unresolved: vec![],
    }
}

#[test]
fn only_latest_in_covered_accounts_behind_stages_that_do_not_opt_out_is_changed() {
    let own = "arn:aws:lambda:eu-west-1:111111111111:function";
    let (plain, latest, version, alias, shared, foreign) = (
        format!("{own}:plain"),
        format!("{own}:latest:$LATEST"),
        format!("{own}:pinned:7"),
        format!("{own}:aliased:live"),
        format!("{own}:shared"),
        "arn:aws:lambda:eu-west-1:999999999999:function:theirs".to_owned(),
    );
    let paths = [
        path(
            "prod",
            &[],
            &[&plain, &latest, &version, &alias, &shared, &foreign],
        ),
        path("dev", &[(TAG_NO_REMEDIATE, "")], &[&shared]),
        path("qa", &[(crate::exempt::TAG_EXEMPT, "vendor")], &[]),
    ];
    let covered = BTreeSet::from([AccountId::parse("111111111111").unwrap()]);
    let regions = BTreeSet::from([Region::parse("eu-west-1").unwrap()]);
    let scope = Scope {
        accounts: &covered,
        regions: &regions,
    };
    let cfg = crate::config::tests::config(&[]);
    let today = apigw_tracing_rule::testing::today();
    let planned = plan(&paths, &[], &scope, &cfg, today);
    let verdict: Vec<(&str, Option<&str>)> = planned
        .iter()
        .map(|p| (p.function.name.as_str(), p.skip.as_deref()))
        .collect();
    let skip = |name: &str| {
        verdict
            .iter()
            .find(|v| v.0 == name)
            .unwrap()
            .1
            .unwrap_or("")
    };
    assert!(
        verdict.contains(&("plain", None)) && verdict.contains(&("latest", None)),
        "{verdict:?}"
    );
    assert!(skip("pinned").contains("pins published version 7"));
    assert!(skip("aliased").contains("names alias live"));
    assert!(
        skip("shared").contains("tagged apigw-tracing:no-remediate"),
        "{verdict:?}"
    );
    assert!(skip("theirs").contains("not among this remediation's accounts"));
    // --stage limits the paths looked at.
    let named = [crate::model::StageArn::parse(&stage("api1", "dev", true).place.arn()).unwrap()];
    let only_dev = plan(&paths, &named, &scope, &cfg, today);
    assert_eq!(only_dev.len(), 1);
    assert_eq!(only_dev[0].function.name, "shared");
}

#[test]
fn a_function_outside_the_runs_regions_or_partition_is_skipped() {
    let account = "111111111111";
    let arns = [
        format!("arn:aws:lambda:eu-west-1:{account}:function:home"),
        format!("arn:aws:lambda:us-east-1:{account}:function:elsewhere"),
        format!("arn:aws-cn:lambda:cn-north-1:{account}:function:china"),
        format!("arn:aws-us-gov:lambda:us-gov-west-1:{account}:function:gov"),
    ];
    let refs: Vec<&str> = arns.iter().map(String::as_str).collect();
    let paths = [path("prod", &[], &refs)];
    let covered = BTreeSet::from([AccountId::parse(account).unwrap()]);
    let regions = BTreeSet::from([Region::parse("eu-west-1").unwrap()]);
    let scope = Scope {
        accounts: &covered,
        regions: &regions,
    };
    let cfg = crate::config::tests::config(&[]);
    let planned = plan(
        &paths,
        &[],
        &scope,
        &cfg,
        apigw_tracing_rule::testing::today(),
    );
    let skip = |name: &str| {
        planned
            .iter()
            .find(|p| p.function.name == name)
            .unwrap_or_else(|| panic!("{name}: {planned:?}"))
            .skip
            .clone()
    };
    assert_eq!(skip("home"), None);
    assert!(skip("elsewhere")
        .unwrap()
        .contains("region us-east-1 is not among"));
    assert!(skip("china").unwrap().contains("partition aws-cn"));
    assert!(skip("gov").unwrap().contains("partition aws-us-gov"));
}
