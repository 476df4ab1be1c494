//! The one change that fixes a stage, and the one way it is written out
//! for a person (in a finding's remediation text and in the remediate
//! report): the AWS CLI command, each word shell-quoted.

use super::StageRef;

/// The UpdateStage patch operation: `replace` of this path with this value
/// (the adapter sends exactly these). It turns tracing on without a
/// redeploy or a routing change.
pub const PATCH_PATH: &str = "/tracingEnabled";
pub const PATCH_VALUE: &str = "true";

/// The patch as the AWS CLI spells it.
pub fn patch() -> String {
    format!("op=replace,path={PATCH_PATH},value={PATCH_VALUE}")
}

/// The AWS CLI command that turns tracing on for `s`.
pub fn fix_command(s: &StageRef) -> String {
    format!(
        "aws apigateway update-stage --region {} --rest-api-id {} --stage-name {} --patch-operations {}",
        shell_word(s.region.as_str()),
        shell_word(&s.api_id),
        shell_word(&s.stage),
        patch()
    )
}

/// Quotes a word for a POSIX shell unless it is plainly safe.
pub fn shell_word(w: &str) -> String {
    if !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        w.to_owned()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_a_shell_would_split_are_quoted() {
        assert_eq!(shell_word("prod_v-1.2"), "prod_v-1.2");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
