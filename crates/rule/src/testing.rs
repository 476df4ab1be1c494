//! Test helpers shared by the packages' tests (feature `testing`): a fixed
//! day, and stage records.

use chrono::NaiveDate;

use crate::evaluate::{evaluate, Evaluation};
use crate::exempt::Rules;
use crate::model::{AccountId, Region, StageRecord, StageRef};

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
}

pub fn stage(api: &str, name: &str, tracing: bool) -> StageRecord {
    let place = StageRef::new(
        AccountId::parse("111111111111").unwrap(),
        Region::parse("eu-west-1").unwrap(),
        api,
        name,
    );
    StageRecord {
        api_name: Some(format!("{api}-name")),
        deployment_id: Some("dep1".into()),
        ..StageRecord::new(place, tracing)
    }
}

/// Evaluates with no configured exemptions.
pub fn eval(stage: StageRecord) -> Evaluation {
    evaluate(stage, &Rules::default(), today())
}
