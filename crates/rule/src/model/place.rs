//! Where a stage is: [`StageRef`] (account, region, API, stage) and
//! [`AccountRegion`], each with the one parser and the one formatter of
//! every text form the product reads or writes: the stage ARN, the short
//! `account/apiId/stage` form of exemptions, and the finding `Id`. One rule
//! for what an API id and a stage name may hold serves them all.

use std::fmt;

use serde::Serialize;

use super::{cut, quote, AccountId, Partition, Region};

/// API Gateway REST API ids are 10 lowercase letters and digits; anything
/// alphanumeric up to this length is accepted (moto and older ids vary),
/// and nothing longer is ever sent to AWS or written into a finding `Id`.
pub const API_ID_MAX: usize = 64;
/// API Gateway: "Stage names can only contain alphanumeric characters,
/// hyphens, and underscores. Maximum length is 128 characters."
pub const STAGE_NAME_MAX: usize = 128;

/// A character an API id may hold.
pub fn is_api_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// A character a stage name may hold.
pub fn is_stage_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Whether `s` is a REST API id.
pub fn is_api_id(s: &str) -> bool {
    (1..=API_ID_MAX).contains(&s.len()) && s.chars().all(is_api_id_char)
}

/// Whether `s` is a stage name.
pub fn is_stage_name(s: &str) -> bool {
    (1..=STAGE_NAME_MAX).contains(&s.len()) && s.chars().all(is_stage_name_char)
}

/// The form every stage ARN takes (API Gateway ARNs carry no account).
pub const STAGE_ARN_SHAPE: &str =
    "arn:<partition>:apigateway:<region>::/restapis/<apiId>/stages/<stage>";

/// A text that does not name a stage (or an API), and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} is not {what} ({why})", quote(.text))]
pub struct InvalidPlace {
    /// The input, cut to [`super::QUOTE_MAX`] characters.
    pub text: String,
    pub what: &'static str,
    pub why: String,
}

impl InvalidPlace {
    fn new(text: &str, what: &'static str, why: impl Into<String>) -> Self {
        Self {
            text: cut(text),
            what,
            why: why.into(),
        }
    }
}

/// One account in one region: the unit of a session, a pacer, a result row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct AccountRegion {
    pub account: AccountId,
    pub region: Region,
}

impl AccountRegion {
    pub fn new(account: AccountId, region: Region) -> Self {
        Self { account, region }
    }

    /// Every finding `Id` of this account-region written under `generator`
    /// starts with this.
    pub fn finding_id_prefix(&self, generator: &str) -> String {
        format!(
            "{generator}/{}/{}/{}/",
            self.region.partition(),
            self.account,
            self.region
        )
    }

    /// Every finding `Id` of one API's stages starts with this (a change
    /// event reconciles one API).
    pub fn api_finding_id_prefix(&self, generator: &str, api_id: &str) -> String {
        format!("{}{api_id}/", self.finding_id_prefix(generator))
    }

    /// A `ProductArn` with the default product: the importing account must
    /// own the finding, so there is one per member account and region.
    pub fn product_arn(&self) -> String {
        let (account, region) = (&self.account, &self.region);
        format!(
            "arn:{}:securityhub:{region}:{account}:product/{account}/default",
            region.partition()
        )
    }
}

impl fmt::Display for AccountRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "account {} region {}", self.account, self.region)
    }
}

/// One REST API stage, wherever it is named.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct StageRef {
    pub account: AccountId,
    pub region: Region,
    pub api_id: String,
    pub stage: String,
}

impl StageRef {
    pub fn new(account: AccountId, region: Region, api_id: &str, stage: &str) -> Self {
        Self {
            account,
            region,
            api_id: api_id.to_owned(),
            stage: stage.to_owned(),
        }
    }

    pub fn partition(&self) -> Partition {
        self.region.partition()
    }

    pub fn account_region(&self) -> AccountRegion {
        AccountRegion::new(self.account.clone(), self.region)
    }

    /// `arn:<partition>:apigateway:<region>::/restapis/<apiId>/stages/<stage>`,
    /// as Security Hub, IAM and `remediate --stage` spell it.
    pub fn arn(&self) -> String {
        format!(
            "arn:{}:apigateway:{}::/restapis/{}/stages/{}",
            self.partition(),
            self.region,
            self.api_id,
            self.stage
        )
    }

    /// `account/apiId/stage`: the short form of configured exemptions.
    pub fn path(&self) -> String {
        format!("{}/{}/{}", self.account, self.api_id, self.stage)
    }

    /// The finding `Id` under `generator`: deterministic from partition,
    /// account, region, API and stage, so reruns and retries update one
    /// finding instead of adding one.
    pub fn finding_id(&self, generator: &str) -> String {
        format!(
            "{}{}",
            self.account_region()
                .api_finding_id_prefix(generator, &self.api_id),
            self.stage
        )
    }

    /// The stage a finding `Id` written under `generator` names, or `None`
    /// when the `Id` is not of that shape (an older tool, a hand import: not
    /// ours to update or archive).
    pub fn from_finding_id(generator: &str, id: &str) -> Option<Self> {
        let rest = id.strip_prefix(generator)?.strip_prefix('/')?;
        let parts: Vec<&str> = rest.split('/').collect();
        let [partition, account, region, api_id, stage] = parts[..] else {
            return None;
        };
        let region = Region::parse(region).ok()?;
        if region.partition().as_str() != partition || !is_api_id(api_id) || !is_stage_name(stage) {
            return None;
        }
        Some(Self::new(
            AccountId::parse(account).ok()?,
            region,
            api_id,
            stage,
        ))
    }

    /// A stage ARN. It names no account (API Gateway ARNs carry none): the
    /// caller supplies it.
    pub fn from_arn(arn: &str, account: AccountId) -> Result<Self, InvalidPlace> {
        let (region, api_id, stage) = parse_apigateway_arn(arn)?;
        let stage = stage.ok_or_else(|| InvalidPlace::new(arn, "a stage ARN", "no /stages/"))?;
        Ok(Self::new(account, region, &api_id, &stage))
    }
}

impl fmt::Display for StageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stage {} of API {} in account {} region {}",
            self.stage, self.api_id, self.account, self.region
        )
    }
}

/// A stage ARN without its account: what `remediate --stage` names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StageArn {
    pub region: Region,
    pub api_id: String,
    pub stage: String,
}

impl StageArn {
    pub fn parse(arn: &str) -> Result<Self, InvalidPlace> {
        let (region, api_id, stage) = parse_apigateway_arn(arn)?;
        let stage = stage.ok_or_else(|| InvalidPlace::new(arn, "a stage ARN", "no /stages/"))?;
        Ok(Self {
            region,
            api_id,
            stage,
        })
    }

    /// Whether `s` is the stage this ARN names (in any account).
    pub fn names(&self, s: &StageRef) -> bool {
        self.region == s.region && self.api_id == s.api_id && self.stage == s.stage
    }

    pub fn in_account(&self, account: AccountId) -> StageRef {
        StageRef::new(account, self.region, &self.api_id, &self.stage)
    }
}

impl From<&StageRef> for StageArn {
    fn from(s: &StageRef) -> Self {
        Self {
            region: s.region,
            api_id: s.api_id.clone(),
            stage: s.stage.clone(),
        }
    }
}

impl fmt::Display for StageArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:apigateway:{}::/restapis/{}/stages/{}",
            self.region.partition(),
            self.region,
            self.api_id,
            self.stage
        )
    }
}

/// The REST API id in an API Gateway resource ARN (`.../restapis/<id>`,
/// with or without a stage), as TagResource names it; `None` for any other
/// resource (an HTTP API's `/apis/<id>`).
pub fn rest_api_of_arn(arn: &str) -> Option<(Region, String)> {
    parse_apigateway_arn(arn)
        .ok()
        .map(|(region, api, _)| (region, api))
}

/// `arn:<partition>:apigateway:<region>::/restapis/<api>[/stages/<stage>]`.
fn parse_apigateway_arn(arn: &str) -> Result<(Region, String, Option<String>), InvalidPlace> {
    let bad = |why: &str| {
        InvalidPlace::new(
            arn,
            "a stage ARN",
            format!("{why}; expected {STAGE_ARN_SHAPE}"),
        )
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [a, partition, service, region, account, resource] = parts[..] else {
        return Err(bad("too few parts"));
    };
    if a != "arn" || service != "apigateway" || !account.is_empty() {
        return Err(bad("not an API Gateway ARN"));
    }
    let region = Region::parse(region).map_err(|e| bad(&e.to_string()))?;
    if Partition::parse(partition) != Some(region.partition()) {
        return Err(bad("partition and region disagree"));
    }
    let tail = resource
        .strip_prefix("/restapis/")
        .ok_or_else(|| bad("no /restapis/"))?;
    let (api_id, stage) = match tail.split_once("/stages/") {
        Some((api, stage)) => (api, Some(stage)),
        None => (tail, None),
    };
    if !is_api_id(api_id) {
        return Err(bad("the API id is empty or malformed"));
    }
    if stage.is_some_and(|s| !is_stage_name(s)) {
        return Err(bad("the stage name is empty or malformed"));
    }
    Ok((region, api_id.to_owned(), stage.map(str::to_owned)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> AccountId {
        AccountId::parse("111111111111").unwrap()
    }

    fn sample() -> StageRef {
        StageRef::new(
            account(),
            Region::parse("eu-west-1").unwrap(),
            "abc123",
            "prod_v-2",
        )
    }

    #[test]
    fn every_text_form_round_trips() {
        let s = sample();
        assert_eq!(
            s.arn(),
            "arn:aws:apigateway:eu-west-1::/restapis/abc123/stages/prod_v-2"
        );
        assert_eq!(StageRef::from_arn(&s.arn(), account()).unwrap(), s);
        assert_eq!(s.path(), "111111111111/abc123/prod_v-2");
        let id = s.finding_id("gen/x");
        assert_eq!(id, "gen/x/aws/111111111111/eu-west-1/abc123/prod_v-2");
        assert_eq!(StageRef::from_finding_id("gen/x", &id), Some(s.clone()));
        assert!(id.starts_with(&s.account_region().api_finding_id_prefix("gen/x", "abc123")));
        assert!(id.starts_with(&s.account_region().finding_id_prefix("gen/x")));
        let arn = StageArn::parse(&s.arn()).unwrap();
        assert_eq!(arn.to_string(), s.arn());
        assert!(arn.names(&s));
        assert_eq!(arn.in_account(account()), s);
        let cn = StageRef::new(account(), Region::parse("cn-north-1").unwrap(), "a", "b");
        assert!(cn.arn().starts_with("arn:aws-cn:"));
        assert_eq!(StageRef::from_arn(&cn.arn(), account()).unwrap(), cn);
        assert_eq!(
            s.account_region().product_arn(),
            "arn:aws:securityhub:eu-west-1:111111111111:product/111111111111/default"
        );
    }

    #[test]
    fn malformed_places_are_refused() {
        for bad in [
            "arn:aws:apigateway:eu-west-1:111111111111:/restapis/abc/stages/prod",
            "arn:aws:apigateway:moon-1::/restapis/abc/stages/prod",
            "arn:aws-cn:apigateway:eu-west-1::/restapis/abc/stages/prod",
            "arn:aws:apigateway:eu-west-1::/restapis/abc",
            "arn:aws:apigateway:eu-west-1::/restapis//stages/prod",
            "arn:aws:apigateway:eu-west-1::/restapis/a-b/stages/prod",
            "arn:aws:apigateway:eu-west-1::/restapis/abc/stages/pr/od",
            "abc/prod",
        ] {
            assert!(StageArn::parse(bad).is_err(), "{bad}");
        }
        let long = format!(
            "arn:aws:apigateway:eu-west-1::/restapis/{}/stages/prod",
            "a".repeat(10_000)
        );
        let err = StageArn::parse(&long).unwrap_err().to_string();
        assert!(err.len() < 400, "the input is cut: {err}");
        for id in [
            "gen/x/aws/111111111111/eu-west-1/abc/prod/extra",
            "gen/x/aws-cn/111111111111/eu-west-1/abc/prod",
            "gen/x/aws/1111/eu-west-1/abc/prod",
            "gen/y/aws/111111111111/eu-west-1/abc/prod",
            "gen/xaws/111111111111/eu-west-1/abc/prod",
            "gen/x/aws/111111111111/eu-west-1/a_b/prod",
        ] {
            assert_eq!(StageRef::from_finding_id("gen/x", id), None, "{id}");
        }
    }

    #[test]
    fn one_rule_for_api_ids_and_stage_names() {
        assert!(is_api_id("a1b2c3d4e5"));
        for bad in ["", "a-b", "a_b", "a/b", "é"] {
            assert!(!is_api_id(bad), "{bad:?}");
        }
        assert!(!is_api_id(&"a".repeat(API_ID_MAX + 1)));
        assert!(is_stage_name("Prod_v-2"));
        for bad in ["", "a b", "a/b", "a.b"] {
            assert!(!is_stage_name(bad), "{bad:?}");
        }
        assert!(!is_stage_name(&"s".repeat(STAGE_NAME_MAX + 1)));
        assert_eq!(
            rest_api_of_arn("arn:aws:apigateway:eu-west-1::/restapis/abc/stages/prod"),
            Some((Region::parse("eu-west-1").unwrap(), "abc".into()))
        );
        assert_eq!(
            rest_api_of_arn("arn:aws:apigateway:eu-west-1::/apis/abc"),
            None
        );
    }
}
