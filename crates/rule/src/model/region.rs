//! Regions and partitions. A [`Region`] is one of [`KNOWN_REGIONS`], so it
//! is a `&'static str` underneath: copied, never re-validated.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{cut, quote};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRegion {
    #[error("{} is not a region name (expected something like eu-west-1)", quote(.0))]
    Malformed(String),
    #[error("{} is not a known AWS region where API Gateway and Security Hub run", quote(.0))]
    Unknown(String),
}

/// Regions API Gateway and Security Hub both serve. A name outside this list
/// is refused before any AWS call, so a typo never turns into a silent
/// "0 stages" result or a DNS error per account.
pub const KNOWN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

/// An AWS region where API Gateway and Security Hub run.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Region(&'static str);

impl Serialize for Region {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for Region {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Region::parse(&name).map_err(serde::de::Error::custom)
    }
}

impl Region {
    /// A known region name; anything else is refused before any AWS call, so
    /// a typo never turns into a silent "0 stages" or a DNS error per account.
    pub fn parse(name: &str) -> Result<Self, InvalidRegion> {
        let well_formed = {
            let parts: Vec<&str> = name.split('-').collect();
            parts.len() >= 3
                && parts[..parts.len() - 1]
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
                && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
                && !parts[parts.len() - 1].is_empty()
        };
        if !well_formed {
            return Err(InvalidRegion::Malformed(cut(name)));
        }
        KNOWN_REGIONS
            .iter()
            .find(|r| **r == name)
            .map(|r| Region(r))
            .ok_or_else(|| InvalidRegion::Unknown(cut(name)))
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// The partition the region belongs to.
    pub fn partition(self) -> Partition {
        if self.0.starts_with("cn-") {
            Partition::AwsCn
        } else if self.0.starts_with("us-gov-") {
            Partition::AwsUsGov
        } else {
            Partition::Aws
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.0)
    }
}

impl fmt::Debug for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl PartialEq<&str> for Region {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Parses a list of region names, dropping blanks and duplicates (keeps order).
pub fn parse_regions(raw: &[String]) -> Result<Vec<Region>, InvalidRegion> {
    let mut out: Vec<Region> = Vec::new();
    for item in raw.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let region = Region::parse(item)?;
        if !out.contains(&region) {
            out.push(region);
        }
    }
    Ok(out)
}

/// Regions joined with `,` (for messages and logs).
pub fn join(regions: &[Region]) -> String {
    regions
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// An AWS partition; it prefixes every ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Partition {
    #[serde(rename = "aws")]
    Aws,
    #[serde(rename = "aws-cn")]
    AwsCn,
    #[serde(rename = "aws-us-gov")]
    AwsUsGov,
}

impl Partition {
    pub fn as_str(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsCn => "aws-cn",
            Partition::AwsUsGov => "aws-us-gov",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Partition::Aws, Partition::AwsCn, Partition::AwsUsGov]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_validation() {
        assert!(Region::parse("us-gov-west-1").is_ok());
        assert!(Region::parse("ap-southeast-7").is_ok());
        for bad in ["", "eu-west", "eu--1", "eu-west-1a", "1-2-3", "eu-west-1 "] {
            assert!(
                matches!(Region::parse(bad), Err(InvalidRegion::Malformed(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            Region::parse("eu-moon-1"),
            Err(InvalidRegion::Unknown(_))
        ));
        let r: Region = serde_json::from_str("\"eu-west-1\"").unwrap();
        assert_eq!(serde_json::to_string(&r).unwrap(), "\"eu-west-1\"");
        assert!(serde_json::from_str::<Region>("\"eu-moon-1\"").is_err());
        assert_eq!(
            Region::parse("cn-north-1").unwrap().partition(),
            Partition::AwsCn
        );
        assert_eq!(
            Region::parse("us-gov-east-1").unwrap().partition(),
            Partition::AwsUsGov
        );
    }
}
