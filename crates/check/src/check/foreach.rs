//! `Fn::ForEach` (the `AWS::LanguageExtensions` transform): loops in
//! `Resources` expanded as CloudFormation expands them, so the stages they
//! make are judged like any other. Pure.
//!
//! `'Fn::ForEach::Name': [Identifier, Collection, {OutputKey: Template}]`:
//! the collection is a literal list or a `Ref` to a parameter whose
//! `Default` is a list or a comma-delimited string; `${Identifier}` and
//! `&{Identifier}` (the value with non-alphanumeric characters removed) are
//! replaced in the output key and in strings, `{"Ref": Identifier}` by the
//! value. Loops nest. A loop whose collection is known only at deploy time
//! is not expanded: its resources are reported with the reason.

use std::borrow::Cow;

use super::yaml::{Node, Value};

/// One resource of `Resources`, loops expanded: its logical id, its
/// definition, and why its values cannot be known before deploy, if so.
pub struct Expanded<'a> {
    pub id: String,
    /// Borrowed from the template unless a loop made it (no copy of a
    /// large template's resources).
    pub node: Cow<'a, Node>,
    pub unknown: Option<String>,
}

const PREFIX: &str = "Fn::ForEach::";

/// Resources the loops of one template may make: CloudFormation's own
/// quota of 500 resources per template (it refuses a template past it).
/// Three nested loops of 100 values would make 1,000,000.
pub const MAX_MADE: usize = 500;

/// Every resource of `resources`, each loop expanded (the tests' way in;
/// `check` streams entries through [`entry`]).
#[cfg(test)]
pub fn resources<'a>(resources: &'a Node, params: Option<&Node>) -> Vec<Expanded<'a>> {
    let mut out = Vec::new();
    let mut left = MAX_MADE;
    for (key, node) in resources.entries() {
        out.extend(entry(key, node, params, &mut left));
    }
    out
}

/// One entry of `Resources`: itself, or what its loop makes, within the
/// `left` resources loops may still make in this template. A loop past it
/// is not expanded: its resources, as written, are unknown.
pub fn entry<'a>(
    key: &str,
    node: &'a Node,
    params: Option<&Node>,
    left: &mut usize,
) -> Vec<Expanded<'a>> {
    if !key.starts_with(PREFIX) {
        return vec![Expanded {
            id: key.to_string(),
            node: Cow::Borrowed(node),
            unknown: None,
        }];
    }
    let mut made = Vec::new();
    if expand(key, node, params, &mut made, left).is_err() {
        made.clear();
        let why = format!(
            "{key} makes more than the {MAX_MADE} resources CloudFormation allows in one template; check does not expand it"
        );
        as_written(key, node, &why, &mut made);
    }
    made.into_iter()
        .map(|(id, node, unknown)| Expanded {
            id,
            node: Cow::Owned(node),
            unknown,
        })
        .collect()
}

/// What a loop makes: (logical id, definition, why unknown).
type Made = (String, Node, Option<String>);

/// The loop past the template's quota: `Err`.
struct Overflow;

fn expand(
    key: &str,
    node: &Node,
    params: Option<&Node>,
    out: &mut Vec<Made>,
    left: &mut usize,
) -> Result<(), Overflow> {
    if !key.starts_with(PREFIX) {
        if *left == 0 {
            return Err(Overflow);
        }
        *left -= 1;
        out.push((key.to_owned(), node.clone(), None));
        return Ok(());
    }
    let [identifier, collection, template] = node.items() else {
        return Ok(());
    };
    let Some(identifier) = identifier.as_str() else {
        return Ok(());
    };
    match values(collection, params) {
        Ok(values) => {
            for value in values {
                for (out_key, body) in template.entries() {
                    let id = substitute_text(out_key, identifier, &value);
                    let body = substitute(body, identifier, &value);
                    expand(&id, &body, params, out, left)?;
                }
            }
        }
        Err(why) => {
            // Not expandable before deploy: each templated resource once,
            // under its output key as written, judged UNKNOWN.
            let mut inner = Vec::new();
            for (out_key, body) in template.entries() {
                expand(out_key, body, params, &mut inner, left)?;
            }
            out.extend(inner.into_iter().map(|(id, node, unknown)| {
                (id, node, Some(unknown.unwrap_or_else(|| why.clone())))
            }));
        }
    }
    Ok(())
}

/// A loop's resources as written (nested loops' too), each unknown.
fn as_written(key: &str, node: &Node, why: &str, out: &mut Vec<Made>) {
    if !key.starts_with(PREFIX) {
        out.push((key.to_owned(), node.clone(), Some(why.to_owned())));
        return;
    }
    if let [_, _, template] = node.items() {
        for (k, body) in template.entries() {
            as_written(k, body, why, out);
        }
    }
}

/// The loop's values, or why they are known only at deploy time.
fn values(collection: &Node, params: Option<&Node>) -> Result<Vec<String>, String> {
    let list = match collection.intrinsic() {
        Some(("Ref", name)) => {
            let name = name.as_str().unwrap_or_default();
            let default = params
                .and_then(|p| p.get(name))
                .and_then(|p| p.get("Default"))
                .ok_or_else(|| {
                    format!("Fn::ForEach over parameter {name}, which has no default")
                })?;
            return match &default.value {
                Value::Str(s) => Ok(s.split(',').map(|v| v.trim().to_owned()).collect()),
                Value::Seq(items) => scalars(items),
                _ => Err(format!(
                    "Fn::ForEach over parameter {name}, whose default is not a list"
                )),
            };
        }
        Some((f, _)) => return Err(format!("Fn::ForEach over {f}, known only at deploy time")),
        None => collection.items(),
    };
    scalars(list)
}

fn scalars(items: &[Node]) -> Result<Vec<String>, String> {
    items
        .iter()
        .map(|n| {
            n.scalar_text()
                .ok_or_else(|| "Fn::ForEach over a list holding a computed value".to_owned())
        })
        .collect()
}

/// `${Id}` and `&{Id}` in a text.
fn substitute_text(text: &str, identifier: &str, value: &str) -> String {
    let alnum: String = value.chars().filter(char::is_ascii_alphanumeric).collect();
    text.replace(&format!("${{{identifier}}}"), value)
        .replace(&format!("&{{{identifier}}}"), &alnum)
}

/// `node` with the identifier replaced by `value` everywhere.
fn substitute(node: &Node, identifier: &str, value: &str) -> Node {
    let replaced = match &node.value {
        Value::Map(entries) if matches!(&entries[..], [(k, v)] if k == "Ref" && v.as_str() == Some(identifier)) => {
            Value::Str(value.into())
        }
        Value::Str(s) => Value::Str(substitute_text(s, identifier, value).into()),
        Value::Seq(items) => Value::Seq(
            items
                .iter()
                .map(|n| substitute(n, identifier, value))
                .collect(),
        ),
        Value::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| {
                    (
                        substitute_text(k, identifier, value).into(),
                        substitute(v, identifier, value),
                    )
                })
                .collect(),
        ),
        other => other.clone(),
    };
    Node {
        value: replaced,
        ..node.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::super::yaml::parse;
    use super::*;

    fn ids(text: &str) -> Vec<(String, Option<String>, Option<String>)> {
        let doc = parse(text).unwrap();
        resources(doc.get("Resources").unwrap(), doc.get("Parameters"))
            .into_iter()
            .map(|e| {
                let name = e
                    .node
                    .get("Properties")
                    .and_then(|p| p.get("StageName"))
                    .and_then(Node::scalar_text);
                (e.id, name, e.unknown)
            })
            .collect()
    }

    #[test]
    fn loops_expand_nested_with_both_substitutions_and_parameter_defaults() {
        let got = ids(
            "Transform: AWS::LanguageExtensions\nParameters:\n  Envs:\n    Type: CommaDelimitedList\n    Default: 'prod, dev'\nResources:\n  'Fn::ForEach::Envs':\n    - Env\n    - !Ref Envs\n    - 'Fn::ForEach::Apis':\n        - Api\n        - [orders, pay-ments]\n        - 'Stage&{Api}${Env}':\n            Type: AWS::ApiGateway::Stage\n            Properties:\n              StageName: !Ref Env\n  Plain:\n    Type: AWS::ApiGateway::Stage\n    Properties:\n      StageName: x\n",
        );
        let want: Vec<(String, Option<String>, Option<String>)> = [
            ("Stageordersprod", "prod"),
            ("Stagepaymentsprod", "prod"),
            ("Stageordersdev", "dev"),
            ("Stagepaymentsdev", "dev"),
            ("Plain", "x"),
        ]
        .iter()
        .map(|(id, s)| (id.to_string(), Some(s.to_string()), None))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_collection_known_only_at_deploy_time_is_unknown() {
        let got = ids(
            "Resources:\n  'Fn::ForEach::S':\n    - N\n    - !GetAtt X.Names\n    - 'S${N}':\n        Type: AWS::ApiGateway::Stage\n        Properties:\n          StageName: !Ref N\n",
        );
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "S${N}");
        assert!(
            got[0].2.as_deref().unwrap().contains("Fn::GetAtt"),
            "{got:?}"
        );
    }
}
