//! A YAML (or JSON) document as a small tree that keeps what `check` needs:
//! each node's line, mapping order, and CloudFormation's short-form tags
//! (`!Ref`, `!If`, `!Sub`, ...), which are read as their long forms
//! (`{"Ref": ...}`, `{"Fn::If": ...}`). Parsed by saphyr (YAML 1.2; JSON is
//! valid YAML 1.2, so CDK's JSON output gets lines too).

use saphyr::Scalar;
use saphyr_parser::{Event, Parser, ScalarStyle, Tag};

/// A document that does not parse, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub message: String,
}

pub use super::yaml_tree::{Node, Text, Value, MAX_DEPTH};

/// A collection being read.
struct Open {
    line: u32,
    /// The collection's anchor id (`&name`), 0 for none.
    anchor: usize,
    /// A short-form tag on the collection (`!If [..]`): wrapped at its end.
    intrinsic: Option<String>,
    kind: Kind,
}

enum Kind {
    Seq(Vec<Node>),
    /// Entries so far, and a key waiting for its value (text, line).
    Map(Vec<(Text, Node)>, Option<(Text, u32)>),
}

/// Parses the first document of `text`, straight from the parser's events
/// into the tree (one pass, no intermediate document, no recursion).
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    parse_diverting(text, "", &mut |_, _| {})
}

/// Parses like [`parse`], but hands each entry of the root mapping's
/// `section` mapping (a template's `Resources`) to `divert` as soon as it is
/// read, instead of keeping it: the tree returned has that mapping empty.
/// A large template's resources are then never all in memory at once.
pub fn parse_diverting(
    text: &str,
    section: &str,
    divert: &mut dyn FnMut(&str, Node),
) -> Result<Node, SyntaxError> {
    let mut open: Vec<Open> = Vec::new();
    let mut anchors = super::yaml_anchors::Anchors::default();
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| SyntaxError {
            line: e.marker().line(),
            message: e.info().to_owned(),
        })?;
        let line = u32::try_from(span.start.line()).unwrap_or(u32::MAX);
        let is_seq = matches!(event, Event::SequenceStart(..));
        let refused = |message: String| SyntaxError {
            line: line as usize,
            message,
        };
        let done = match event {
            Event::Scalar(v, style, anchor, tag) => {
                let node = scalar_node(v, style, tag, line);
                anchors.keep(anchor, &node).map_err(refused)?;
                Some(node)
            }
            Event::Alias(id) => Some(anchors.copy(id, open.len(), line).map_err(refused)?),
            Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag) => {
                if open.len() >= MAX_DEPTH {
                    return Err(SyntaxError {
                        line: line as usize,
                        message: format!("nested deeper than {MAX_DEPTH} levels"),
                    });
                }
                let kind = if is_seq {
                    Kind::Seq(Vec::new())
                } else {
                    Kind::Map(Vec::new(), None)
                };
                open.push(Open {
                    line,
                    anchor,
                    intrinsic: tag
                        .filter(|t| !t.is_yaml_core_schema())
                        .map(|t| intrinsic_name(&t)),
                    kind,
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match open.pop() {
                None => None,
                Some(o) => {
                    let anchor = o.anchor;
                    let value = match o.kind {
                        Kind::Seq(mut items) => {
                            items.shrink_to_fit();
                            Value::Seq(items)
                        }
                        Kind::Map(mut entries, _) => {
                            entries.shrink_to_fit();
                            Value::Map(entries)
                        }
                    };
                    let node = wrap(
                        o.intrinsic,
                        Node {
                            line: o.line,
                            key_line: None,
                            value,
                        },
                    );
                    anchors.keep(anchor, &node).map_err(refused)?;
                    Some(node)
                }
            },
            Event::DocumentEnd | Event::StreamEnd => break,
            _ => None,
        };
        let Some(node) = done else { continue };
        // A value of the section's mapping (depth 2, under the root's
        // pending `section` key): handed over, not kept.
        if open.len() == 2 && !section.is_empty() {
            let in_section = matches!(&open[0].kind, Kind::Map(_, Some((k, _))) if k == section);
            if let (true, Kind::Map(_, pending @ Some(_))) = (in_section, &mut open[1].kind) {
                let (key, key_line) = pending.take().unwrap_or_default();
                divert(
                    &key,
                    Node {
                        key_line: Some(key_line),
                        ..node
                    },
                );
                continue;
            }
        }
        match open.last_mut() {
            // The document's root: only the first document is read.
            None => return Ok(node),
            Some(Open {
                kind: Kind::Seq(items),
                ..
            }) => items.push(node),
            Some(Open {
                kind: Kind::Map(entries, pending),
                ..
            }) => match pending.take() {
                None => *pending = Some((key_text(&node), node.line)),
                Some((key, key_line)) => entries.push((
                    key,
                    Node {
                        key_line: Some(key_line),
                        ..node
                    },
                )),
            },
        }
    }
    Ok(Node {
        line: 1,
        key_line: None,
        value: Value::Null,
    })
}

/// `!Ref X` -> `{"Ref": X}`; `!GetAtt a.b` -> `{"Fn::GetAtt": "a.b"}`; ...
fn intrinsic_name(tag: &Tag) -> String {
    if tag.suffix == "Ref" || tag.suffix == "Condition" {
        tag.suffix.clone()
    } else {
        format!("Fn::{}", tag.suffix)
    }
}

fn wrap(intrinsic: Option<String>, node: Node) -> Node {
    match intrinsic {
        None => node,
        Some(name) => Node {
            line: node.line,
            key_line: None,
            value: Value::Map(vec![(name.into(), node)]),
        },
    }
}

/// A scalar, typed as YAML 1.2's core schema says (quoted: a string), or
/// wrapped as an intrinsic function when a short-form tag carries it.
fn scalar_node(
    v: std::borrow::Cow<'_, str>,
    style: ScalarStyle,
    tag: Option<std::borrow::Cow<'_, Tag>>,
    line: u32,
) -> Node {
    let (core, intrinsic) = match tag {
        Some(t) if !t.is_yaml_core_schema() => (None, Some(intrinsic_name(&t))),
        other => (other, None),
    };
    let value = if intrinsic.is_some() {
        // A tagged scalar is the function's argument, as written.
        Value::Str(Text::from(v.as_ref()))
    } else {
        Scalar::parse_from_cow_and_metadata(v, style, core.as_ref())
            .map(|s| scalar(&s))
            .unwrap_or(Value::Null)
    };
    wrap(
        intrinsic,
        Node {
            line,
            key_line: None,
            value,
        },
    )
}

fn scalar(s: &Scalar) -> Value {
    match s {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::Number(*i as f64),
        Scalar::FloatingPoint(f) => Value::Number(f.into_inner()),
        Scalar::String(s) => Value::Str(Text::from(s.as_ref())),
    }
}

/// A mapping key as text (a scalar's text; anything else is no name).
fn key_text(k: &Node) -> Text {
    match &k.value {
        Value::Str(s) => s.clone(),
        Value::Bool(b) => b.to_string().into(),
        Value::Number(n) => n.to_string().into(),
        _ => Text::default(),
    }
}

#[cfg(test)]
#[path = "yaml_tests.rs"]
mod tests;
