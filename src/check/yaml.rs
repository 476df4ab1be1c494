//! A YAML (or JSON) document as a small tree that keeps what `check` needs:
//! each node's line, mapping order, and CloudFormation's short-form tags
//! (`!Ref`, `!If`, `!Sub`, ...), which are read as their long forms
//! (`{"Ref": ...}`, `{"Fn::If": ...}`). Parsed by saphyr (YAML 1.2; JSON is
//! valid YAML 1.2, so CDK's JSON output gets lines too).

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys in document order.
    Map(Vec<(String, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// 1-based line of the node's first character.
    pub line: usize,
    /// For a mapping's value: the line of its key (a resource's logical id).
    pub key_line: Option<usize>,
    pub value: Value,
}

/// A document that does not parse, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub message: String,
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(String, Node)] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    /// The one key of a single-key mapping (an intrinsic function such as
    /// `Ref` or `Fn::If`), with its argument.
    pub fn intrinsic(&self) -> Option<(&str, &Node)> {
        match self.entries() {
            [(k, v)] if k == "Ref" || k.starts_with("Fn::") || k == "Condition" => Some((k, v)),
            _ => None,
        }
    }

    /// A scalar as text (for names and tag values).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// Parses the first document of `text`.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let docs = MarkedYaml::load_from_str(text).map_err(|e| SyntaxError {
        line: e.marker().line(),
        message: e.info().to_owned(),
    })?;
    let Some(doc) = docs.into_iter().next() else {
        return Ok(Node {
            line: 1,
            key_line: None,
            value: Value::Null,
        });
    };
    Ok(convert(&doc))
}

fn convert(y: &MarkedYaml) -> Node {
    let line = y.span.start.line();
    let value = match &y.data {
        YamlData::Value(s) => scalar(s),
        YamlData::Representation(text, _, _) => Value::Str(text.to_string()),
        YamlData::Sequence(items) => Value::Seq(items.iter().map(convert).collect()),
        YamlData::Mapping(map) => Value::Map(
            map.iter()
                .map(|(k, v)| {
                    let mut node = convert(v);
                    node.key_line = Some(k.span.start.line());
                    (key_text(k), node)
                })
                .collect(),
        ),
        YamlData::Tagged(tag, inner) => {
            // !Ref X -> {"Ref": X}; !GetAtt a.b -> {"Fn::GetAtt": "a.b"}; ...
            let name = if tag.suffix == "Ref" || tag.suffix == "Condition" {
                tag.suffix.clone()
            } else {
                format!("Fn::{}", tag.suffix)
            };
            Value::Map(vec![(name, convert(inner))])
        }
        YamlData::Alias(_) | YamlData::BadValue => Value::Null,
    };
    Node {
        line,
        key_line: None,
        value,
    }
}

fn scalar(s: &Scalar) -> Value {
    match s {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::Number(*i as f64),
        Scalar::FloatingPoint(f) => Value::Number(f.into_inner()),
        Scalar::String(s) => Value::Str(s.to_string()),
    }
}

fn key_text(k: &MarkedYaml) -> String {
    match &k.data {
        YamlData::Value(s) => match scalar(s) {
            Value::Str(s) => s,
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        },
        YamlData::Representation(text, _, _) => text.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_form_tags_read_as_long_forms_with_lines() {
        let doc = parse(
            "Resources:\n  Stage:\n    Type: AWS::ApiGateway::Stage\n    Properties:\n      TracingEnabled: !Ref Tracing\n      StageName: !Sub '${Env}-api'\n",
        )
        .unwrap();
        let stage = doc.get("Resources").unwrap().get("Stage").unwrap();
        assert_eq!((stage.key_line, stage.line), (Some(2), 3));
        let props = stage.get("Properties").unwrap();
        let (f, arg) = props.get("TracingEnabled").unwrap().intrinsic().unwrap();
        assert_eq!((f, arg.as_str()), ("Ref", Some("Tracing")));
        assert_eq!(
            props.get("StageName").unwrap().intrinsic().unwrap().0,
            "Fn::Sub"
        );
    }

    #[test]
    fn json_parses_with_lines_and_errors_say_where() {
        let doc = parse("{\n  \"Resources\": {\n    \"S\": {\"Type\": \"x\"}\n  }\n}").unwrap();
        assert_eq!(
            doc.get("Resources").unwrap().get("S").unwrap().key_line,
            Some(3)
        );
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.line >= 1, "{err:?}");
    }
}
